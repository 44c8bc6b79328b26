/**
 * The suite's shared synth, run by test/global-setup.ts as a process of its own so that test
 * files which need no assembly (Lambdas, PGlite) run meanwhile. Usage: <dir>; writes the
 * assembly to <dir>/assembly, then <dir>/result.json (acknowledgements) or <dir>/failed.json.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyTestContext } from './context';
import { synthesizeApp } from './synth';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: shared-synth-process.ts <directory>');
  process.exit(2);
}

/** Written under another name first: a reader never sees half a file. */
function publish(name: string, value: unknown): void {
  const temp = join(dir as string, `.${name}`);
  writeFileSync(temp, JSON.stringify(value));
  renameSync(temp, join(dir as string, name));
}

applyTestContext();
try {
  const { acknowledgements } = synthesizeApp(undefined, { outdir: join(dir, 'assembly') });
  publish('result.json', { acknowledgements });
} catch (error) {
  // The stack goes to the suite's output; the waiting files get the message (a stack inside
  // their error would be read by vitest as their own frames).
  console.error('shared synth failed:', error);
  publish('failed.json', { message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
}
