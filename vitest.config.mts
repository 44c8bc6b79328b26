import { defineConfig } from 'vitest/config';
import { AssemblyLastSequencer } from './test/sequencer';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // CDK synths are CPU-bound and hold large trees: one process per file isolates them.
    pool: 'forks',
    // Vitest's default for `run` is one worker less than the cores: one worker on this 2-core
    // machine. The suite is CPU-bound, so it uses both.
    maxWorkers: 2,
    // Files share a worker's module cache: aws-cdk-lib and the SDK load once per worker, not
    // once per file (import time 36 s -> 7 s). Tests reset their own mocks.
    isolate: false,
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    sequence: { sequencer: AssemblyLastSequencer },
    testTimeout: 30_000,
    // beforeAll synthesizes every environment of a file once.
    hookTimeout: 120_000,
    allowOnly: false,
    passWithNoTests: false,
  },
});
