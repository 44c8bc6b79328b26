import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';

/**
 * The synth process's own code (the helpers and lib/, not node_modules) bundled into one file
 * run by plain node: under `node --import tsx` every module aws-cdk-lib loads also goes through
 * tsx's resolver and ESM check, ~2-3 s of the synth's ~15 s of CPU. Each file keeps its own
 * __dirname (lib/ finds cdk.json, the migrations and the Lambda entries from it) and class
 * names, so the assembly is the one tsx makes (the templates byte for byte).
 */
async function bundleSynthProcess(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(__dirname, 'helpers', 'shared-synth-process.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    keepNames: true,
    sourcemap: 'inline',
    logLevel: 'warning',
    plugins: [
      {
        name: 'own-dirname',
        setup(esbuild) {
          esbuild.onLoad({ filter: /\.ts$/ }, (file) => ({
            loader: 'ts',
            // On the first line: stack traces keep their line numbers.
            contents: `var __dirname = ${JSON.stringify(dirname(file.path))}, __filename = ${JSON.stringify(file.path)};${readFileSync(file.path, 'utf8')}`,
          }));
        },
      },
    ],
  });
}

/**
 * Starts the suite's one synth of every environment in a process of its own and returns at
 * once: test files that need no assembly run meanwhile (test/sequencer.ts runs them first),
 * the others wait for it in sharedSynth().
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'fa-ai-shared-synth-'));
  // Inside the project, where its require() calls find node_modules.
  const cache = join(__dirname, '..', 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const scriptDir = mkdtempSync(join(cache, 'fa-ai-shared-synth-'));
  const script = join(scriptDir, 'shared-synth-process.cjs');
  await bundleSynthProcess(script);
  const child = spawn(process.execPath, ['--enable-source-maps', script, dir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
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
    rmSync(scriptDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedSynthDir: string;
  }
}
