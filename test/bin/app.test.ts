import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

/** Runs bin/app.ts as the CDK CLI does, with extra context. */
function runApp(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'fa-ai-bin-'));
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bin/app.ts'],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...JSON.parse(process.env.CDK_CONTEXT_JSON ?? '{}'), ...context }),
      },
      timeout: 60_000,
    },
  );
  return { ...result, outdir };
}

describe('bin/app.ts', () => {
  it('fails with a message naming the unknown environment and the valid ones', () => {
    const result = runApp({ env: 'qa' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Unknown environment 'qa': expected one of dev, staging, prod");
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
