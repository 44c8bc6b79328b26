import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEsbuild, lambdaBuildOptions, PROJECT_ROOT } from '../lib/lambda-bundling';
import { bundleDir } from './bundles/bundles';

// One real bundle (the cdk synth of CI makes the other six): what the app deploys is this output.
let out: string;
let code: string;

beforeAll(() => {
  out = bundleDir('db-migrate');
  code = readFileSync(join(out, 'index.js'), 'utf8');
});

describe('LocalEsbuild', () => {
  it('writes one minified CommonJS file that exports the handler, under 300 KB', () => {
    expect(code).toMatch(/module\.exports=/);
    expect(code).toMatch(/\bhandler:\(\)=>/);
    expect(statSync(join(out, 'index.js')).size).toBeLessThanOrEqual(300 * 1024);
  });

  it('leaves the AWS SDK to the runtime and bundles everything else', () => {
    expect(code).toContain('require("@aws-sdk/client-secrets-manager")');
    expect(code).not.toMatch(/require\("(pg|zod|@aws-lambda-powertools\/[a-z-]+)"\)/);
  });

  it('keeps class names, which tell the errors apart', () => {
    expect(code).toContain('"MigrationFailedError")');
  });

  it('writes a source map without the sources, naming them by their path in the project', () => {
    const map = JSON.parse(readFileSync(join(out, 'index.js.map'), 'utf8'));
    expect(map.sources).toContain('lambdas/db-migrate/handler.ts');
    expect(map.sources.filter((s: string) => !/^(lambdas|core|node_modules)\/[^.]/.test(s))).toEqual([]);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('copies the folders a function reads at run time next to the bundle', () => {
    expect(existsSync(join(out, 'migrations', '0001_core_schema.sql'))).toBe(true);
  });

  it('fails the synth, naming the entry, when a function does not build', () => {
    const broken = mkdtempSync(join(tmpdir(), 'fa-ai-bundle-'));
    try {
      expect(() => new LocalEsbuild('no-such-function').tryBundle(broken)).toThrow(/no-such-function/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('tells functions apart in the JSON CDK keys its asset cache on', () => {
    const key = (b: LocalEsbuild) => JSON.stringify(b);
    expect(key(new LocalEsbuild('health-check'))).not.toBe(key(new LocalEsbuild('budget-guard')));
    expect(key(new LocalEsbuild('db-migrate'))).not.toBe(key(new LocalEsbuild('db-migrate', ['x'])));
    expect(key(new LocalEsbuild('health-check'))).toBe(key(new LocalEsbuild('health-check')));
  });
});

describe('a bundle built in another checkout of the same commit', () => {
  const NAME = 'traffic-rollback';
  let copies: string;
  let elsewhere: string;

  /**
   * A checkout at another place and depth: the function's sources, the bundling code and its
   * configuration, and the files esbuild reads from node_modules (copied, not linked: esbuild
   * names a linked file by its real path). Only the bundler itself is linked.
   */
  function checkout(root: string): void {
    const inputs = Object.keys(buildSync({ ...lambdaBuildOptions(NAME), metafile: true }).metafile.inputs);
    const packageFiles = inputs.flatMap((input) =>
      input
        .split('/')
        .map((_, i, parts) => [...parts.slice(0, i), 'package.json'].join('/'))
        .filter((file) => file.startsWith('node_modules/') && existsSync(join(PROJECT_ROOT, file))),
    );
    for (const file of new Set([
      'lib/lambda-bundling.ts',
      'package.json',
      'tsconfig.json',
      'lambdas',
      ...inputs,
      ...packageFiles,
    ])) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      cpSync(join(PROJECT_ROOT, file), join(root, file), { recursive: true });
    }
    for (const bundler of ['esbuild', '@esbuild']) {
      symlinkSync(join(PROJECT_ROOT, 'node_modules', bundler), join(root, 'node_modules', bundler));
    }
  }

  beforeAll(async () => {
    copies = mkdtempSync(join(tmpdir(), 'fa-ai-checkout-'));
    const root = join(copies, 'somewhere', 'else');
    checkout(root);
    // The copy's own bundling code: its PROJECT_ROOT is the copy.
    const copied: typeof import('../lib/lambda-bundling') = await import(
      join(root, 'lib', 'lambda-bundling.ts')
    );
    expect(copied.PROJECT_ROOT).toBe(root);
    elsewhere = join(copies, 'out');
    mkdirSync(elsewhere);
    new copied.LocalEsbuild(NAME).tryBundle(elsewhere);
  });
  afterAll(() => rmSync(copies, { recursive: true, force: true }));

  it('is byte for byte the bundle of this checkout', () => {
    expect(readFileSync(join(elsewhere, 'index.js'), 'utf8')).toBe(
      readFileSync(join(bundleDir(NAME), 'index.js'), 'utf8'),
    );
  });

  it('has byte for byte the source map of this checkout', () => {
    const map = (dir: string) => readFileSync(join(dir, 'index.js.map'), 'utf8');
    const sources = (text: string) => (JSON.parse(text) as { sources: string[] }).sources;
    expect(sources(map(elsewhere))).toEqual(sources(map(bundleDir(NAME))));
    expect(map(elsewhere)).toBe(map(bundleDir(NAME)));
  });
});
