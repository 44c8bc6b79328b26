import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALARM_IDS,
  type AlarmId,
  alarmEntry,
  DASHBOARD_ROWS,
  runbookReference,
} from '../../core/alarms/catalogue';
import { ENVIRONMENT_NAMES } from '../../lib/config';
import { type Synthesized, sharedSynth } from '../helpers/synth';

// Every alarm of every synthesized environment against the catalogue: built by the factory
// (named, described and routed from its entry, on its dashboard row), and nothing else.
let synth: Synthesized;

beforeAll(async () => {
  synth = await sharedSynth();
});

const ALARM_TYPES = ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'];
const PINNED: Record<string, string> = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'alarm-logical-ids.json'), 'utf8'),
);

interface Found {
  readonly logicalId: string;
  readonly stack: 'stateful' | 'service';
  readonly properties: Record<string, any>;
}

describe.each(ENVIRONMENT_NAMES)('the alarms of %s', (envName) => {
  const prefix = `fa-ai-system-${envName}-`;
  let alarms: Found[];
  let dashboardBody: string;

  beforeAll(() => {
    alarms = (['stateful', 'service'] as const).flatMap((stack) =>
      Object.entries(synth.templateJson(envName, stack).Resources as Record<string, any>)
        .filter(([, r]) => ALARM_TYPES.includes(r.Type))
        .map(([logicalId, r]) => ({ logicalId, stack, properties: r.Properties })),
    );
    const dashboard = Object.values(
      synth.templateJson(envName, 'service').Resources as Record<string, any>,
    ).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    dashboardBody = JSON.stringify(dashboard?.Properties.DashboardBody);
  });

  /** The catalogue id of an alarm, from its name; undefined when it has none. */
  const idOf = (alarm: Found): AlarmId | undefined => {
    const name = alarm.properties.AlarmName;
    const id = typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
    return (ALARM_IDS as readonly string[]).includes(id ?? '') ? (id as AlarmId) : undefined;
  };

  it(`are each named ${prefix}<id> after an entry of the catalogue`, () => {
    expect(alarms.filter((a) => idOf(a) === undefined).map((a) => a.logicalId)).toEqual([]);
  });

  it('cover every entry of the catalogue exactly once', () => {
    const built = alarms.map(idOf).sort();
    expect(built).toEqual([...ALARM_IDS].sort());
  });

  it('describe severity first, meaning, and the runbook section last', () => {
    for (const alarm of alarms) {
      const id = idOf(alarm) as AlarmId;
      const entry = alarmEntry(id);
      const description = String(alarm.properties.AlarmDescription);
      expect(description.startsWith(`${entry.severity} `), id).toBe(true);
      expect(description.endsWith(`. Runbook: ${runbookReference(entry.runbook)}.`), id).toBe(true);
    }
  });

  it("notify their severity's topic, except the parts of a composite", () => {
    const parts = new Set(ALARM_IDS.flatMap((id) => alarmEntry(id).anyOf ?? []));
    for (const alarm of alarms) {
      const id = idOf(alarm) as AlarmId;
      const topics = (actions: unknown) =>
        [...JSON.stringify(actions ?? []).matchAll(/AlertsP(\d)[0-9A-F]{8}/g)].map((m) => `P${m[1]}`);
      const expected = parts.has(id) ? [] : [alarmEntry(id).severity];
      expect(topics(alarm.properties.AlarmActions), id).toEqual(expected);
      expect(topics(alarm.properties.OKActions), id).toEqual(alarmEntry(id).notifyOk ? expected : []);
    }
  });

  it('are on the dashboard, each in the row the catalogue places it on', () => {
    const rows = [...dashboardBody.matchAll(/\{\\"type\\":\\"alarm\\".*?\\"title\\":\\"([^\\]+)\\"/g)];
    expect(rows.map((m) => m[1])).toEqual(Object.values(DASHBOARD_ROWS));
    for (const alarm of alarms) {
      const id = idOf(alarm) as AlarmId;
      const title = DASHBOARD_ROWS[alarmEntry(id).dashboard];
      const row = dashboardBody.split('{\\"type\\":').find((w) => w.includes(`\\"title\\":\\"${title}\\"`));
      expect(row, id).toContain(JSON.stringify({ 'Fn::GetAtt': [alarm.logicalId, 'Arn'] }));
    }
  });

  it('keep their logical ids (a changed one would delete the alarm of that name on deploy)', () => {
    const ids = Object.fromEntries(alarms.map((a) => [idOf(a), a.logicalId]));
    expect(ids, 'a new alarm: pin its logical id in test/fixtures/alarm-logical-ids.json').toEqual(PINNED);
  });
});
