import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GITHUB_COMMENT_LIMIT,
  REVIEW_MARKER,
  type ReviewCommandArgs,
  type ReviewResult,
  renderMarkdown,
  reviewAssemblies,
  runReviewCommand,
} from '../../lib/review';
import {
  addStackLike,
  copyAssembly,
  editTemplate,
  findLogicalId,
  removeCopies,
  resource,
  sharedAssemblyCopy,
  writeValidationReport,
} from './fixtures';

const root = join(__dirname, '..', '..');
const DEV_STATEFUL = 'fa-ai-system-dev-stateful';
const DEV_SERVICE = 'fa-ai-system-dev-service';

let base: string;
let blocked: string;
let dbId: string;
let cwd: string;

beforeAll(async () => {
  base = await sharedAssemblyCopy();
  dbId = findLogicalId(base, DEV_STATEFUL, 'AWS::RDS::DBInstance', '/Database/Instance/');
  // DBName forces replacement of the dev database: one BLOCKER.
  blocked = copyAssembly(base);
  editTemplate(blocked, DEV_STATEFUL, (t) => {
    resource(t, dbId).Properties.DBName = 'renamed_db';
  });
  // An empty working directory: no review-acknowledgements.json unless a test writes one.
  cwd = mkdtempSync(join(tmpdir(), 'fa-ai-review-cwd-'));
});
afterAll(() => {
  removeCopies();
  rmSync(cwd, { recursive: true, force: true });
});

