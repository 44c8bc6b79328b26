import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * Settings of the runtimes, inherited by the workers, the shared synth and every process a
 * test starts (the workflow test hands them to its runner). Neither changes what is computed.
 * - Node's on-disk V8 code cache (Node >= 22.1; older versions ignore it): each of those
 *   processes compiles aws-cdk-lib, the SDK or the CDK CLI again otherwise. Entries are checked
 *   against the source's hash, so a changed file is compiled afresh.
 * - esbuild is a Go program, and Go's collector runs on the other core: with GOGC=400 it
 *   collects a quarter as often, ~30% less CPU per bundle for ~80 MB more memory.
 */
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, 'node_modules', '.cache', 'node-compile-cache');
process.env.GOGC ??= '400';

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
