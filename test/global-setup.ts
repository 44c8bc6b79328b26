import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { applyTestContext } from './helpers/context';
import { type Acknowledgement, synthesizeApp } from './helpers/synth';

/**
 * Synthesizes every environment once for the whole suite; test files read the templates
 * from the assembly directory instead of synthesizing again.
 */
export default function setup(project: TestProject): () => void {
  applyTestContext();
  const { assembly, acknowledgements } = synthesizeApp();
  project.provide('assemblyDir', assembly.directory);
  project.provide('acknowledgements', [...acknowledgements]);
  return () => rmSync(assembly.directory, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    assemblyDir: string;
    acknowledgements: Acknowledgement[];
  }
}
