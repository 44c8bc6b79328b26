/**
 * `npm run bench`: measures, in one run on this machine, each cost figure against its floor or
 * target and writes them to bench/results.json. Options: `--quick` (fewer repetitions) and
 * `--only synth,tests,bundles,roundtrips,detection`.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions, lambdaNames, writeLambdaBundle } from '../lib/lambda-bundling';
import { BUDGETS_DELAY_HOURS, type DetectionFigure } from './detection-types';
import type { RoundTripFigure } from './roundtrip-types';
import { LATENCY_MS } from './roundtrip-types';
import { median, timedRun } from './stats';

const ROOT = join(__dirname, '..');
const SECTIONS = ['synth', 'tests', 'bundles', 'roundtrips', 'detection'] as const;
type Section = (typeof SECTIONS)[number];

const LAMBDAS = lambdaNames();

/** One row of the table and of results.json. */
interface Row {
  readonly section: Section;
  readonly metric: string;
  readonly value: string;
  readonly floor: string;
  /** value / floor; for targets, value / target (<= 1 passes). */
  readonly ratio: number;
  readonly limit: number;
  readonly pass: boolean;
  readonly detail?: Record<string, unknown>;
  /** When the row was measured: a run with --only keeps the other sections' rows of earlier runs. */
  readonly measuredAt?: string;
}

function parseArgs(argv: readonly string[]): { quick: boolean; only: ReadonlySet<Section> } {
  const quick = argv.includes('--quick');
  const index = argv.indexOf('--only');
  const inline = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const list = inline ?? (index >= 0 ? argv[index + 1] : undefined);
  if (list === undefined) return { quick, only: new Set(SECTIONS) };
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; use ${SECTIONS.join(',')}`);
  return { quick, only: new Set(names as Section[]) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * `cdk synth` of every environment vs an app of one empty stack, both real `cdk synth`
 * processes from the repo root (same cdk.json context and flags), alternated so that load
 * on this shared machine hits both alike. The pair is measured twice: as deployed (CDK's
 * CloudFormation Validate on, the target) and with it off in both (`CDK_VALIDATION=false`,
 * information): the second shows what the app itself costs over a bare CDK app.
 */
function benchSynth(runs: number): Row[] {
  const work = mkdtempSync(join(tmpdir(), 'fa-bench-synth-'));
  try {
    // The empty app resolves aws-cdk-lib through a link to the project's node_modules.
    const appDir = join(work, 'empty-app');
    mkdirSync(appDir);
    symlinkSync(join(ROOT, 'node_modules'), join(appDir, 'node_modules'), 'dir');
    const appFile = join(appDir, 'app.ts');
    writeFileSync(
      appFile,
      "import { App, Stack } from 'aws-cdk-lib';\nconst app = new App();\nnew Stack(app, 'Empty');\napp.synth();\n",
    );
    const appCommand = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app;
    if (!appCommand.includes('bin/app.ts'))
      throw new Error(`cdk.json app does not run bin/app.ts: ${appCommand}`);
    const synth = (kind: 'empty' | 'full', validate: boolean, i: number) => {
      const label = `${kind}${validate ? '' : ' (no validation)'}`;
      const out = join(work, `${kind}-${validate}-${i}`);
      const args = ['cdk', 'synth', '--quiet', '-o', out];
      // Same runner as the project's app (cdk.json), pointed at the empty app.
      if (kind === 'empty') args.push('--app', appCommand.replace('bin/app.ts', appFile));
      const env = validate ? process.env : { ...process.env, CDK_VALIDATION: 'false' };
      const run = timedRun('npx', args, { cwd: ROOT, env });
      if (run.status !== 0) throw new Error(`cdk synth (${label}) failed:\n${run.output.slice(-4000)}`);
      rmSync(out, { recursive: true, force: true });
      log(`synth ${label} #${i + 1}: ${seconds(run.ms)}`);
      return run.ms;
    };
    const ms = {
      empty: [] as number[],
      full: [] as number[],
      emptyBare: [] as number[],
      fullBare: [] as number[],
    };
    for (let i = 0; i < runs; i++) {
      ms.empty.push(synth('empty', true, i));
      ms.full.push(synth('full', true, i));
      ms.emptyBare.push(synth('empty', false, i));
      ms.fullBare.push(synth('full', false, i));
    }
    const ratio = median(ms.full) / median(ms.empty);
    const bareRatio = median(ms.fullBare) / median(ms.emptyBare);
    return [
      {
        section: 'synth',
        metric: 'cdk synth, all environments',
        value: seconds(median(ms.full)),
        floor: `${seconds(median(ms.empty))} (empty app)`,
        ratio,
        limit: 1.5,
        pass: ratio <= 1.5,
        detail: { runs, fullMs: ms.full, emptyMs: ms.empty },
      },
      {
        section: 'synth',
        metric: 'cdk synth, all environments, CloudFormation Validate off in both',
        value: seconds(median(ms.fullBare)),
        floor: `${seconds(median(ms.emptyBare))} (empty app)`,
        ratio: bareRatio,
        limit: Number.NaN,
        pass: true,
        detail: { runs, fullMs: ms.fullBare, emptyMs: ms.emptyBare },
      },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Issue #15: `npm test` in at most 40 s on two cores. */
const TEST_SUITE_TARGET_MS = 40_000;

/**
 * The whole suite once, as the README runs it (`npm test`: type check, Biome, vitest), against
 * the 40 s target on 2 cores. Its CPU seconds and the load average are printed with it: wall
 * time on a shared machine says as much about the others as about the suite.
 */
function benchTests(): Row[] {
  const run = timedRun('npm', ['test'], { cwd: ROOT, env: { ...process.env, CI: '1' } });
  const summary = run.output
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours vitest prints
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => /^\s*(Test Files|Tests)\s/.test(l))
    .map((l) => l.trim());
  const cpu = run.cpuSeconds === undefined ? 'CPU not measured' : `${run.cpuSeconds.toFixed(1)} s of CPU`;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  log(
    `npm test: ${seconds(run.ms)} (${cpu}, load average ${load}), exit ${run.status}; ${summary.join('; ')}`,
  );
  const ratio = run.ms / TEST_SUITE_TARGET_MS;
  return [
    {
      section: 'tests',
      metric: 'test suite wall time (npm test)',
      value: seconds(run.ms),
      floor: `${TEST_SUITE_TARGET_MS / 1000} s target`,
      ratio,
      limit: 1,
      pass: ratio <= 1 && run.status === 0,
      detail: {
        exitCode: run.status,
        summary,
        cores: cpus().length,
        cpuSeconds: run.cpuSeconds,
        // At the end of the run: the 1, 5 and 15 minute averages.
        loadAverage: loadavg(),
      },
    },
  ];
}

