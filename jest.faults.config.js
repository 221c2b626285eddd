/**
 * The fault and load suite (`npm run test:faults`): real processes and sockets,
 * slower than `npm test`, so it has its own match. Same transform and module
 * mapping as jest.config.js. Run in band under `node --expose-gc` (the leak
 * case forces GC).
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/*.fault-spec.ts'],
  testTimeout: 120_000,
};
