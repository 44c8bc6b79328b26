/**
 * The pure parts of `ops diagnose`: the error table's translation into Logs Insights, the
 * conditions judged from readings, and the decision table choosing the runbook section.
 */
import { describe, expect, it } from 'vitest';
import { LOG_PATTERNS, RUNBOOK } from '../../lib/constructs/runbook';
import {
  type Condition,
  DECISION_TABLE,
  findConditions,
  type Limits,
  nextSteps,
  type Readings,
} from '../../lib/ops/diagnose/conditions';
import {
  insightsTime,
  patternCountQuery,
  translatePattern,
  UnsupportedPatternError,
} from '../../lib/ops/diagnose/insights';
import type { TrafficFigures } from '../../lib/ops/diagnose/sources';

describe('the error table in Logs Insights', () => {
  it.each(LOG_PATTERNS.map((p) => [p.metric, p.pattern]))('translates %s (%s)', (_, pattern) => {
    const { filter, flag } = translatePattern(pattern);
    expect(filter.length).toBeGreaterThan(0);
    expect(flag).toMatch(/^(strcontains|greatest)\(/);
  });

  it('matches a JSON field exactly, terms as substrings, and any of ?-terms', () => {
    expect(translatePattern('{ $.level = "ERROR" }')).toEqual({
      filter: 'level = "ERROR"',
      flag: 'strcontains(concat("<", level, ">"), "<ERROR>")',
    });
    expect(translatePattern('"Vector search failed"')).toEqual({
      filter: '@message like "Vector search failed"',
      flag: 'strcontains(@message, "Vector search failed")',
    });
    expect(translatePattern('?"429 Too Many Requests" ?"rate_limit"')).toEqual({
      filter: '@message like "429 Too Many Requests" or @message like "rate_limit"',
      flag: 'greatest(strcontains(@message, "429 Too Many Requests"), strcontains(@message, "rate_limit"))',
    });
  });

  it.each([
    ['"a" "b" (all of)', '"a" "b"'],
    ['a numeric comparison', '{ $.latency > 3 }'],
    ['an exclusion', '-"DEBUG"'],
    ['an unquoted term', 'ERROR'],
  ])('refuses a pattern it cannot count exactly: %s', (_, pattern) => {
    expect(() => translatePattern(pattern)).toThrow(UnsupportedPatternError);
  });

  it('counts every row of the table in one query, per 5-minute bin and log group', () => {
    const query = patternCountQuery(LOG_PATTERNS);
    for (const p of LOG_PATTERNS) expect(query).toContain(` as ${p.metric}`);
    expect(query).toMatch(/ by bin\(5m\), @log$/);
  });

  it('has alarm periods that are whole numbers of bins', () => {
    for (const p of LOG_PATTERNS) expect(p.periodMinutes % 5).toBe(0);
  });

  it('reads Insights times as UTC', () => {
    expect(insightsTime('2026-11-25 04:05:00.000')?.toISOString()).toBe('2026-11-25T04:05:00.000Z');
    expect(insightsTime('not a time')).toBeUndefined();
  });
});

const LIMITS: Limits = {
  errorRateHigh: 0.1,
  errorRateMax: 0.01,
  p95MaxSeconds: 3,
  dbConnectionsThreshold: 80,
  cacheMemoryMaxPercent: 80,
  alarmSeverities: { 'error-rate-high': 'P1', 'blue-cpu-high': 'P2' },
};
const SCOPE = {
  services: [
    { colour: 'blue' as const, serviceName: 'fa-ai-system-blue-service' },
    { colour: 'green' as const, serviceName: 'fa-ai-system-green-service' },
  ],
  targetGroups: (['blue', 'green'] as const).map((colour) => ({
    colour,
    targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:222222222222:targetgroup/fa-ai-system-${colour}/73e2d6bc24d8a067`,
    targetGroupFullName: `targetgroup/fa-ai-system-${colour}/73e2d6bc24d8a067`,
  })),
};
const quiet: TrafficFigures = { requests: 0, errors: 0, errorRate: null, p95Seconds: null };
const unread = { ok: false as const, error: 'AccessDenied: no' };

function readings(overrides: Partial<Readings> = {}): Readings {
  return {
    traffic: {
      ok: true,
      value: {
        window: { start: new Date(0), end: new Date(900_000), label: '15 min' },
        colours: { blue: quiet, green: quiet },
        loadBalancer: quiet,
      },
    },
    services: unread,
    targets: { blue: unread, green: unread },
    database: unread,
    connections: unread,
    cache: unread,
    cacheMemory: unread,
    alarms: { ok: true, value: [] },
    patterns: { ok: true, value: [] },
    ...overrides,
  };
}

const traffic = (blue: Partial<TrafficFigures>): Readings['traffic'] => ({
  ok: true,
  value: {
    window: { start: new Date(0), end: new Date(900_000), label: '15 min' },
    colours: { blue: { ...quiet, ...blue }, green: quiet },
    loadBalancer: quiet,
  },
});

describe('conditions', () => {
  it.each([
    [0.1, ['blue-error-rate']],
    [0.1001, ['error-rate-high']],
    [0.01, []],
    [0.02, ['blue-error-rate']],
  ])('an error rate of %s meets %j (strictly above, as the alarms)', (rate, ids) => {
    const found = findConditions(
      readings({ traffic: traffic({ requests: 1000, errorRate: rate }) }),
      LIMITS,
      SCOPE,
    );
    expect(found.map((c) => c.id)).toEqual(ids);
  });

  it('takes a P95 above the threshold as P1, at it as fine', () => {
    const at = findConditions(readings({ traffic: traffic({ requests: 10, p95Seconds: 3 }) }), LIMITS, SCOPE);
    const above = findConditions(
      readings({ traffic: traffic({ requests: 10, p95Seconds: 3.01 }) }),
      LIMITS,
      SCOPE,
    );
    expect(at.some((c) => c.id === 'latency-p95')).toBe(false);
    expect(above.find((c) => c.id === 'latency-p95')).toMatchObject({ level: 'P1', colour: 'blue' });
  });

  const targets = (states: string[]) => ({
    ok: true as const,
    value: {
      descriptions: states.map((State, i) => ({
        Target: { Id: `10.0.1.${i + 10}`, Port: 8000 },
        TargetHealth: { State: State as 'healthy' },
      })),
      summary: { healthy: 0, total: 0, problems: [] },
    },
  });

  it('never concludes zero healthy targets from a target group it could not read', () => {
    const oneRead = readings({ targets: { blue: targets([]), green: unread } });
    expect(findConditions(oneRead, LIMITS, SCOPE).some((c) => c.id === 'zero-healthy-targets')).toBe(false);
  });

  it("judges targets by the health check's rules: none healthy is P0, some unhealthy P2, draining neither", () => {
    const ids = (blue: string[], green: string[]) =>
      findConditions(
        readings({ targets: { blue: targets(blue), green: targets(green) } }),
        LIMITS,
        SCOPE,
      ).map((c) => [c.id, c.level]);
    expect(ids(['unhealthy'], [])).toEqual([['zero-healthy-targets', 'P0']]);
    expect(ids(['healthy', 'unhealthy'], [])).toEqual([['targets-unhealthy', 'P2']]);
    expect(ids(['healthy', 'draining'], ['initial'])).toEqual([]);
  });

  it('judges the data tier: a status that does not serve, and the newest figure strictly above its alarm', () => {
    const tier = (connections: number | null, memory: number | null, limits: Limits = LIMITS) =>
      findConditions(
        readings({
          database: {
            ok: true,
            value: { id: 'fa-ai-system-db', status: 'rebooting', pendingModifications: false },
          },
          connections: { ok: true, value: { latest: connections, max: connections, minutes: 5 } },
          cache: { ok: true, value: { id: 'fa-ai-cache', status: 'modifying', members: [] } },
          cacheMemory: { ok: true, value: { latestPercent: memory, byNode: {} } },
        }),
        limits,
        SCOPE,
      ).map((c) => [c.id, c.level, c.summary]);
    expect(tier(81, 80.04)).toEqual([
      ['database-status', 'P1', 'database fa-ai-system-db is rebooting'],
      ['db-connections-high', 'P1', "database connections 81 > 80 (the alarm's threshold)"],
      ['cache-status', 'P2', 'cache fa-ai-cache is modifying'],
      ['cache-memory-high', 'P2', 'cache memory 80% > 80%'],
    ]);
    const statusOnly = ['database-status', 'cache-status'];
    expect(tier(80, 80).map(([id]) => id)).toEqual(statusOnly);
    expect(tier(null, null).map(([id]) => id)).toEqual(statusOnly);
    const unknownLimits = { ...LIMITS, dbConnectionsThreshold: undefined, cacheMemoryMaxPercent: undefined };
    expect(tier(500, 99, unknownLimits).map(([id]) => id)).toEqual(statusOnly);
  });

  it('gives an alarm in ALARM its catalogued severity, an unknown one a note', () => {
    const found = findConditions(
      readings({
        alarms: {
          ok: true,
          value: [
            { name: 'fa-ai-system-prod-error-rate-high', id: 'error-rate-high', type: 'metric' },
            { name: 'fa-ai-system-prod-someone-elses', id: 'someone-elses', type: 'metric' },
          ],
        },
      }),
      LIMITS,
      SCOPE,
    );
    expect(found.map((c) => [c.id, c.level])).toEqual([
      ['error-rate-high', 'P1'],
      ['someone-elses', 'note'],
    ]);
  });

  it('takes a pattern at its alarm threshold per period at the alarm severity, below it as a note', () => {
    const count = (metric: string, peak: number) => ({
      metric,
      pattern: '"x"',
      byColour: { blue: peak, green: 0 },
      total: peak,
      peak,
      threshold: 5,
      periodMinutes: 5,
    });
    const found = findConditions(
      readings({
        patterns: { ok: true, value: [count('ConnectionTimeout', 5), count('VectorSearchFailed', 4)] },
      }),
      LIMITS,
      SCOPE,
    );
    expect(found.map((c) => [c.id, c.level])).toEqual([
      ['log-connection-timeout', 'P1'],
      ['log-vector-search-failed', 'note'],
    ]);
  });
});

const condition = (id: string, level: Condition['level'] = 'P1'): Condition => ({ id, level, summary: id });

describe('the decision table', () => {
  it.each([
    [['log-db-pool-exhausted'], RUNBOOK.pool],
    [['db-connections-high', 'error-rate-high'], RUNBOOK.pool],
    [['error-rate-high', 'p0'], RUNBOOK.outage],
    [['log-rate-limited'], `${RUNBOOK.errorRate} > Common Patterns: "429 Too Many Requests"`],
    [['log-vector-search-failed'], `${RUNBOOK.errorRate} > Common Patterns: "Vector search failed"`],
    [['log-connection-timeout'], `${RUNBOOK.errorRate} > Common Patterns: "Connection timeout"`],
    [['log-fact-check-failed'], RUNBOOK.hallucination],
    [['green-latency-p95'], RUNBOOK.latency],
    [['blue-cpu-high'], RUNBOOK.resources],
    [['cost-per-query-high'], RUNBOOK.costs],
    [['cache-memory-high'], RUNBOOK.batchSlow],
    [['lambda-remediation-errors'], RUNBOOK.partial],
    [['an-alarm-nobody-catalogued'], RUNBOOK.partial],
  ])('sends %j to %s first', (ids, section) => {
    expect(nextSteps(ids.map((id) => condition(id)))[0]?.section).toBe(section);
  });

  it('follows the most severe condition first, whatever the row order', () => {
    const steps = nextSteps([condition('log-rate-limited', 'note'), condition('error-rate-high', 'P1')]);
    expect(steps.map((s) => [s.section, s.level])).toEqual([
      [RUNBOOK.errorRate, 'P1'],
      [`${RUNBOOK.errorRate} > Common Patterns: "429 Too Many Requests"`, 'note'],
    ]);
  });

  it('gives each condition one step and nothing when nothing was found', () => {
    const steps = nextSteps([condition('db-connections-high'), condition('log-db-pool-exhausted')]);
    expect(steps).toHaveLength(1);
    expect(steps[0]?.because.map((c) => c.id)).toEqual(['db-connections-high', 'log-db-pool-exhausted']);
    expect(nextSteps([])).toEqual([]);
  });

  it("names only sections of the runbook's table of contents", () => {
    const roots = [
      'Incident Response > ',
      'Common Issues > ',
      'Performance Tuning > ',
      'Daily Operations > ',
    ];
    for (const row of DECISION_TABLE)
      expect(
        roots.some((r) => row.section.startsWith(r)),
        row.section,
      ).toBe(true);
  });
});
