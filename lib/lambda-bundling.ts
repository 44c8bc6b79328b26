import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ILocalBundling } from 'aws-cdk-lib';
import { type BuildOptions, buildSync } from 'esbuild';

/** The repository root: entries and copied folders are resolved from here. */
export const PROJECT_ROOT = path.join(__dirname, '..');

/** The handler file of a Lambda: `lambdas/<name>/handler.ts`. */
export function lambdaEntry(name: string): string {
  return path.join(PROJECT_ROOT, 'lambdas', name, 'handler.ts');
}

/**
 * The Lambdas of this project, sorted: the folders under lambdas/ with a handler.ts, but
 * lambdas/shared (its handler.ts is the frame the functions share, not a function).
 */
export function lambdaNames(): string[] {
  return readdirSync(path.join(PROJECT_ROOT, 'lambdas'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
    .filter((entry) => existsSync(lambdaEntry(entry.name)))
    .map((entry) => entry.name)
    .sort();
}

/**
 * The esbuild options of every Lambda bundle: one file, minified, CommonJS for Node.js 22,
 * the AWS SDK left to the runtime (it ships v3; bundling it again only grows the package).
 * The benchmark builds with the same options, so what it measures is what deploys.
 *
 * keepNames: the automation's errors are told apart by `name` (Lambda's errorType, Step
 * Functions' Error, the CLI, logs and pages), and minifying would rename their classes.
 *
 * Nothing is written: esbuild writes the map's `sources` relative to the outfile's folder, so
 * the outfile is placed at the project root and {@link writeLambdaBundle} puts the files where
 * they go. The map then holds project paths (`lambdas/<name>/handler.ts`), the same in every
 * checkout, so the bundle's bytes and asset hash do not depend on where the checkout lives;
 * `--enable-source-maps` shows those paths under the function's folder in stack traces.
 */
export function lambdaBuildOptions(name: string): BuildOptions & { write: false } {
  return {
    entryPoints: [lambdaEntry(name)],
    absWorkingDir: PROJECT_ROOT,
    outfile: path.join(PROJECT_ROOT, 'index.js'),
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    external: ['@aws-sdk/*'],
    logLevel: 'warning',
  };
}

/**
 * Bundles a Lambda into `outputDir` (`index.js` and `index.js.map`). Throws with esbuild's
 * messages when the code does not build.
 */
export function writeLambdaBundle(name: string, outputDir: string): void {
  for (const file of buildSync(lambdaBuildOptions(name)).outputFiles) {
    writeFileSync(path.join(outputDir, path.basename(file.path)), file.contents);
  }
}

/**
 * Bundles a Lambda with the esbuild API in this process. NodejsFunction's own bundling runs
 * `npx --no-install esbuild` once per function, and starting npm seven times was a third of
 * `cdk synth`; the esbuild binary is the same.
 *
 * The fields are public on purpose: CDK keys its asset cache on the JSON of the bundling
 * options, so they are what tells two functions apart (and lets the three environments share
 * one bundle of each function).
 */
export class LocalEsbuild implements ILocalBundling {
  /**
   * @param name the folder under lambdas/
   * @param copyDirectories folders (relative to the project root) copied next to the bundle
   */
  constructor(
    public readonly name: string,
    public readonly copyDirectories: readonly string[] = [],
  ) {}

  tryBundle(outputDir: string): boolean {
    // Throws (with esbuild's messages) when the code does not build: synth stops there.
    writeLambdaBundle(this.name, outputDir);
    for (const dir of this.copyDirectories) {
      cpSync(path.join(PROJECT_ROOT, dir), path.join(outputDir, path.basename(dir)), { recursive: true });
    }
    // true: never fall back to Docker bundling, which this project does not use.
    return true;
  }
}
