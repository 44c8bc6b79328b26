import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChangeReview,
  emptyCounts,
  REVIEW_MARKER,
  renderMarkdown,
  reviewAssemblies,
} from '../../lib/review';
import { checkout, type Edit, PROJECT } from './checkout';
import { type IssueComment, runWorkflow, type WorkflowRun } from './workflow-runner';

/**
 * The pull request review as .github/workflows/pr-review.yml runs it: checkouts of this commit
 * in folders of their own, real `cdk synth` with Lambda bundling, the workflow's own scripts.
 * Cheaper than CI, not different: one environment (cdk.context.json) and no CloudFormation
 * Validate (CDK_VALIDATION=false), which the suite's shared synth runs already.
 */
const CONTEXT = { env: 'dev' };
const RUNNER_ENV = {
  CDK_VALIDATION: 'false',
  // The suite's runtime settings (vitest.config.mts: V8 code cache, Go's collector); they
  // change how much CPU a synth takes, not what it writes.
  ...Object.fromEntries(
    ['NODE_COMPILE_CACHE', 'GOGC'].flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])),
  ),
};
const REPOSITORY = 'fa-ai/infra';
const GITHUB = {
  repository: REPOSITORY,
  event: {
    pull_request: {
      number: 42,
      base: { ref: 'main', sha: 'a1b2c3d4'.repeat(5) },
      head: { sha: 'e5f6a7b8'.repeat(5), repo: { full_name: REPOSITORY } },
    },
  },
};

/** A new cdk-nag error: every function's AwsSolutions-L1 acknowledgement names another rule. */
const NAG_ERROR: Edit = {
  file: 'lib/constructs/app-function.ts',
  from: "id: 'AwsSolutions-L1',",
  to: "id: 'AwsSolutions-L1-renamed',",
};
/** A config error: the app stops before synthesizing anything. */
const CONFIG_ERROR: Edit = {
  file: 'lib/config/environments.ts',
  from: "emails: ['fa-ai-dev-alerts@example.com']",
  to: "emails: ['not an address']",
};
/** One line of one Lambda's code. */
const HEALTH_CHECK_EDIT: Edit = {
  file: 'lambdas/health-check/handler.ts',
  from: "metrics.addDimension('Kind', kind);",
  to: "metrics.addDimension('CheckKind', kind);",
};

const BOT = { login: 'github-actions[bot]' };
const EARLIER_COMMENTS: IssueComment[] = [
  { id: 1, body: `${REVIEW_MARKER}\nan earlier run`, user: BOT, html_url: 'https://github.test/1' },
  {
    id: 2,
    body: `${REVIEW_MARKER}\nquoted by a person`,
    user: { login: 'dev' },
    html_url: 'https://github.test/2',
  },
];

let root: string;
let headFails: { run: WorkflowRun; runnerTemp: string };
let baseFails: { run: WorkflowRun; runnerTemp: string };
let lambdaEdit: string;

/** The workflow's job in `<root>/<name>`, with base and head checked out as given. */
async function workflowRun(
  name: string,
  sides: { base?: readonly Edit[]; head?: readonly Edit[] },
  comments: readonly IssueComment[] = [],
) {
  const workspace = join(root, name);
  checkout(join(workspace, 'base'), { edits: sides.base, context: CONTEXT });
  checkout(join(workspace, 'head'), { edits: sides.head, context: CONTEXT });
  const runnerTemp = join(workspace, 'runner-temp');
  const run = await runWorkflow({
    workflowFile: join(PROJECT, '.github', 'workflows', 'pr-review.yml'),
    job: 'review',
    workspace,
    runnerTemp,
    github: GITHUB,
    comments,
    env: RUNNER_ENV,
    // The checkouts link the project's node_modules: that is their `npm ci`.
    emulatedRun: (script) => /^npm ci\b/.test(script.trim()),
  });
  return { run, runnerTemp };
}

/** `npx cdk synth` in a checkout of its own, as the workflow's synth steps run it. */
function synthCheckout(name: string, edits: readonly Edit[]): Promise<string> {
  const dir = join(root, name, 'head');
  checkout(dir, { edits, context: CONTEXT });
  const out = join(root, name, 'head.out');
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '-o', out], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...RUNNER_ENV },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`cdk synth failed:\n${stderr}`)),
    );
  });
}

beforeAll(async () => {
  // Every checkout at the same depth, as the runner's base/ and head/ are.
  root = mkdtempSync(join(tmpdir(), 'fa-ai-workflow-'));
  [headFails, baseFails, lambdaEdit] = await Promise.all([
    workflowRun('head-fails', { head: [NAG_ERROR] }, EARLIER_COMMENTS),
    workflowRun('base-fails', { base: [CONFIG_ERROR] }),
    synthCheckout('lambda-edit', [HEALTH_CHECK_EDIT]),
  ]);
  // Five synth processes on two shared cores: ~20 s alone, several times that on a busy machine.
}, 300_000);
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The unchanged commit, synthesized by the workflow in two different checkouts. */
function unchangedAssemblies(): { base: string; head: string } {
  return { base: join(headFails.runnerTemp, 'base.out'), head: join(baseFails.runnerTemp, 'head.out') };
}

