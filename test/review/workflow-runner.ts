/**
 * Runs a GitHub Actions workflow file's job on this machine, as a runner would: its `run:`
 * scripts in order under bash with the runner's environment (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
 * RUNNER_TEMP, GITHUB_WORKSPACE), `${{ }}` expressions and `if:` conditions evaluated, step
 * outputs passed on, and actions/github-script's script run against a stubbed `github`.
 * Other actions (checkout, setup-node, upload-artifact) are provided by the caller's workspace.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
// Already installed (by vite and aws-cdk-lib): the runner adds no dependency.
import { parse } from 'yaml';

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string | boolean;
  readonly shell?: string;
  readonly 'working-directory'?: string;
  readonly env?: Record<string, string | number | boolean>;
  readonly with?: Record<string, string | number | boolean>;
}
interface Job {
  readonly env?: Record<string, string>;
  readonly defaults?: { readonly run?: { readonly shell?: string; readonly 'working-directory'?: string } };
  readonly steps: readonly Step[];
}
interface Workflow {
  readonly env?: Record<string, string>;
  readonly defaults?: Job['defaults'];
  readonly jobs: Record<string, Job>;
}

/** A comment on the pull request, as the stubbed GitHub API keeps it. */
export interface IssueComment {
  readonly id: number;
  readonly body: string;
  readonly user: { readonly login: string };
  readonly html_url: string;
}

/** What one step did. */
export interface StepRecord {
  readonly name: string;
  readonly id?: string;
  /** `emulated`: done by the caller's workspace (checkout, install); `skipped`: its `if` was false. */
  readonly outcome: 'success' | 'failure' | 'skipped' | 'emulated';
  readonly outputs: Record<string, string>;
  /** stdout and stderr together, as the job log shows them. */
  readonly log: string;
  readonly durationMs: number;
}

export interface WorkflowRun {
  readonly steps: readonly StepRecord[];
  readonly conclusion: 'success' | 'failure';
  /** The pull request's comments after the run. */
  readonly comments: readonly IssueComment[];
  readonly summary: string;
  step(name: string): StepRecord;
}

export interface RunOptions {
  readonly workflowFile: string;
  readonly job: string;
  /** GITHUB_WORKSPACE, holding what the checkout steps check out (their `path`). */
  readonly workspace: string;
  readonly runnerTemp: string;
  /** `github` of the expressions: event, repository ... */
  readonly github: Record<string, unknown>;
  /** Comments already on the pull request. */
  readonly comments?: readonly IssueComment[];
  /** Added to the runner's environment, e.g. to make a test synth cheaper. */
  readonly env?: Record<string, string>;
  /** `run:` scripts the workspace already did (e.g. `npm ci` when node_modules is linked). */
  readonly emulatedRun?: (script: string) => boolean;
}

