/**
 * Mutation check of the DynamoDB conditions: each `ConditionExpression: '<condition>'` in
 * core/, lambdas/ and lib/ops/ is replaced, one at a time, by one that always holds, and the tests
 * relevant to its file are run. A mutant the tests still pass on ("survived") is a condition no
 * test depends on: nothing shows what it protects.
 *
 * The mutant is `(<condition>) OR attribute_not_exists(mutant_never_set)`: it keeps every
 * placeholder in use, so the engine still accepts the request (DynamoDB refuses unused
 * ExpressionAttributeNames/Values) and a kill is a behaviour the tests saw, not a validation
 * error.
 *
 *   npx tsx scripts/mutate-conditions.ts [--list] [--only <path substring>] [--json <file>]
 *
 * Not part of `npm test` (minutes, not seconds).
 * Each source file is restored after its run, also on Ctrl-C. Exit code 1 when a mutant survived.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SOURCES = ['core', 'lambdas', 'lib/ops'];

/**
 * The test files that exercise the code of each source directory or file (every prefix that
 * matches counts). All of them run the ops table on the real engine: test/ops for the shared
 * code the ops CLI calls (rollback, batch disable/enable, the audit trail); the fault matrix,
 * still on the hand-written fake for traffic, is left out: a kill there would be the fake's.
 */
const TESTS: ReadonlyArray<readonly [prefix: string, tests: readonly string[]]> = [
  ['core/ops-table/items.ts', ['test/core/ops-table/items.test.ts', 'test/lambdas/budget-guard', 'test/ops']],
  ['lambdas/budget-guard/', ['test/lambdas/budget-guard', 'test/ops']],
  // The kill switch: engaged by the budget and spend guards, disabled and re-enabled by the CLI.
  ['core/kill-switch/', ['test/lambdas/budget-guard', 'test/lambdas/spend-guard', 'test/ops']],
  ['core/health/', ['test/lambdas/health-check', 'test/ops']],
  [
    'core/automation/',
    [
      'test/lambdas/automation-verify',
      'test/lambdas/budget-guard',
      'test/lambdas/remediation',
      'test/lambdas/traffic-rollback',
      'test/ops',
    ],
  ],
  ['lambdas/remediation/', ['test/lambdas/remediation']],
  // core/traffic: index.ts and its modules.
  [
    'core/traffic/',
    [
      'test/core/traffic/traffic.test.ts',
      'test/core/traffic/traffic-rollback.test.ts',
      'test/lambdas/traffic-shift',
      'test/lambdas/traffic-rollback',
      'test/ops',
    ],
  ],
  ['lambdas/traffic-shift/', ['test/lambdas/traffic-shift']],
  ['lambdas/traffic-rollback/', ['test/lambdas/traffic-rollback']],
  ['lambdas/health-check/', ['test/lambdas/health-check']],
  ['lambdas/spend-guard/', ['test/lambdas/spend-guard']],
  ['lambdas/automation-verify/', ['test/lambdas/automation-verify']],
  ['lib/ops/', ['test/ops']],
];

function testsFor(file: string): string[] {
  const tests = TESTS.filter(([prefix]) => file.startsWith(prefix)).flatMap(([, t]) => t);
  if (tests.length === 0) throw new Error(`No tests mapped for ${file}: add it to TESTS`);
  return [...new Set(tests)];
}

// `ConditionExpression:` (not KeyConditionExpression) then a string literal, possibly on the next line.
const CONDITION =
  /(?<![A-Za-z])ConditionExpression:\s*('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`)/g;

interface Site {
  readonly file: string;
  readonly line: number;
  readonly condition: string;
  /** Offsets of the literal in the file. */
  readonly start: number;
  readonly end: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function sites(file: string): Site[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(CONDITION)].map((m) => {
    const literal = m[1] as string;
    const start = (m.index as number) + m[0].length - literal.length;
    return {
      file,
      line: text.slice(0, start).split('\n').length,
      condition: literal.slice(1, -1),
      start,
      end: start + literal.length,
    };
  });
}

function mutant(literal: string): string {
  const quote = literal[0] as string;
  return `${quote}(${literal.slice(1, -1)}) OR attribute_not_exists(mutant_never_set)${quote}`;
}

interface RunResult {
  readonly passed: boolean;
  readonly failed: string[];
  readonly seconds: number;
}

function runTests(tests: readonly string[]): RunResult {
  const dir = mkdtempSync(join(tmpdir(), 'mutate-'));
  const out = join(dir, 'report.json');
  const started = Date.now();
  const run = spawnSync(
    'npx',
    ['vitest', 'run', ...tests, '--reporter=json', `--outputFile=${out}`, '--bail=0'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
  );
  const seconds = (Date.now() - started) / 1000;
  let failed: string[] = [];
  try {
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      testResults: Array<{
        name: string;
        message?: string;
        assertionResults: Array<{ fullName: string; status: string }>;
      }>;
    };
    failed = report.testResults.flatMap((f) => {
      const tests = f.assertionResults
        .filter((a) => a.status === 'failed')
        .map((a) => `${relative(ROOT, f.name)} > ${a.fullName}`);
      // A file that failed outside its tests (e.g. its afterAll) has no failed test.
      return tests.length > 0 || !f.message
        ? tests
        : [`${relative(ROOT, f.name)}: ${f.message.split('\n')[0]}`];
    });
  } catch {
    failed = [`(no report: exit ${run.status}) ${(run.stderr ?? '').split('\n').slice(-5).join(' ')}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { passed: run.status === 0, failed, seconds };
}

function main(): void {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
  const all = SOURCES.flatMap(sourceFiles)
    .filter((f) => only === undefined || f.includes(only))
    .flatMap(sites);

  if (args.includes('--list')) {
    for (const s of all) console.log(`${s.file}:${s.line}  ${s.condition}`);
    return;
  }
  // Without a green baseline every mutant would look killed.
  const testSets = [...new Set(all.map((s) => testsFor(s.file).join(' ')))];
  for (const set of testSets) {
    const baseline = runTests(set.split(' '));
    if (!baseline.passed) {
      console.error(`Baseline failing for ${set}:\n  ${baseline.failed.join('\n  ')}`);
      process.exit(2);
    }
  }

  let restore: (() => void) | undefined;
  process.on('SIGINT', () => {
    restore?.();
    process.exit(130);
  });
  const results: Array<Site & { killed: boolean; by: string[]; seconds: number }> = [];
  for (const site of all) {
    const path = join(ROOT, site.file);
    const original = readFileSync(path, 'utf8');
    restore = () => writeFileSync(path, original);
    let run: RunResult;
    try {
      writeFileSync(
        path,
        original.slice(0, site.start) +
          mutant(original.slice(site.start, site.end)) +
          original.slice(site.end),
      );
      run = runTests(testsFor(site.file));
    } finally {
      restore();
      restore = undefined;
    }
    const killed = !run.passed;
    results.push({ ...site, killed, by: run.failed, seconds: run.seconds });
    console.log(
      `${killed ? 'KILLED  ' : 'SURVIVED'} ${site.file}:${site.line} ${site.condition} (${run.seconds.toFixed(0)} s)`,
    );
    for (const test of run.failed.slice(0, 3)) console.log(`           by ${test}`);
  }
  const killed = results.filter((r) => r.killed).length;
  console.log(`\n${killed} killed, ${results.length - killed} survived, of ${results.length} mutants`);
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
  process.exit(killed === results.length ? 0 : 1);
}

main();