/**
 * Every Lambda bundled with the options the app deploys (lib/lambda-bundling.ts: minified,
 * node22, CJS, AWS SDK external), its size against 300 KB, and the time
 * `node` takes to load it against `node -e 0`.
 */
async function benchBundles(runs: number): Promise<Row[]> {
  const work = mkdtempSync(join(tmpdir(), 'fa-bench-bundles-'));
  const rows: Row[] = [];
  try {
    // The Lambda runtime provides the AWS SDK; here the project's copy stands in for it.
    const env = {
      ...process.env,
      NODE_PATH: join(ROOT, 'node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIABENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
      POWERTOOLS_SERVICE_NAME: 'bench',
      POWERTOOLS_METRICS_NAMESPACE: 'Bench',
    };
    const baseline = Array.from({ length: runs }, () => timedRun('node', ['-e', '0'], { cwd: work, env }).ms);
    const floorMs = median(baseline);
    for (const name of LAMBDAS) {
      const plain = join(work, name, 'index.js');
      const mapped = join(work, `${name}-map`, 'index.js');
      mkdirSync(dirname(plain), { recursive: true });
      mkdirSync(dirname(mapped), { recursive: true });
      const [code] = (await build({ ...lambdaBuildOptions(name), sourcemap: false, logLevel: 'silent' }))
        .outputFiles;
      writeFileSync(plain, code?.contents ?? '');
      writeLambdaBundle(name, dirname(mapped));
      const size = statSync(plain).size;
      const mapSize = statSync(`${mapped}.map`).size;
      rows.push({
        section: 'bundles',
        metric: `${name} bundle`,
        value: kb(size),
        floor: '300 KB target',
        ratio: size / (300 * 1024),
        limit: 1,
        pass: size <= 300 * 1024,
        detail: { bytes: size, withSourceMapBytes: statSync(mapped).size + mapSize, sourceMapBytes: mapSize },
      });
      // Loading the module is what a cold start pays before the handler runs.
      const loads: number[] = [];
      let failure: string | undefined;
      for (let i = 0; i < runs; i++) {
        const run = timedRun('node', ['-e', `require(${JSON.stringify(plain)})`], { cwd: work, env });
        if (run.status !== 0) failure = run.output.slice(-600);
        loads.push(run.ms);
      }
      const initMs = median(loads);
      rows.push({
        section: 'bundles',
        metric: `${name} module init`,
        value: `${initMs.toFixed(0)} ms`,
        floor: `${floorMs.toFixed(0)} ms (node -e 0)`,
        ratio: initMs / floorMs,
        limit: Number.NaN,
        pass: failure === undefined,
        detail: { runsMs: loads, baselineMs: baseline, ...(failure ? { failure } : {}) },
      });
    }
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs one bench spec (bench/<name>.spec.ts) with the suite's harnesses and returns the figures it
 * wrote to the file named by its `outVariable`.
 */
function specFigures<T>(name: string, outVariable: string, what: string): T {
  const work = mkdtempSync(join(tmpdir(), `fa-bench-${name}-`));
  try {
    const out = join(work, `${name}.json`);
    const run = timedRun(
      'npx',
      ['vitest', 'run', '--config', 'bench/vitest.config.mts', `bench/${name}.spec.ts`],
      {
        cwd: ROOT,
        env: { ...process.env, [outVariable]: out },
      },
    );
    if (run.status !== 0) throw new Error(`${what} bench failed:\n${run.output.slice(-4000)}`);
    return JSON.parse(readFileSync(out, 'utf8')) as T;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Sequential AWS round trips, from bench/roundtrips.spec.ts run with the suite's harnesses. */
function benchRoundTrips(): Row[] {
  const figures = specFigures<RoundTripFigure[]>('roundtrips', 'BENCH_ROUNDTRIPS_OUT', 'round-trip');
  return figures.map((f) => ({
    section: 'roundtrips' as const,
    metric: `${f.name} round trips (${f.scale})`,
    value: `${f.depth} (${f.calls} calls, ${f.wallMs.toFixed(0)} ms at ${LATENCY_MS} ms/call)`,
    floor: `<= ${f.target} target`,
    ratio: f.depth / f.target,
    limit: 1,
    pass: f.depth <= f.target,
    detail: { ...f, wallOverLatency: f.wallMs / LATENCY_MS },
  }));
}

/**
 * The spend guard's detection latency, from bench/detection.spec.ts (simulated spend timelines
 * through the real guard): against its schedule plus CloudWatch's metric delay, and beside AWS
 * Budgets' 8-12 hours.
 */
function benchDetection(): Row[] {
  const f = specFigures<DetectionFigure>('detection', 'BENCH_DETECTION_OUT', 'detection');
  const limit = f.scheduleMinutes + f.metricDelayMinutes + f.startDelaySeconds / 60;
  const minutes = (m: number) => `${m.toFixed(1)} min`;
  const { samples, ...detail } = f;
  return [
    {
      section: 'detection',
      metric: `spend guard: threshold crossed -> action (max of ${samples.length}, ${f.timelines} timelines)`,
      value: `${minutes(f.maxMinutes)} (median ${minutes(f.medianMinutes)})`,
      floor: `<= ${minutes(limit)} (schedule ${f.scheduleMinutes} + CloudWatch delay ${f.metricDelayMinutes} + start ${f.startDelaySeconds} s)`,
      ratio: f.maxMinutes / limit,
      limit: 1,
      pass: f.maxMinutes <= limit,
      detail,
    },
    {
      section: 'detection',
      metric: 'the same, beside AWS Budgets (data 8-12 h late)',
      value: minutes(f.maxMinutes),
      floor: `${BUDGETS_DELAY_HOURS.min}-${BUDGETS_DELAY_HOURS.max} h`,
      ratio: f.maxMinutes / (BUDGETS_DELAY_HOURS.min * 60),
      limit: Number.NaN,
      pass: true,
      detail: {
        ratioToMin: f.maxMinutes / (BUDGETS_DELAY_HOURS.min * 60),
        ratioToMax: f.maxMinutes / (BUDGETS_DELAY_HOURS.max * 60),
      },
    },
  ];
}

function printTable(rows: readonly Row[]): void {
  const header = ['metric', 'value', 'floor/target', 'ratio', 'result'];
  const cells = rows.map((r) => [
    r.metric,
    r.value,
    r.floor,
    `${r.ratio.toFixed(2)}x`,
    Number.isNaN(r.limit)
      ? r.pass
        ? 'info'
        : 'FAIL (load)'
      : r.pass
        ? `pass (<= ${r.limit})`
        : `FAIL (> ${r.limit})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => `| ${c.map((s, i) => s.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const runs = quick ? 2 : 5;
  const rows: Row[] = [];
  const started = new Date();
  log(`${quick ? 'quick' : 'full'} run of ${[...only].join(', ')} on ${cpus().length} cores`);
  if (only.has('roundtrips')) rows.push(...benchRoundTrips());
  if (only.has('detection')) rows.push(...benchDetection());
  if (only.has('bundles')) rows.push(...(await benchBundles(runs)));
  if (only.has('synth')) rows.push(...benchSynth(quick ? 2 : 5));
  if (only.has('tests')) rows.push(...benchTests());
  printTable(rows);
  const file = join(ROOT, 'bench', 'results.json');
  const measuredAt = started.toISOString();
  // A partial run (--only) replaces its own sections and keeps the others' last figures.
  const earlier = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { measuredAt?: string; rows?: Row[] })
    : {};
  const kept = (earlier.rows ?? [])
    .filter((r) => !only.has(r.section))
    .map((r) => ({ ...r, measuredAt: r.measuredAt ?? earlier.measuredAt }));
  const merged = [...kept, ...rows.map((r) => ({ ...r, measuredAt }))];
  const results = {
    measuredAt,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    quick,
    sections: SECTIONS.filter((section) => merged.some((r) => r.section === section)),
    rows: merged,
  };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log('wrote bench/results.json');
  if (rows.some((r) => !r.pass && !Number.isNaN(r.limit))) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