function rows(changes: readonly ChangeReview[]): string[] {
  return changes.map(
    (c) => `${c.classification} ${c.stack}/${c.logicalId} ${c.resourceType} ${c.constructPath}`,
  );
}

function ownComment(run: WorkflowRun): string {
  const own = run.comments.filter((c) => c.user.login === BOT.login && c.body.startsWith(REVIEW_MARKER));
  expect(own).toHaveLength(1);
  return own[0]?.body ?? '';
}

describe('one commit checked out in two folders', () => {
  it('reviews as no changes at all, not even asset-only ones', async () => {
    const result = await reviewAssemblies(unchangedAssemblies());
    expect(rows(result.environments.flatMap((e) => e.stacks.flatMap((s) => s.changes)))).toEqual([]);
    expect(result.counts).toEqual(emptyCounts());
    expect(renderMarkdown(result)).toContain('## Infrastructure review: no changes');
  });

  it('changes only the edited Lambda when one line of its code changes', async () => {
    const result = await reviewAssemblies({ base: unchangedAssemblies().base, head: lambdaEdit });
    const changes = result.environments.flatMap((e) => e.stacks.flatMap((s) => s.changes));
    expect(changes.map((c) => c.resourceType)).toContain('AWS::Lambda::Function');
    for (const row of rows(changes)) {
      expect(row).toMatch(
        /^ASSET-ONLY fa-ai-system-dev-service\/\S+ \S+ fa-ai-system-dev-service\/HealthCheck\//,
      );
    }
    expect(result.environments.flatMap((e) => [...e.findings.added, ...e.findings.fixed])).toEqual([]);
  });
});

describe('workflow: the pull request fails cdk synth on a cdk-nag error', () => {
  it('says so at the top of the comment, before any summary', () => {
    const body = ownComment(headFails.run);
    const lines = body.split('\n');
    expect(lines[0]).toBe(REVIEW_MARKER);
    expect(lines[1]).toBe('## Infrastructure review: ❌ `cdk synth` of the pull request failed');
    expect(body).not.toContain('no blockers');
    const notice = body.indexOf('**`cdk synth` of the pull request failed.**');
    expect(notice).toBeGreaterThan(0);
    expect(notice).toBeLessThan(body.indexOf('| Environment |'));
  });

  it("quotes the synth's error in the comment, and lists the new finding", () => {
    const body = ownComment(headFails.run);
    const quote = body.slice(body.indexOf("End of the head synth's output"), body.indexOf('| Environment |'));
    expect(quote).toContain("Acknowledge with 'AwsSolutions::AwsSolutions-L1'");
    expect(body).toMatch(/\*\*New \(\d+\)\*\*\n- \*\*dev\*\* · AwsSolutions `AwsSolutions-L1`/);
  });

  it('fails the review (exit 3) and the job, with the comment posted first', () => {
    const { run } = headFails;
    expect(run.step('synth-head').outputs).toEqual({ status: 'failed' });
    expect(run.step('review').outputs).toEqual({ 'exit-code': '3' });
    expect(run.step('Create or update the PR comment').outcome).toBe('success');
    expect(run.step('Verdict').outcome).toBe('failure');
    expect(run.step('Verdict').log).toContain('::error::cdk synth of the pull request failed');
    expect(run.conclusion).toBe('failure');
  });

  it("updates the workflow's own comment and leaves a person's quoting the marker alone", () => {
    const { comments } = headFails.run;
    expect(comments.map((c) => c.id)).toEqual([1, 2]);
    expect(comments[0]?.body).not.toContain('an earlier run');
    expect(comments[1]?.body).toBe(EARLIER_COMMENTS[1]?.body);
  });
});

describe('workflow: the base fails cdk synth', () => {
  it('says at the top of the comment that there is nothing to compare with, and lists no change', () => {
    const body = ownComment(baseFails.run);
    const lines = body.split('\n');
    expect(lines[1]).toBe('## Infrastructure review: ❌ `cdk synth` of the base failed');
    expect(body).toContain('**`cdk synth` of the base (`main@a1b2c3d`) failed.** It wrote no cloud assembly');
    expect(body).toContain('no change is listed, which does not mean there is none');
    expect(body).toContain("Invalid config for environment 'dev'");
    expect(body).not.toContain('| Environment |');
  });

  it('fails the review (exit 3) and the job, though the pull request synthesizes', () => {
    const { run } = baseFails;
    expect(run.step('synth-head').outputs).toEqual({ status: 'ok' });
    expect(run.step('review').outputs).toEqual({ 'exit-code': '3' });
    expect(run.step('Create or update the PR comment').outcome).toBe('success');
    expect(run.step('Verdict').log).toContain('::error::cdk synth of the base failed');
    expect(run.conclusion).toBe('failure');
  });

  it('keeps the review in the job summary and as JSON for the artifact', () => {
    const json = JSON.parse(readFileSync(join(baseFails.runnerTemp, 'review.json'), 'utf8'));
    expect(json).toMatchObject({
      compared: false,
      exitCode: 3,
      failedSynths: [{ side: 'base', assembly: false }],
    });
    expect(baseFails.run.summary).toBe(ownComment(baseFails.run));
  });
});
