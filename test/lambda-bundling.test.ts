import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEsbuild } from '../lib/lambda-bundling';

// One real bundle (the cdk synth of CI makes the other six): what the app deploys is this output.
let out: string;
let code: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'fa-ai-bundle-'));
  expect(new LocalEsbuild('db-migrate', ['lambdas/db-migrate/migrations']).tryBundle(out)).toBe(true);
  code = readFileSync(join(out, 'index.js'), 'utf8');
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

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

  it('writes a source map without the sources', () => {
    const map = JSON.parse(readFileSync(join(out, 'index.js.map'), 'utf8'));
    expect(map.sources.some((s: string) => s.endsWith('lambdas/db-migrate/handler.ts'))).toBe(true);
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
