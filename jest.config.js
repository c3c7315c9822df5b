// ts-jest 29.4 with TypeScript 5.9 (ts-jest does not support TypeScript 7 yet) and jest 29.
// Everything is CommonJS, so no ESM flags or experimental VM modules are needed.
/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', isolatedModules: true }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  // tests that run real tools (dpkg, apt-cache, sshd) can wait on a busy 2-core machine: a
  // timeout here means a hang, not slowness. A global option: inside a project jest ignores it.
  testTimeout: 60_000,
  testSequencer: '<rootDir>/test/e2e-sequencer.js',
  globalSetup: '<rootDir>/test/global-setup.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/{runner,modules,semantics}/**/*.test.ts'] },
    // the e2e suites share one lab: run them one file at a time
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
