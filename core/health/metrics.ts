/**
 * Checks 3 and 4 (error rate, p95 latency): every figure comes from ONE GetMetricData call,
 * so the number of calls does not grow with the target groups.
 */

import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { count, type Outcome, percent, targetGroupLabel } from './checks';
import type { HealthThresholds, TargetGroupRef } from './config';
import { type CheckResult, RUNBOOK } from './report';

const ALB_NAMESPACE = 'AWS/ApplicationELB';

/** The time range the metrics cover and its name in the report. */
export interface MetricWindow {
  readonly start: Date;
  readonly end: Date;
  /** "24 h", "15 min". */
  readonly label: string;
}

/**
 * The window of `minutes` ending at `now`, aligned to whole minutes: with the query period
 * equal to the window, CloudWatch then returns one datapoint per query (an unaligned start can
 * split it in two, which the readers below also handle).
 */
export function metricWindow(now: Date, minutes: number, label: string): MetricWindow {
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  return { start: new Date(end.getTime() - minutes * 60_000), end, label };
}

// Query ids must start with a lower-case letter: letters, digits and underscores only.
const IDS = {
  requests: 'requests',
  target5xx: 'target5xx',
  elb5xx: 'elb5xx',
  p95: 'p95',
  groupRequests: (i: number) => `tg${i}_requests`,
  group5xx: (i: number) => `tg${i}_target5xx`,
  groupP95: (i: number) => `tg${i}_p95`,
} as const;

/** The ids of {@link metricQueries}' queries, for other readers of its results (ops diagnose). */
export const METRIC_QUERY_IDS = IDS;

/**
 * The queries of one GetMetricData call: the load balancer's RequestCount, target and ELB 5xx
 * counts (Sum) and TargetResponseTime p95, plus per target group RequestCount, target 5xx and
 * p95 for the report's detail. One period covering the whole window.
 */
export function metricQueries(
  loadBalancerFullName: string,
  targetGroups: readonly TargetGroupRef[],
  window: MetricWindow,
): MetricDataQuery[] {
  const period = Math.round((window.end.getTime() - window.start.getTime()) / 1000);
  const lb = { Name: 'LoadBalancer', Value: loadBalancerFullName };
  const query = (
    id: string,
    metricName: string,
    stat: string,
    dimensions: Array<{ Name: string; Value: string }>,
  ): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: ALB_NAMESPACE, MetricName: metricName, Dimensions: dimensions },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  });
  return [
    query(IDS.requests, 'RequestCount', 'Sum', [lb]),
    query(IDS.target5xx, 'HTTPCode_Target_5XX_Count', 'Sum', [lb]),
    query(IDS.elb5xx, 'HTTPCode_ELB_5XX_Count', 'Sum', [lb]),
    query(IDS.p95, 'TargetResponseTime', 'p95', [lb]),
    ...targetGroups.flatMap((tg, i) => {
      const dims = [{ Name: 'TargetGroup', Value: tg.targetGroupFullName }, lb];
      return [
        query(IDS.groupRequests(i), 'RequestCount', 'Sum', dims),
        query(IDS.group5xx(i), 'HTTPCode_Target_5XX_Count', 'Sum', dims),
        query(IDS.groupP95(i), 'TargetResponseTime', 'p95', dims),
      ];
    }),
  ];
}

/** A figure read from the results, or why it cannot be. */
type Reading =
  | { readonly ok: true; readonly values: readonly number[] }
  | { readonly ok: false; readonly why: string };

function read(results: readonly MetricDataResult[], id: string): Reading {
  const result = results.find((r) => r.Id === id);
  if (result === undefined) return { ok: false, why: `no result for ${id}` };
  // PartialData means more pages: a sum over part of the window would understate the errors.
  if (result.StatusCode !== 'Complete') {
    return { ok: false, why: `${id}: StatusCode ${result.StatusCode ?? 'missing'}` };
  }
  return { ok: true, values: result.Values ?? [] };
}

// No datapoint for a count means nothing was counted (ALB publishes no zero 5xx datapoints).
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
// Percentiles of two partial periods cannot be combined: the worse one is the safe figure.
const worst = (values: readonly number[]) => (values.length === 0 ? undefined : Math.max(...values));

function seconds(value: number): string {
  return `${Number(value.toFixed(2))} s`;
}

/** One line per target group for the detail; a group whose figures are missing says so. */
function perGroup(
  targetGroups: readonly TargetGroupRef[],
  describe: (i: number) => string | undefined,
): string {
  return targetGroups
    .map((tg, i) => `${targetGroupLabel(tg)}: ${describe(i) ?? 'figures unavailable'}`)
    .join('; ');
}

function unknown(
  name: 'errorRate' | 'latencyP95',
  threshold: string,
  figure: string,
  why: string,
): CheckResult {
  return { name, status: 'UNKNOWN', figure, threshold, runbookSection: RUNBOOK.manual, detail: why };
}