/** Runs the command as bin/review.ts does, capturing what it prints. */
async function run(args: ReviewCommandArgs, deps: { cwd?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReviewCommand(args, {
    cwd: deps.cwd ?? cwd,
    today: '2030-06-15',
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('Markdown comment', () => {
  it('says plainly that nothing changes, after the marker', async () => {
    const { code, stdout } = await run({ base, head: copyAssembly(base) });
    expect(code).toBe(0);
    expect(stdout.startsWith(`${REVIEW_MARKER}\n`)).toBe(true);
    expect(stdout).toContain('## Infrastructure review: no changes');
    expect(stdout).toContain('**No changes.**');
    expect(stdout).not.toContain('<details>');
  });

  it('puts the summary first: counts per environment, then each blocker by name with what forces it', async () => {
    const { code, stdout } = await run({ base, head: blocked });
    expect(code).toBe(1);
    const summary = stdout.slice(0, stdout.indexOf('<details>'));
    expect(summary).toContain('| dev | 1 | 0 | 0 | 0 | 0 |');
    expect(summary).toContain('| prod | 0 | 0 | 0 | 0 | 0 |');
    const blocker = summary.split('\n').find((line) => line.startsWith('- **dev**'));
    expect(blocker).toContain(`\`${DEV_STATEFUL}\` · \`${dbId}\` \`AWS::RDS::DBInstance\``);
    expect(blocker).toContain(`\`${DEV_STATEFUL}/Database/Instance/Resource\``);
    expect(blocker).toContain('stateful resource replaced: DBName forces replacement');
    expect(stdout).toContain('<details><summary><b>dev</b>: 1 change in 1 of 2 stacks</summary>');
  });

  it('shows a cdk-nag finding new in head and one fixed, by environment, rule and construct', async () => {
    const path = `${DEV_SERVICE}/Service/LoadBalancer/Resource`;
    const before = copyAssembly(base);
    writeValidationReport(before, [{ plugin: 'AwsSolutions', rule: 'AwsSolutions-ELB2', path }]);
    const head = copyAssembly(base);
    writeValidationReport(head, [
      {
        plugin: 'AwsSolutions',
        rule: 'AwsSolutions-IAM5',
        path: `${DEV_STATEFUL}/Database/Instance/Resource`,
      },
      { plugin: 'CloudFormation Validate', rule: 'E3002', path: 'fa-ai-system-prod-service/Service/Cluster' },
    ]);
    const result = await reviewAssemblies({ base: before, head });
    const dev = result.environments.find((e) => e.name === 'dev');
    expect(dev?.findings.added.map((f) => f.rule)).toEqual(['AwsSolutions-IAM5']);
    expect(dev?.findings.fixed.map((f) => f.rule)).toEqual(['AwsSolutions-ELB2']);
    expect(result.environments.find((e) => e.name === 'prod')?.findings.added.map((f) => f.plugin)).toEqual([
      'CloudFormation Validate',
    ]);
    const markdown = renderMarkdown(result);
    expect(markdown).toContain('**New (2)**');
    expect(markdown).toContain(
      `- **dev** · AwsSolutions \`AwsSolutions-IAM5\` · \`${DEV_STATEFUL}/Database/Instance/Resource\`: AwsSolutions-IAM5 description`,
    );
    expect(markdown).toContain('**Fixed (1)**');
    expect(markdown).toContain('| Findings new / fixed |');
    expect(result.exitCode).toBe(0);
  });

  it('reads an absent validation-report.json as no findings', async () => {
    const head = copyAssembly(base);
    writeValidationReport(head, [
      { plugin: 'AwsSolutions', rule: 'AwsSolutions-S1', path: `${DEV_STATEFUL}/Logs` },
    ]);
    const before = copyAssembly(base);
    rmSync(join(before, 'validation-report.json'), { force: true });
    const result = await reviewAssemblies({ base: before, head });
    expect(result.environments.flatMap((e) => e.findings.added).map((f) => f.rule)).toEqual([
      'AwsSolutions-S1',
    ]);
    expect(result.environments.flatMap((e) => e.findings.fixed)).toEqual([]);
  });

  it('trims the details of a huge diff under the comment limit, says so, and keeps every blocker', async () => {
    const head = copyAssembly(blocked);
    editTemplate(head, DEV_SERVICE, (t) => {
      for (let i = 0; i < 1000; i++) {
        t.Resources[`FeatureFlag${i}Parameter0123ABCD`] = {
          Type: 'AWS::SSM::Parameter',
          Properties: {
            Type: 'String',
            Name: `/fa-ai-system/dev/feature-flags/flag-${i}`,
            Value: 'x'.repeat(60),
          },
        };
      }
    });
    const result = await reviewAssemblies({ base, head });
    expect(result.counts.ROUTINE).toBe(1000);
    const markdown = renderMarkdown(result);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(markdown.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT * 0.9);
    expect(markdown).toMatch(/\*\*Trimmed\*\*: \d+ changes of 1001 are left out of the details/);
    expect(markdown).toContain('more changes not shown (comment size limit)');
    expect(markdown.slice(0, markdown.indexOf('### Details'))).toContain(`\`${dbId}\``);
    // The blocker keeps its detail row: rows are dropped least severe first.
    expect(markdown).toMatch(new RegExp(`\\| ⛔ BLOCKER \\| replace \\| \`${dbId}\``));
  });

  it('caps the summary lists too when the details alone cannot make room', async () => {
    const head = copyAssembly(base);
    addStackLike(head, DEV_SERVICE, 'fa-ai-system-qa-service');
    const result = await reviewAssemblies({ base, head });
    expect(result.counts.SECURITY).toBeGreaterThan(20);
    const markdown = renderMarkdown(result, { maxLength: 6000 });
    expect(markdown.length).toBeLessThanOrEqual(6000);
    expect(markdown).toMatch(/and the lists above stop after \d+ entries/);
    expect(markdown).toMatch(/- … and \d+ more \(see the details, or `--json`\)/);
  });

  it('renders the cost per environment (base, head, delta) from an injected estimator', async () => {
    const costs: Record<string, Record<string, number>> = {
      [base]: { dev: 120, staging: 300, prod: 1000 },
      [blocked]: { dev: 150.5, staging: 300, prod: 900 },
    };
    const result = await reviewAssemblies({ base, head: blocked, costEstimator: async (dir) => costs[dir] });
    expect(result.environments.map((e) => e.cost?.deltaUsd)).toEqual([30.5, 0, -100]);
    const markdown = renderMarkdown(result);
    expect(markdown).toContain('| dev | $120.00 | $150.50 | +$30.50 |');
    expect(markdown).toContain('| prod | $1,000.00 | $900.00 | −$100.00 |');
  });

  it('reports a failing estimator in the comment instead of failing the review', async () => {
    const result = await reviewAssemblies({
      base,
      head: blocked,
      costEstimator: async () => {
        throw new Error('no price list for us-east-1');
      },
    });
    expect(result.costError).toBe('no price list for us-east-1');
    expect(renderMarkdown(result)).toContain('Cost estimate unavailable: no price list for us-east-1');
    expect(result.exitCode).toBe(1);
  });
});

describe('exit code and acknowledgements', () => {
  it('fails on an unacknowledged blocker and says how to acknowledge it', async () => {
    const { code, stderr } = await run({ base, head: blocked });
    expect(code).toBe(1);
    expect(stderr).toContain('1 unacknowledged blocker(s)');
  });

  it('passes with --allow <logicalId>, still listing the blocker as acknowledged', async () => {
    const { code, stdout } = await run({ base, head: blocked, allow: [dbId] });
    expect(code).toBe(0);
    expect(stdout).toContain('## Infrastructure review: ✅ 1 blocker, all acknowledged');
    expect(stdout).toMatch(
      new RegExp(
        `\`${dbId}\` .*✅ \\*\\*acknowledged\\*\\* \\(\`${dbId}\` in \`--allow\`\\): allowed with --allow`,
      ),
    );
  });

  it('passes with --allow <resource type>, and fails when --allow names another resource', async () => {
    expect((await run({ base, head: blocked, allow: ['AWS::RDS::DBInstance'] })).code).toBe(0);
    const other = await run({ base, head: blocked, allow: ['SomeOtherResource'] });
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('`SomeOtherResource` in `--allow` (matches no blocker)');
  });

  it('applies review-acknowledgements.json of the working directory by <stack>/<logicalId>, with its reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-ai-review-ack-'));
    try {
      writeFileSync(
        join(dir, 'review-acknowledgements.json'),
        JSON.stringify([
          {
            match: `${DEV_STATEFUL}/${dbId}`,
            reason: 'dev data is disposable (INFRA-42)',
            expires: '2030-06-15',
          },
        ]),
      );
      const { code, stdout } = await run({ base, head: blocked }, { cwd: dir });
      expect(code).toBe(0);
      expect(stdout).toContain(
        `(\`${DEV_STATEFUL}/${dbId}\` in \`review-acknowledgements.json\`, until 2030-06-15): dev data is disposable (INFRA-42)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores an expired acknowledgement and names it', async () => {
    const file = join(cwd, 'expired.json');
    writeFileSync(file, JSON.stringify([{ match: dbId, reason: 'temporary', expires: '2030-06-14' }]));
    const { code, stdout } = await run({ base, head: blocked, acknowledgements: 'expired.json' });
    expect(code).toBe(1);
    expect(stdout).toContain(`\`${dbId}\` in \`expired.json\` (expired 2030-06-14): temporary`);
  });

  it('rejects a malformed acknowledgement file with exit 2 and the problem', async () => {
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify([{ match: dbId, expires: '2030-02-30' }]));
    const { code, stderr } = await run({ base, head: blocked, acknowledgements: 'bad.json' });
    expect(code).toBe(2);
    expect(stderr).toContain('0.reason:');
    expect(stderr).toContain('0.expires: is not a calendar date');
  });
});

describe('failed synths', () => {
  it('leads with a base that failed but wrote its assembly, says what that means for the diff, and exits 3', async () => {
    const log = join(cwd, 'base.synth.log');
    writeFileSync(log, 'ERROR AwsSolutions-S1 on the base\n');
    const { code, stdout } = await run({ base, head: blocked, baseSynth: 'failed', baseSynthLog: log });
    expect(code).toBe(3);
    const top = stdout.slice(0, stdout.indexOf('| Environment |'));
    expect(top).toContain('## Infrastructure review: ❌ `cdk synth` of the base failed');
    expect(top).toContain('findings listed as fixed may be what broke it');
    expect(top).toContain('ERROR AwsSolutions-S1 on the base');
    expect(top).toContain('**Also 1 unacknowledged blocker**');
  });

  it('rejects a synth status other than ok or failed with exit 2', async () => {
    const { code, stderr } = await run({ base, head: blocked, headSynth: 'true' });
    expect(code).toBe(2);
    expect(stderr).toContain("--head-synth must be ok or failed, not 'true'");
  });
});

describe('command line', () => {
  it('exits 2 with a clear message when a directory is missing or not an assembly', async () => {
    const missing = await run({ base: join(cwd, 'nope'), head: blocked });
    expect(missing).toMatchObject({
      code: 2,
      stderr: `review: assembly directory not found: ${join(cwd, 'nope')}\n`,
    });
    const notAssembly = await run({ base: cwd, head: blocked });
    expect(notAssembly.code).toBe(2);
    expect(notAssembly.stderr).toContain(`no manifest.json in ${cwd}`);
    const usage = await run({ head: blocked });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('both --base and --head are required');
    expect(usage.stderr).toContain('Usage: npm run review');
  });

  it('writes JSON for machines to --output', async () => {
    const { code, stdout } = await run({ base, head: blocked, json: true, output: 'out/review.json' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const json = JSON.parse(readFileSync(join(cwd, 'out', 'review.json'), 'utf8')) as ReviewResult;
    expect(json).toMatchObject({ version: 1, exitCode: 1, blockers: { total: 1, unacknowledged: 1 } });
    expect(json.environments.map((e) => [e.name, e.counts.BLOCKER])).toEqual([
      ['dev', 1],
      ['staging', 0],
      ['prod', 0],
    ]);
  });

  // Options parsed and exit codes passed on are what the workflow test runs (npm run review).
  it('runs as bin/review.ts, rejecting an unknown option with exit 2', () => {
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const bad = spawnSync(process.execPath, [tsx, 'bin/review.ts', '--base', base, '--hed', blocked], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--hed'");
  });
});
