import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that read the shared synth (directly or through the review fixtures). */
const NEEDS_ASSEMBLY = /\bsharedSynth\b|\bcopyAssembly\b/;

/**
 * Vitest's order (slowest first, from its cache), except that files which need the shared
 * synth go last: the synth runs in the background while the others keep both cores busy.
 */
class AssemblyLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const needs = (f: TestSpecification) => NEEDS_ASSEMBLY.test(readFileSync(f.moduleId, 'utf8'));
    return [...sorted.filter((f) => !needs(f)), ...sorted.filter(needs)];
  }
}

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
