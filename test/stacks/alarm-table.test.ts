import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { alarmEntry } from '../../core/alarms/catalogue';
import { meaningIn, renderAlarmTable, replaceAlarmTable } from '../../scripts/alarm-table';
import { sharedSynth } from '../helpers/synth';

describe("the README's alarm table", () => {
  let table: string;
  beforeAll(async () => {
    table = renderAlarmTable((await sharedSynth()).templateJson('prod', 'service'), 'fa-ai-system-prod-');
  });

  it('is generated from the catalogue and prod (run `npm run alarm-table` after changing an alarm)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme, 'the README alarm table is stale: run `npm run alarm-table`').toBe(
      replaceAlarmTable(readme, table),
    );
  });

  it("shows prod's figures in an alarm's meaning", () => {
    expect(table).toContain(
      '| `error-rate-high` | P1 | error rate above 10% (2 × 5 min) | Incident Response > P1: High Error Rate | none (it pages) | service |',
    );
  });

  it('refuses a description that does not read as the catalogue says', () => {
    expect(() =>
      meaningIn('error-rate-high', alarmEntry('error-rate-high'), 'P2 error rate above 10%.'),
    ).toThrow('alarm error-rate-high: its description "P2 error rate above 10%." is not');
  });
});
