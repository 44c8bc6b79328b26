import { describe, expect, it } from 'vitest';
import {
  ALARM_ENTRIES,
  ALARM_IDS,
  ALARM_RESPONSES,
  type AlarmId,
  alarmDescription,
  alarmEntry,
  DASHBOARD_ROWS,
  RUNBOOK_SECTIONS,
  runbookReference,
  WATCHED_FUNCTIONS,
} from '../../../core/alarms/catalogue';
import { alarmFactsDocumentSchema, serializeAlarmFacts } from '../../../core/alarms/facts';

const entries = ALARM_IDS.map((id) => [id, alarmEntry(id)] as const);

describe('the runbook sections', () => {
  it('are headings (and an optional step) with text, each cited one way', () => {
    for (const [key, path] of Object.entries(RUNBOOK_SECTIONS)) {
      expect(path.length, key).toBeGreaterThanOrEqual(2);
      for (const part of path) expect(part.trim(), key).not.toBe('');
      for (const part of path) expect(part, key).not.toContain(' > ');
    }
    const references = Object.keys(RUNBOOK_SECTIONS).map((key) =>
      runbookReference(key as keyof typeof RUNBOOK_SECTIONS),
    );
    expect(new Set(references).size).toBe(references.length);
  });

  it('are all cited by some alarm', () => {
    const cited = new Set(entries.map(([, e]) => e.runbook));
    expect(Object.keys(RUNBOOK_SECTIONS).filter((key) => !cited.has(key as never))).toEqual([]);
  });
});

describe('the catalogue', () => {
  it('names each alarm with a lowercase id fit for fa-ai-system-<env>-<id>', () => {
    for (const id of ALARM_IDS) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('gives every alarm a one-line meaning, a dashboard row and a known response', () => {
    for (const [id, entry] of entries) {
      expect(entry.meaning.trim(), id).not.toBe('');
      expect(entry.meaning, id).not.toMatch(/\n|\.$/);
      expect(Object.keys(DASHBOARD_ROWS), id).toContain(entry.dashboard);
      expect(ALARM_RESPONSES, id).toContain(entry.response);
    }
  });

  it('leaves no dashboard row empty', () => {
    for (const row of Object.keys(DASHBOARD_ROWS)) {
      expect(entries.filter(([, e]) => e.dashboard === row).length, row).toBeGreaterThan(0);
    }
  });

  it('says which colour a scale-out scales', () => {
    for (const [id, entry] of entries.filter(([, e]) => e.response === 'scale-out')) {
      expect(entry.colour, id).toBeDefined();
      expect(id.startsWith(`${entry.colour}-`), id).toBe(true);
    }
  });

  it('gates a shift on both colours alike', () => {
    const gates = (colour: string) =>
      entries.filter(([, e]) => e.gatesShift && e.colour === colour).map(([id]) => id.slice(colour.length));
    expect(gates('blue')).toEqual(gates('green'));
    expect(gates('blue')).toEqual(['-error-rate', '-latency-p95', '-unhealthy-targets']);
  });

  it('builds composites from alarms of the catalogue that page through them alone', () => {
    for (const [id, entry] of entries.filter(([, e]) => e.anyOf !== undefined)) {
      expect(entry.anyOf?.length, id).toBeGreaterThan(0);
      for (const part of entry.anyOf ?? []) {
        expect(ALARM_IDS, `${id} part ${part}`).toContain(part);
        expect(alarmEntry(part as AlarmId).anyOf, `${id} part ${part}`).toBeUndefined();
      }
    }
  });

  it("rolls traffic back on the P0 alarm only, as the runbook's first P0 action", () => {
    expect(entries.filter(([, e]) => e.response === 'traffic-rollback').map(([id]) => id)).toEqual(['p0']);
  });

  it('watches every automation Lambda', () => {
    for (const name of Object.keys(WATCHED_FUNCTIONS)) expect(ALARM_IDS).toContain(`lambda-${name}-errors`);
  });

  it('describes an alarm with its severity first and its runbook section last', () => {
    expect(alarmDescription(alarmEntry('error-rate-high'), 'error rate above 10%')).toBe(
      'P1 error rate above 10%. Runbook: Incident Response > P1: High Error Rate.',
    );
    expect(alarmDescription(alarmEntry('p0'))).toBe(
      'P0 complete service outage: zero healthy targets or a 5xx storm. First action after a recent ' +
        'deployment: npm run ops -- rollback. Runbook: Incident Response > P0: Complete Service Outage.',
    );
  });
});

describe('the alarm facts', () => {
  const parse = (json: string) => alarmFactsDocumentSchema.parse(JSON.parse(json));

  it("carry every alarm's severity and response, found by exact name", () => {
    const facts = parse(serializeAlarmFacts('fa-ai-system-prod-', ALARM_ENTRIES));
    expect(facts.all.map((f) => f.id).sort()).toEqual([...ALARM_IDS].sort());
    for (const [id, entry] of entries) {
      expect(facts.byName(`fa-ai-system-prod-${id}`), id).toMatchObject({
        id,
        severity: entry.severity,
        response: entry.response,
      });
    }
    expect(facts.byName('fa-ai-system-prod-green-cpu-high')?.colour).toBe('green');
  });

  it('find nothing by a part of a name, another prefix or a prototype member', () => {
    const facts = parse(serializeAlarmFacts('fa-ai-system-prod-', ALARM_ENTRIES));
    for (const name of [
      'p0',
      'fa-ai-system-staging-p0',
      'fa-ai-system-prod-p0 ',
      'constructor',
      '__proto__',
    ]) {
      expect(facts.byName(name), name).toBeUndefined();
    }
  });

  it('stay small: a Lambda has 4 KB for all its variables', () => {
    expect(serializeAlarmFacts('fa-ai-system-staging-', ALARM_ENTRIES).length).toBeLessThan(2048);
  });
});
