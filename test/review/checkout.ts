import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project this test runs in: its tracked files are the commit that gets checked out. */
export const PROJECT = join(__dirname, '..', '..');

/** Files tracked by git, as they are in the working tree (a file deleted there is left out). */
function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: PROJECT, encoding: 'utf8' });
  return out.split('\0').filter((file) => file !== '' && existsSync(join(PROJECT, file)));
}

/** One edit of a checkout: `from` must be in the file, so an app change cannot void the test. */
export interface Edit {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/**
 * A checkout of this commit at `dir`, as actions/checkout leaves one, with `npm ci` done by
 * linking the project's node_modules. `context` is written to cdk.context.json (ignored by
 * git, read by `cdk synth`), e.g. to synthesize one environment instead of three.
 */
export function checkout(dir: string, options: { edits?: readonly Edit[]; context?: object } = {}): void {
  for (const file of trackedFiles()) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(PROJECT, file), join(dir, file));
  }
  symlinkSync(join(PROJECT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (options.context) writeFileSync(join(dir, 'cdk.context.json'), JSON.stringify(options.context));
  for (const edit of options.edits ?? []) {
    const path = join(dir, edit.file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(edit.from))
      throw new Error(`${edit.file} no longer contains ${JSON.stringify(edit.from)}`);
    writeFileSync(path, text.replace(edit.from, edit.to));
  }
}
