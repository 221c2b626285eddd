/** @type {import('jest').Config} */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  // The relay and the tests use the SDK's sources directly, so no build is needed to test.
  moduleNameMapper: {
    '^@remoted/sdk$': '<rootDir>/sdk/src/index.ts',
    '^@remoted/sdk/(.*)$': '<rootDir>/sdk/src/$1',
  },
  testTimeout: 30_000,
};