/**
 * (target 5xx + ELB 5xx) / requests over the window below `errorRateMax`. FAIL P1 above
 * `errorRateHigh` (the runbook's P1 high error rate), P2 otherwise. No requests: PASS "no traffic".
 */
export function evaluateErrorRate(
  thresholds: HealthThresholds,
  targetGroups: readonly TargetGroupRef[],
  window: MetricWindow,
  outcome: Outcome<MetricDataResult[]>,
): CheckResult {
  const threshold = `< ${percent(thresholds.errorRateMax)}`;
  if (!outcome.ok) return unknown('errorRate', threshold, 'could not read the metrics', outcome.error);
  const results = outcome.value;
  const readings = [read(results, IDS.requests), read(results, IDS.target5xx), read(results, IDS.elb5xx)];
  const failed = readings.flatMap((r) => (r.ok ? [] : [r.why]));
  if (failed.length > 0) return unknown('errorRate', threshold, 'metrics incomplete', failed.join('; '));
  const [requests, target5xx, elb5xx] = readings.map((r) => (r.ok ? sum(r.values) : 0)) as [
    number,
    number,
    number,
  ];

  const detail = perGroup(targetGroups, (i) => {
    const req = read(results, IDS.groupRequests(i));
    const err = read(results, IDS.group5xx(i));
    if (!req.ok || !err.ok) return undefined;
    const r = sum(req.values);
    const e = sum(err.values);
    return r === 0 && e === 0 ? 'no traffic' : `${percent(e / Math.max(r, e))} of ${count(r)} requests`;
  });
  const errors = target5xx + elb5xx;
  if (requests === 0 && errors === 0) {
    return { name: 'errorRate', status: 'PASS', figure: `no traffic in ${window.label}`, threshold, detail };
  }
  // The ALB leaves out of RequestCount the requests it answered itself before picking a target
  // (a 503 with no healthy target): without this floor an outage would read as "no traffic".
  const rate = errors / Math.max(requests, errors);
  const figure = `${percent(rate)} (${count(errors)} 5xx of ${count(requests)} requests in ${window.label})`;
  if (rate < thresholds.errorRateMax) return { name: 'errorRate', status: 'PASS', figure, threshold, detail };
  const high = rate > thresholds.errorRateHigh;
  return {
    name: 'errorRate',
    status: 'FAIL',
    figure,
    threshold,
    severity: high ? 'P1' : 'P2',
    runbookSection: high ? RUNBOOK.highErrorRate : RUNBOOK.elevatedErrors,
    detail,
  };
}

/** The severity of a P95 over the threshold (test/lambdas/health-check/logic.test.ts ties it to the catalogue). */
export const LATENCY_SEVERITY = 'P1';

/**
 * The load balancer's TargetResponseTime p95 over the window below `p95MaxSeconds`; FAIL at
 * LATENCY_SEVERITY, the severity of the catalogue's `latency-p95` alarm on the same figure (the
 * runbook's P1 "slow responses"): on-call must not read P2 from the check and P1 from the alarm.
 * Beyond twice the threshold it points at the outage section. No datapoint: PASS "no traffic".
 */
export function evaluateLatency(
  thresholds: HealthThresholds,
  targetGroups: readonly TargetGroupRef[],
  window: MetricWindow,
  outcome: Outcome<MetricDataResult[]>,
): CheckResult {
  const threshold = `< ${seconds(thresholds.p95MaxSeconds)}`;
  if (!outcome.ok) return unknown('latencyP95', threshold, 'could not read the metrics', outcome.error);
  const results = outcome.value;
  const reading = read(results, IDS.p95);
  if (!reading.ok) return unknown('latencyP95', threshold, 'metrics incomplete', reading.why);

  const detail = perGroup(targetGroups, (i) => {
    const r = read(results, IDS.groupP95(i));
    if (!r.ok) return undefined;
    const p = worst(r.values);
    return p === undefined ? 'no traffic' : `p95 ${seconds(p)}`;
  });
  const p95 = worst(reading.values);
  if (p95 === undefined) {
    return { name: 'latencyP95', status: 'PASS', figure: `no traffic in ${window.label}`, threshold, detail };
  }
  const figure = `p95 ${seconds(p95)} over ${window.label}`;
  if (p95 < thresholds.p95MaxSeconds)
    return { name: 'latencyP95', status: 'PASS', figure, threshold, detail };
  const severe = p95 > 2 * thresholds.p95MaxSeconds;
  return {
    name: 'latencyP95',
    status: 'FAIL',
    figure,
    threshold,
    severity: LATENCY_SEVERITY,
    runbookSection: severe ? RUNBOOK.degraded : RUNBOOK.slow,
    detail,
  };
}
