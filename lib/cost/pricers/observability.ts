import type { Pricer, PricingContext } from '../context';
import {
  alarmMetrics,
  dashboardMetrics,
  isCustomNamespace,
  type MetricIdentity,
  metricFilterMetrics,
  metricKey,
  type PublishedMetric,
} from '../metrics';
import { asNumber, type CfnResource, isRecord, referencedId } from '../template';
import { serviceTaskCount } from './compute';

/** The account-wide free tiers (3 dashboards, 10 alarms, 10 metrics) are not credited. */
const FREE_TIER_NOTE = "the account's CloudWatch free tier is not credited";

export const priceDashboard: Pricer = (ctx, id, resource) => {
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: 'dashboard',
    quantity: 1,
    unit: 'dashboard-month',
    unitPriceUsd: ctx.prices.cloudWatch.dashboardMonth,
    assumption: `${FREE_TIER_NOTE} (3 dashboards of up to 50 metrics each, shared by the whole account)`,
  });
};

/** What one alarm bills: a metric alarm per metric it reads, at its resolution. */
function alarmCharge(resource: CfnResource): { metrics: number; highResolution: boolean } | string {
  const p = resource.Properties ?? {};
  if (
    Array.isArray(p.Metrics) &&
    p.Metrics.some(
      (m) => isRecord(m) && typeof m.Expression === 'string' && /^\s*SELECT\b/i.test(m.Expression),
    )
  ) {
    return 'Metrics Insights query alarm: billed per metric the query reads, unknown from the template';
  }
  const metrics = alarmMetrics(resource);
  if (metrics.length === 0) return 'alarm reads no metric the estimator recognises';
  const highResolution = [p.Period, ...metrics.map((m) => m.period)].some((period) => {
    const seconds = asNumber(period);
    return seconds !== undefined && seconds < 60;
  });
  // An anomaly detection alarm bills the metric and both bounds of its band.
  const perMetric = p.ThresholdMetricId !== undefined ? 3 : 1;
  return { metrics: metrics.length * perMetric, highResolution };
}

/** All alarms of a stack, priced in aggregate: dozens of ten-cent lines would hide the rest. */
export function priceAlarms(ctx: PricingContext, alarms: ReadonlyArray<[string, CfnResource]>): void {
  const cw = ctx.prices.cloudWatch;
  const totals = { standard: { alarms: 0, metrics: 0 }, high: { alarms: 0, metrics: 0 }, composite: 0 };
  for (const [id, resource] of alarms) {
    if (resource.Type === 'AWS::CloudWatch::CompositeAlarm') {
      totals.composite += 1;
      continue;
    }
    const charge = alarmCharge(resource);
    if (typeof charge === 'string') {
      ctx.addUnpriced(id, resource.Type, charge);
      continue;
    }
    const bucket = charge.highResolution ? totals.high : totals.standard;
    bucket.alarms += 1;
    bucket.metrics += charge.metrics;
  }
  const lines = [
    { bucket: totals.standard, label: 'standard resolution', price: cw.alarmStandardMetric },
    { bucket: totals.high, label: 'high resolution', price: cw.alarmHighResolutionMetric },
  ];
  for (const { bucket, label, price } of lines) {
    if (bucket.alarms === 0) continue;
    ctx.addFixed({
      resource: `${bucket.alarms} alarm${bucket.alarms === 1 ? '' : 's'}`,
      type: 'AWS::CloudWatch::Alarm',
      description: `${label} alarm metrics (metric math alarms count each metric)`,
      quantity: bucket.metrics,
      unit: 'alarm metric-month',
      unitPriceUsd: price,
      assumption: FREE_TIER_NOTE,
    });
  }
  if (totals.composite > 0) {
    ctx.addFixed({
      resource: `${totals.composite} composite alarm${totals.composite === 1 ? '' : 's'}`,
      type: 'AWS::CloudWatch::CompositeAlarm',
      description: 'composite alarms',
      quantity: totals.composite,
      unit: 'alarm-month',
      unitPriceUsd: cw.alarmComposite,
    });
  }
}

/**
 * Custom metrics: every distinct non-AWS metric the template writes (metric filters) or reads
 * (alarms, dashboards), plus the ones the caller says are published from outside it. A metric
 * only a metric filter without a default value writes appears only in hours a log line matches
 * (errors): CloudWatch prorates by the hour, so those are usage. Every other one is priced for
 * the whole month: read by an alarm or dashboard, something is assumed to publish it steadily.
 */
