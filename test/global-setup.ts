import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Starts the suite's one synth of every environment in a process of its own and returns at
 * once: test files that need no assembly run meanwhile (test/sequencer.ts runs them first),
 * the others wait for it in sharedSynth().
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fa-ai-shared-synth-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'helpers', 'shared-synth-process.ts'), dir],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      writeFileSync(join(dir, 'exit.json'), JSON.stringify({ error: error.message }));
      resolve();
    });
    child.on('exit', (code, signal) => {
      // A crash that wrote no result must still wake the waiting test files.
      if (code !== 0) writeFileSync(join(dir, 'exit.json'), JSON.stringify({ code, signal }));
      resolve();
    });
  });
  project.provide('sharedSynthDir', dir);
  return async () => {
    child.kill();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedSynthDir: string;
  }
}
