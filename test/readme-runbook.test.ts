import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPS_COMMANDS } from '../lib/ops/commands';

// The README's runbook table claims, per procedure, what replaces it and which test proves it.
// A renamed test, a dropped command or a removed Lambda would leave the claim standing and
// false; this keeps the table's every reference real.
const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Row {
  readonly section: string;
  readonly procedure: string;
  readonly replacedBy: string;
  readonly provenBy: string;
}

/** The table between the runbook-table markers, one entry per body row. */
function runbookRows(markdown: string): Row[] {
  const start = markdown.indexOf('<!-- runbook-table:start -->');
  const end = markdown.indexOf('<!-- runbook-table:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no runbook table between its markers');
  const lines = markdown
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
  return lines.slice(2).map((line) => {
    // `\|` inside a cell is a literal bar of a shell pipeline, not a column.
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    if (cells.length !== 4) throw new Error(`runbook table row has ${cells.length} cells, not 4: ${line}`);
    const [section, procedure, replacedBy, provenBy] = cells as [string, string, string, string];
    return { section, procedure, replacedBy, provenBy };
  });
}

/** The `file`: "test name" pairs of a proven-by cell. */
function citedTests(cell: string): { file: string; name: string }[] {
  return [...cell.matchAll(/`(test\/[^`]+\.test\.ts)`: "([^"]+)"/g)].map((m) => ({
    file: m[1] as string,
    name: m[2] as string,
  }));
}

const rows = runbookRows(readme);
const commandNames = OPS_COMMANDS.map((c) => c.name);

describe("the README's runbook table", () => {
  it('has a row for every runbook part it covers', () => {
    const sections = new Set(rows.map((r) => r.section));
    for (const section of [
      'Morning Health Check',
      'Weekly Batch Processing',
      'P0: Complete Service Outage',
      'P1: High Error Rate',
      'Batch Processing Taking Too Long',
      'Hallucination Detection Failures',
      'Database Connection Pool Exhausted',
      'Backup Procedures',
      'Database Maintenance',
      'Budget Alerts',
      'Cost Optimization Actions',
    ]) {
      expect(sections, section).toContain(section);
    }
  });

  it.each(rows.map((r) => [`${r.section}: ${r.procedure}`, r] as const))(
    'cites tests that exist under those names: %s',
    (_, row) => {
      const cited = citedTests(row.provenBy);
      if (!row.replacedBy.includes('**not replaced**')) expect(cited.length).toBeGreaterThan(0);
      for (const { file, name } of cited) {
        const path = join(root, file);
        expect(existsSync(path), file).toBe(true);
        expect(readFileSync(path, 'utf8').includes(name), `${file} has no test "${name}"`).toBe(true);
      }
    },
  );

  it('names only ops commands the CLI has', () => {
    const named = rows.flatMap((r) =>
      [...r.replacedBy.matchAll(/`ops ([a-z][a-z ]*?)(?: \[|`| --)/g)].map((m) => (m[1] as string).trim()),
    );
    expect(named.length).toBeGreaterThan(10);
    for (const name of named) expect(commandNames, `ops ${name}`).toContain(name);
  });

  it('names only Lambdas that exist', () => {
    const named = rows.flatMap((r) =>
      [...r.replacedBy.matchAll(/Lambda `([a-z-]+)`/g)].map((m) => m[1] as string),
    );
    expect(named.length).toBeGreaterThan(5);
    for (const name of named) expect(existsSync(join(root, 'lambdas', name, 'handler.ts')), name).toBe(true);
  });
});
