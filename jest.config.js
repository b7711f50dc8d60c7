// Two projects: fast unit tests beside the code (no root needed) and spec-tests that run
// real containers as root. TypeScript is stripped by esbuild, the same compiler as the bundle.
const transform = { '^.+\\.ts$': '<rootDir>/scripts/jest-esbuild.js' };
module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts'], transform, testEnvironment: 'node' },
    { displayName: 'spec', testMatch: ['<rootDir>/spec-tests/**/*.test.ts'], transform, testEnvironment: 'node' },
  ],
};
