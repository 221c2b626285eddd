/** The `@remoted/sdk/fetch` subpath (kept apart so that the main entry does not load undici); the code is dial/fetch.ts. */
export * from './dial/fetch';