/** The runner's environment starts clean: nothing of the test process leaks into the scripts. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER'];

export async function runWorkflow(options: RunOptions): Promise<WorkflowRun> {
  const workflow = parse(readFileSync(options.workflowFile, 'utf8')) as Workflow;
  const job = workflow.jobs[options.job];
  if (!job) throw new Error(`no job ${options.job} in ${options.workflowFile}`);
  mkdirSync(options.runnerTemp, { recursive: true });
  const summaryFile = join(options.runnerTemp, '_step_summary');
  writeFileSync(summaryFile, '');
  const github = new GitHubStub(options.comments ?? []);
  const records: StepRecord[] = [];
  const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
  let status: 'success' | 'failure' = 'success';
  const baseEnv: Record<string, string> = {};
  for (const key of INHERITED_ENV) if (process.env[key]) baseEnv[key] = process.env[key] as string;
  Object.assign(baseEnv, {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: options.workspace,
    RUNNER_TEMP: options.runnerTemp,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...options.env,
  });

  for (const [index, step] of job.steps.entries()) {
    const name = step.name ?? step.uses ?? `step ${index + 1}`;
    const contexts = { github: options.github, steps, runner: { temp: options.runnerTemp }, env: baseEnv };
    const expr = (value: unknown) => substitute(String(value), contexts, status);
    const env: Record<string, string> = { ...baseEnv };
    for (const scope of [workflow.env, job.env, step.env]) {
      for (const [key, value] of Object.entries(scope ?? {})) env[key] = expr(value);
    }
    const started = Date.now();
    const record = (outcome: StepRecord['outcome'], outputs: Record<string, string> = {}, log = '') => {
      records.push({ name, id: step.id, outcome, outputs, log, durationMs: Date.now() - started });
      if (step.id) steps[step.id] = { outputs, outcome };
      if (outcome === 'failure') status = 'failure';
    };
    if (!condition(step.if, contexts, status)) {
      record('skipped');
      continue;
    }
    const withInputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expr(v)]));
    if (step.run !== undefined) {
      if (options.emulatedRun?.(step.run)) {
        record('emulated');
        continue;
      }
      const outputFile = join(options.runnerTemp, `_output_${index}`);
      writeFileSync(outputFile, '');
      const dir = step['working-directory'] ?? job.defaults?.run?.['working-directory'] ?? '.';
      const shell = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell;
      const script = join(options.runnerTemp, `_script_${index}.sh`);
      writeFileSync(script, expr(step.run));
      const { code, log } = await bash(script, shell, join(options.workspace, expr(dir)), {
        ...env,
        GITHUB_OUTPUT: outputFile,
      });
      record(code === 0 ? 'success' : 'failure', parseOutputs(readFileSync(outputFile, 'utf8')), log);
    } else if (step.uses?.startsWith('actions/github-script@')) {
      const lines: string[] = [];
      try {
        await runGithubScript(String(withInputs.script ?? ''), env, github, options.github, lines);
        record('success', {}, lines.join('\n'));
      } catch (error) {
        record('failure', {}, [...lines, `Error: ${(error as Error).message}`].join('\n'));
      }
    } else if (step.uses?.startsWith('actions/checkout@')) {
      const path = String(withInputs.path ?? '.');
      if (!existsSync(join(options.workspace, path)))
        throw new Error(`the workspace has no checkout ${path}`);
      record('emulated');
    } else if (
      step.uses?.startsWith('actions/setup-node@') ||
      step.uses?.startsWith('actions/upload-artifact@')
    ) {
      record('emulated');
    } else {
      throw new Error(
        `step "${name}": the runner cannot emulate ${step.uses ?? 'a step without run or uses'}`,
      );
    }
  }

  const run: WorkflowRun = {
    steps: records,
    conclusion: status,
    comments: github.comments,
    summary: readFileSync(summaryFile, 'utf8'),
    step(name: string) {
      const found = records.find((r) => r.name === name || r.id === name);
      if (!found) throw new Error(`no step ${name} in the run: did the workflow change?`);
      return found;
    },
  };
  return run;
}

/** bash as the runner starts it: `bash -e {0}` by default, `-eo pipefail` for `shell: bash`. */
function bash(
  script: string,
  shell: string | undefined,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; log: string }> {
  if (shell !== undefined && shell !== 'bash') throw new Error(`the runner only emulates bash, not ${shell}`);
  const args = shell === 'bash' ? ['--noprofile', '--norc', '-eo', 'pipefail', script] : ['-e', script];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, log: Buffer.concat(chunks).toString('utf8') }));
  });
}

