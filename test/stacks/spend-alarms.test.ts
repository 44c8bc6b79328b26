/**
 * The spend guard's and the reconciliation's alarms as synthesized: what each reads, and how its
 * condition behaves on datapoints. The evaluator below follows CloudWatch's rules for what these
 * alarms use (the last EvaluationPeriods periods, DatapointsToAlarm of them breaching, missing
 * data per TreatMissingData, the expression MAX([...]) of its metrics per period); it is not a
 * general metric math engine, and refuses an expression it does not know.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let alarms: Map<string, Record<string, any>>;

beforeAll(async () => {
  synth = await sharedSynth();
  alarms = new Map(
    Object.values(synth.templateJson('prod', 'service').Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => [String(r.Properties.AlarmName).replace('fa-ai-system-prod-', ''), r.Properties]),
  );
});

/** One period: a value per metric id (the alarm's query ids; `m` for a single-metric alarm). */
type Period = Readonly<Record<string, number | undefined>>;

function evaluate(p: Record<string, any>, periods: readonly Period[]): 'ALARM' | 'OK' {
  const periodValue = (period: Period): number | undefined => {
    if (p.Metrics === undefined) return period.m;
    const expression = p.Metrics.find((q: any) => q.Expression !== undefined)?.Expression as string;
    const ids = expression.match(/^MAX\(\[([a-z, ]+)\]\)$/)?.[1]?.split(/,\s*/);
    if (ids === undefined) throw new Error(`the evaluator does not know ${expression}`);
    const values = ids.map((id) => period[id]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : Math.max(...values);
  };
  const compare: Record<string, (v: number, t: number) => boolean> = {
    GreaterThanOrEqualToThreshold: (v, t) => v >= t,
    LessThanThreshold: (v, t) => v < t,
  };
  const breaching = periods.slice(-p.EvaluationPeriods).map((period) => {
    const value = periodValue(period);
    if (value === undefined) return p.TreatMissingData === 'breaching';
    return (compare[p.ComparisonOperator] as (v: number, t: number) => boolean)(value, p.Threshold);
  });
  return breaching.filter(Boolean).length >= p.DatapointsToAlarm ? 'ALARM' : 'OK';
}

const metricsOf = (p: Record<string, any>) =>
  (p.Metrics as any[])
    .filter((q) => q.MetricStat !== undefined)
    .map((q) => ({
      id: q.Id,
      name: q.MetricStat.Metric.MetricName,
      dims: Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d: any) => [d.Name, d.Value])),
      stat: q.MetricStat.Stat,
      period: q.MetricStat.Period,
    }));

describe('cost-tracking-not-publishing', () => {
  it("reads the guard's LlmCostSilent of both components, per schedule period", () => {
    expect(metricsOf(alarms.get('cost-tracking-not-publishing') ?? {})).toEqual(
      ['batch', 'interactive'].map((component) => ({
        id: component,
        name: 'LlmCostSilent',
        dims: { service: 'spend-guard', Environment: 'prod', Component: component },
        stat: 'Maximum',
        period: 900,
      })),
    );
  });

  it('fires when either component worked without cost data, not when both flowed or were idle', () => {
    const p = alarms.get('cost-tracking-not-publishing') ?? {};
    expect(evaluate(p, [{ batch: 0, interactive: 1 }])).toBe('ALARM');
    expect(evaluate(p, [{ batch: 1, interactive: 0 }])).toBe('ALARM');
    expect(evaluate(p, [{ batch: 0, interactive: 0 }])).toBe('OK');
    // The guard could not tell (no datapoint): not breaching; a dead guard is the heartbeat's.
    expect(evaluate(p, [{}])).toBe('OK');
    expect(evaluate(p, [{ interactive: 0 }])).toBe('OK');
  });
});

describe('spend-guard-heartbeat', () => {
  it('fires when no run finished in two schedule periods, missing data breaching', () => {
    const p = alarms.get('spend-guard-heartbeat') ?? {};
    expect(p).toMatchObject({ MetricName: 'Heartbeat', Statistic: 'SampleCount', Period: 1800 });
    expect(p.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'service', Value: 'spend-guard' },
        { Name: 'Environment', Value: 'prod' },
      ]),
    );
    expect(p.Dimensions).toHaveLength(2);
    expect(evaluate(p, [{ m: 2 }])).toBe('OK');
    expect(evaluate(p, [{ m: 1 }])).toBe('OK');
    expect(evaluate(p, [{}])).toBe('ALARM');
  });
});

describe('the reconciliation alarms', () => {
  it.each([
    ['spend-under-reported', 'LlmCostUnderReported'],
    ['spend-over-reported', 'LlmCostOverReported'],
    ['reconcile-unknown', 'LlmCostReconciliationUnknown'],
  ])('%s reads %s of both providers over a day and fires on either', (id, name) => {
    const p = alarms.get(id) ?? {};
    expect(
      metricsOf(p).map((m) => [m.id, m.name, m.dims.Provider, m.dims.service, m.stat, m.period]),
    ).toEqual([
      ['anthropic', name, 'anthropic', 'spend-reconcile', 'Maximum', 86_400],
      ['openai', name, 'openai', 'spend-reconcile', 'Maximum', 86_400],
    ]);
    expect(evaluate(p, [{ anthropic: 0, openai: 1 }])).toBe('ALARM');
    expect(evaluate(p, [{ anthropic: 0, openai: 0 }])).toBe('OK');
    // Not compared (not published): not breaching; reconcile-unknown says why.
    expect(evaluate(p, [{}])).toBe('OK');
  });

  it('reconcile-heartbeat fires after 30 hours without a run, not after one on time', () => {
    const p = alarms.get('reconcile-heartbeat') ?? {};
    expect(p).toMatchObject({
      MetricName: 'LlmCostReconciliationHeartbeat',
      Period: 21_600,
      EvaluationPeriods: 5,
    });
    expect(evaluate(p, [{}, {}, {}, {}, {}])).toBe('ALARM');
    expect(evaluate(p, [{ m: 1 }, {}, {}, {}, {}])).toBe('OK');
    expect(evaluate(p, [{}, {}, {}, {}, { m: 1 }])).toBe('OK');
  });
});
