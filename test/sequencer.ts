import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that read the shared synth (directly or through the review fixtures). */
const NEEDS_ASSEMBLY = /\bsharedSynth\b|\bcopyAssembly\b/;

/**
 * Vitest's order (slowest first, from its cache), except that files which need the shared
 * synth go last: the synth runs in the background while the others keep both cores busy.
 */
export class AssemblyLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const needs = (f: TestSpecification) => NEEDS_ASSEMBLY.test(readFileSync(f.moduleId, 'utf8'));
    return [...sorted.filter((f) => !needs(f)), ...sorted.filter(needs)];
  }
}