/** `key=value` lines and `key<<DELIMITER` blocks, as the runner reads GITHUB_OUTPUT. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key = '', delimiter] = heredoc;
      const end = lines.indexOf(delimiter as string, i + 1);
      if (end < 0) throw new Error(`GITHUB_OUTPUT: ${key} has no closing ${delimiter}`);
      outputs[key] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

class GitHubStub {
  readonly comments: IssueComment[];
  private nextId = 1000;

  constructor(existing: readonly IssueComment[]) {
    this.comments = [...existing];
  }

  readonly api = {
    paginate: async (method: (params: unknown) => Promise<{ data: unknown[] }>, params: unknown) =>
      (await method(params)).data,
    rest: {
      issues: {
        listComments: async () => ({ data: this.comments.map((c) => ({ ...c })) }),
        createComment: async ({ body }: { body: string }) => {
          const comment = this.comment(this.nextId++, body);
          this.comments.push(comment);
          return { data: comment };
        },
        updateComment: async ({ comment_id, body }: { comment_id: number; body: string }) => {
          const index = this.comments.findIndex((c) => c.id === comment_id);
          if (index < 0) throw new Error(`no comment ${comment_id}`);
          this.comments[index] = this.comment(comment_id, body);
          return { data: this.comments[index] };
        },
      },
    },
  };

  private comment(id: number, body: string): IssueComment {
    return {
      id,
      body,
      user: { login: 'github-actions[bot]' },
      html_url: `https://github.test/comment/${id}`,
    };
  }
}

/** actions/github-script: the script is the body of an async function of these names. */
async function runGithubScript(
  script: string,
  env: Record<string, string>,
  github: GitHubStub,
  githubContext: Record<string, unknown>,
  lines: string[],
): Promise<void> {
  const event = githubContext.event as Record<string, unknown>;
  const [owner = '', repo = ''] = String(githubContext.repository).split('/');
  const context = { payload: event, repo: { owner, repo } };
  const core = { info: (m: string) => lines.push(m), warning: (m: string) => lines.push(`::warning::${m}`) };
  const AsyncFunction = (async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<unknown>;
  const fn = new AsyncFunction('require', 'github', 'context', 'core', 'process', script);
  await fn(createRequire(__filename), github.api, context, core, { ...process, env });
}

type Contexts = Record<string, unknown>;

function condition(value: string | boolean | undefined, contexts: Contexts, status: string): boolean {
  if (value === undefined) return status === 'success';
  if (typeof value === 'boolean') return value && status === 'success';
  const source = value.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  // Without a status function an `if` means success() && (...), as on GitHub.
  const guarded = /\b(always|success|failure|cancelled)\(\)/.test(source)
    ? source
    : `success() && (${source})`;
  return truthy(evaluate(guarded, contexts, status));
}

function substitute(text: string, contexts: Contexts, status: string): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, source: string) => {
    const value = evaluate(source, contexts, status);
    return value === undefined || value === null ? '' : String(value);
  });
}

function truthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== '' && value !== 0;
}

/** GitHub compares strings case-insensitively and a missing value as ''. */
function equal(a: unknown, b: unknown): boolean {
  return String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase();
}

const TOKEN = /\s*(\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][\w.-]*|\d+)/y;

/** The subset of GitHub's expression syntax the workflows here use. */
export function evaluate(source: string, contexts: Contexts, status: string): unknown {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.trimEnd().length) {
    const match = TOKEN.exec(source);
    if (!match?.[1]) throw new Error(`cannot parse expression: ${source}`);
    tokens.push(match[1]);
  }
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++];
  const or = (): unknown => {
    let left = and();
    while (peek() === '||') {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): unknown => {
    let left = not();
    while (peek() === '&&') {
      take();
      const right = not();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const not = (): unknown => {
    if (peek() === '!') {
      take();
      return !truthy(not());
    }
    const left = primary();
    const op = peek();
    if (op === '==' || op === '!=') {
      take();
      const right = primary();
      return op === '==' ? equal(left, right) : !equal(left, right);
    }
    return left;
  };
  const primary = (): unknown => {
    const token = take();
    if (token === undefined) throw new Error(`unexpected end of expression: ${source}`);
    if (token === '(') {
      const value = or();
      if (take() !== ')') throw new Error(`missing ) in ${source}`);
      return value;
    }
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (/^\d+$/.test(token)) return Number(token);
    if (token === 'true' || token === 'false') return token === 'true';
    if (peek() === '(') {
      take();
      if (take() !== ')') throw new Error(`functions with arguments are not emulated: ${source}`);
      const functions: Record<string, boolean> = {
        always: true,
        success: status === 'success',
        failure: status === 'failure',
        cancelled: false,
      };
      if (!(token in functions)) throw new Error(`unknown function ${token}() in ${source}`);
      return functions[token];
    }
    return token
      .split('.')
      .reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], contexts);
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`unexpected ${peek()} in ${source}`);
  return value;
}
