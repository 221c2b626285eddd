/**
 * The wire protocol's names and numbers, as the SDK's users import them
 * (`@remoted/sdk/protocol`). They live in wire/protocol.ts, beside the codecs.
 */
export * from './wire/protocol';
