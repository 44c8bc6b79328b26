/**
 * Mutation check of the ops table's conditional writes: every `ConditionExpression` in
 * lambdas/ and lib/ops/ is made, one at a time, into an expression that always holds, and the
 * test files of its code are run. A mutant is killed when a test fails. Not part of `npm test`
 * (minutes, not seconds): `npx tsx scripts/mutate-conditions.ts [--list]`.
 *
 * The mutant keeps the original expression and ORs a tautology onto it, so every placeholder
 * stays used: DynamoDB (and the local engine) reject unused names and values, and a mutant
 * killed by that validation error would say nothing about the tests.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const TAUTOLOGY = 'attribute_not_exists(mutantNever) OR attribute_exists(mutantNever)';

/**
 * The test files that exercise the code of each source directory or file. test/ops runs for the
 * shared code the ops CLI calls (rollback, batch disable/enable, the audit trail): its tests
 * kill those mutants on their own too.
 */
const TESTS: ReadonlyArray<readonly [prefix: string, tests: readonly string[]]> = [
  [
    'lambdas/shared/ops-table.ts',
    ['test/lambdas/shared/ops-table.test.ts', 'test/lambdas/budget-guard', 'test/ops'],
  ],
  ['lambdas/budget-guard/', ['test/lambdas/budget-guard', 'test/ops']],
  ['lambdas/remediation/', ['test/lambdas/remediation']],
  [
    'lambdas/shared/traffic.ts',
    [
      'test/lambdas/shared/traffic.test.ts',
      'test/lambdas/traffic-shift',
      'test/lambdas/traffic-rollback',
      'test/ops',
    ],
  ],
  ['lambdas/traffic-shift/', ['test/lambdas/traffic-shift']],
  ['lambdas/traffic-rollback/', ['test/lambdas/traffic-rollback']],
  ['lambdas/health-check/', ['test/lambdas/health-check']],
  ['lib/ops/', ['test/ops']],
];

interface Mutant {
  readonly file: string;
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly original: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** `ConditionExpression: <value>,` (not KeyConditionExpression), the value up to its line's comma. */
const PATTERN = /(?<![A-Za-z])ConditionExpression:\s*([\s\S]*?),\n/g;

function findMutants(): Mutant[] {
  const files = [...sourceFiles(join(ROOT, 'lambdas')), ...sourceFiles(join(ROOT, 'lib/ops'))];
  return files.flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    return [...text.matchAll(PATTERN)].flatMap((match) => {
      const value = match[1];
      if (value === undefined || match.index === undefined) return [];
      const start = match.index + match[0].indexOf(value, 'ConditionExpression:'.length);
      return [
        {
          file: relative(ROOT, path),
          line: text.slice(0, match.index).split('\n').length,
          start,
          end: start + value.length,
          original: value,
        },
      ];
    });
  });
}

function testsFor(file: string): readonly string[] {
  const tests = TESTS.filter(([prefix]) => file.startsWith(prefix)).flatMap(([, t]) => t);
  if (tests.length === 0) throw new Error(`No tests mapped for ${file}: add it to TESTS`);
  return [...new Set(tests)];
}

function runTests(tests: readonly string[]): boolean {
  const run = spawnSync('npx', ['vitest', 'run', '--bail', '1', ...tests], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return run.status === 0;
}

const mutants = findMutants();
if (process.argv.includes('--list')) {
  for (const m of mutants) console.log(`${m.file}:${m.line}  ${m.original.replace(/\s+/g, ' ')}`);
  process.exit(0);
}

let killed = 0;
for (const [i, m] of mutants.entries()) {
  const path = join(ROOT, m.file);
  const original = readFileSync(path, 'utf8');
  const mutated = `${original.slice(0, m.start)}\`(\${${m.original}}) OR ${TAUTOLOGY}\`${original.slice(m.end)}`;
  writeFileSync(path, mutated);
  let passed: boolean;
  try {
    passed = runTests(testsFor(m.file));
  } finally {
    writeFileSync(path, original);
  }
  if (!passed) killed += 1;
  console.log(
    `${String(i + 1).padStart(2)}/${mutants.length} ${passed ? 'SURVIVED' : 'killed  '} ${m.file}:${m.line}  ${m.original.replace(/\s+/g, ' ')}`,
  );
}
console.log(`\n${mutants.length} mutants, ${killed} killed, ${mutants.length - killed} survived`);
process.exit(killed === mutants.length ? 0 : 1);