export function priceCustomMetrics(
  ctx: PricingContext,
  resources: ReadonlyArray<[string, CfnResource]>,
  published: readonly PublishedMetric[],
  counted: Set<string>,
): void {
  const found: Array<{ metric: MetricIdentity; source: string }> = [];
  const sparseFilterKeys = new Set<string>();
  const steadyFilterKeys = new Set<string>();
  for (const [, resource] of resources) {
    if (resource.Type === 'AWS::Logs::MetricFilter') {
      const transformations = resource.Properties?.MetricTransformations;
      for (const [i, metric] of metricFilterMetrics(resource).entries()) {
        const t = Array.isArray(transformations) ? transformations[i] : undefined;
        const steady = isRecord(t) && t.DefaultValue !== undefined;
        (steady ? steadyFilterKeys : sparseFilterKeys).add(metricKey(metric));
        found.push({ metric, source: 'metric filters' });
      }
    } else if (resource.Type === 'AWS::CloudWatch::Alarm') {
      for (const metric of alarmMetrics(resource)) found.push({ metric, source: 'alarms' });
    } else if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      for (const metric of dashboardMetrics(resource)) found.push({ metric, source: 'dashboards' });
    }
  }
  const publishedKeys = new Set(published.map(metricKey));
  const dailyKeys = new Set(published.filter((m) => m.cadence === 'daily').map(metricKey));
  for (const metric of published) found.push({ metric, source: 'the application metric catalogue' });
  const sources = new Set<string>();
  let steady = 0;
  let sparse = 0;
  let daily = 0;
  for (const { metric, source } of found) {
    if (!isCustomNamespace(metric.namespace)) continue;
    const key = metricKey(metric);
    if (counted.has(key)) continue;
    counted.add(key);
    if (sparseFilterKeys.has(key) && !steadyFilterKeys.has(key) && !publishedKeys.has(key)) {
      sparse += 1;
      continue;
    }
    // Read by an alarm or not, a metric published once a day has data in one hour of 24.
    if (dailyKeys.has(key)) {
      daily += 1;
      continue;
    }
    sources.add(source);
    steady += 1;
  }
  const price = ctx.prices.cloudWatch.customMetricMonth;
  if (steady > 0) {
    ctx.addFixed({
      resource: `${steady} metric${steady === 1 ? '' : 's'}`,
      type: 'Custom metrics',
      description: `distinct custom metrics from ${[...sources].join(', ')}`,
      quantity: steady,
      unit: 'metric-month',
      unitPriceUsd: price,
      assumption:
        'ASSUMPTION: each distinct namespace/name/dimensions is one metric published every hour of the month ' +
        '(an upper bound: CloudWatch prorates by the hour, so metrics published only by a weekly batch cost less)' +
        `; ${FREE_TIER_NOTE}`,
    });
  }
  if (daily > 0) {
    const hoursPerMetric = ctx.hours / 24;
    ctx.addFixed({
      resource: `${daily} metric${daily === 1 ? '' : 's'}`,
      type: 'Custom metrics',
      description: 'custom metrics published once a day (the daily spend reconciliation)',
      quantity: Math.round(daily * hoursPerMetric * 100) / 100,
      unit: 'metric-hour',
      unitPriceUsd: price / ctx.hours,
      assumption:
        'ASSUMPTION: one datapoint a day, so data in one hour of 24; CloudWatch bills a custom metric by ' +
        `the hour it has data (${hoursPerMetric.toFixed(1)} of ${ctx.hours} hours)`,
    });
  }
  if (sparse > 0) {
    ctx.addUsage(
      `${sparse} metric${sparse === 1 ? '' : 's'}`,
      'Custom metrics',
      'metric filter metrics without a default value: billed only in hours a log line matches',
      [{ usd: price / ctx.hours, per: 'metric-hour with data' }],
    );
  }
}

/** The metrics Container Insights (standard) publishes for one cluster, as counted below. */
const CONTAINER_INSIGHTS = {
  /** CPU, memory, network rx/tx, storage read/write, ephemeral storage: utilized and reserved. */
  perDimensionSet: 10,
  /** ServiceCount and TaskCount at the cluster level. */
  clusterOnly: 2,
  /** Desired, running and pending task counts, deployments and task sets. */
  serviceOnly: 5,
  /** TaskCount per task definition family. */
  familyOnly: 1,
} as const;

/**
 * The cluster is free; Container Insights bills its metrics as custom metrics. Counted from
 * the Container Insights metric table for ECS: each resource metric at the cluster, every
 * service with running tasks and every task definition family those run.
 */
export const priceEcsCluster: Pricer = (ctx, id, resource) => {
  const settings = resource.Properties?.ClusterSettings;
  const setting = Array.isArray(settings)
    ? settings.find((s) => isRecord(s) && s.Name === 'containerInsights')
    : undefined;
  const mode = isRecord(setting) ? setting.Value : undefined;
  if (mode === undefined || mode === 'disabled') {
    ctx.addFree(
      id,
      resource.Type,
      'the cluster itself is free; its tasks are priced (Container Insights off)',
    );
    return;
  }
  if (mode !== 'enabled') {
    ctx.addUnpriced(
      id,
      resource.Type,
      `Container Insights mode '${String(mode)}' (enhanced observability) is not in the table`,
    );
    return;
  }
  const services = [...ctx.resources.values()].filter(
    (r) =>
      r.Type === 'AWS::ECS::Service' &&
      referencedId(r.Properties?.Cluster) === id &&
      (serviceTaskCount(r).tasks ?? 1) > 0,
  );
  const families = new Set(
    services.map((s) => {
      const tdId = referencedId(s.Properties?.TaskDefinition) ?? '';
      const family = ctx.resources.get(tdId)?.Properties?.Family;
      return typeof family === 'string' ? family : tdId;
    }),
  );
  const ci = CONTAINER_INSIGHTS;
  const metrics =
    ci.perDimensionSet +
    ci.clusterOnly +
    services.length * (ci.perDimensionSet + ci.serviceOnly) +
    families.size * (ci.perDimensionSet + ci.familyOnly);
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: `Container Insights: cluster, ${services.length} running service(s), ${families.size} task famil${families.size === 1 ? 'y' : 'ies'}`,
    quantity: metrics,
    unit: 'metric-month',
    unitPriceUsd: ctx.prices.cloudWatch.customMetricMonth,
    assumption:
      'ASSUMPTION: 12 metrics per cluster, 15 per service with running tasks, 11 per task family it runs ' +
      '(Container Insights metric table for ECS, recalled); tasks run only by schedules are left out (prorated by the hour)',
  });
  ctx.addUsage(id, resource.Type, 'Container Insights performance log events', [
    { usd: ctx.prices.cloudWatch.logsIngestGb, per: 'GB ingested' },
  ]);
};
