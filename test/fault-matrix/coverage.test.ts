import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lambdaNames, PROJECT_ROOT } from '../../lib/lambda-bundling';
import { FAULTS, HANDLERS, MATRIX, markdownTable } from './matrix';

/** Every `cell('<handler>', '<fault>'` registered in the matrix's test files. */
function registeredCells(): string[] {
  const found: string[] = [];
  for (const file of readdirSync(__dirname).filter(
    (f) => f.endsWith('.test.ts') && f !== 'coverage.test.ts',
  )) {
    const source = readFileSync(join(__dirname, file), 'utf8');
    for (const m of source.matchAll(/\bcell\(\s*'([^']+)',\s*'([^']+)'/g)) found.push(`${m[1]} x ${m[2]}`);
  }
  return found;
}

describe('fault matrix coverage', () => {
  it('has one cell per handler and fault', () => {
    expect(MATRIX).toHaveLength(HANDLERS.length * FAULTS.length);
    for (const c of MATRIX) expect(c.expectation.length).toBeGreaterThan(0);
  });

  it('every (handler, fault) pair of MATRIX has exactly one test, and no test is outside MATRIX', () => {
    const registered = registeredCells();
    const expected = MATRIX.map((c) => `${c.handler} x ${c.fault}`);
    expect([...registered].sort()).toEqual([...expected].sort());
  });

  it('HANDLERS are the Lambdas: every folder under lambdas/ with a handler.ts but the shared frame', () => {
    // A Lambda added without its row here would be left out of the matrix without a failure.
    expect([...HANDLERS].sort()).toEqual(lambdaNames());
  });

  it("the README's fault matrix has one row per handler", () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Fault matrix\n'));
    const table = section.slice(section.indexOf('\n| handler |')).split('\n\n')[0] ?? '';
    const rows = table.trim().split('\n').slice(2);
    expect(rows.map((row) => row.split('|')[1]?.trim()).sort()).toEqual([...HANDLERS].sort());
  });

  it('each handler has its own test file', () => {
    const files = readdirSync(__dirname);
    for (const h of HANDLERS) expect(files).toContain(`${h}.test.ts`);
  });

  it('renders a Markdown table of every cell', () => {
    const table = markdownTable();
    expect(table.split('\n')).toHaveLength(FAULTS.length + 2);
  });
});
