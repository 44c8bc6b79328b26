import { type CfnResource, flattenString, isRecord, TOKEN, valueKey } from './template';

/** One CloudWatch metric: a namespace, a name and a set of dimensions. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * A metric published from outside the template. `daily`: published once a day (by a daily
 * job), so it has data in about one hour of 24, and CloudWatch bills a custom metric only for
 * the hours it has data.
 */
export interface PublishedMetric extends MetricIdentity {
  /** @default 'hourly' (data every hour of the month) */
  readonly cadence?: 'hourly' | 'daily';
}

/** The key that tells metrics apart the way CloudWatch bills them (one metric per key). */
export function metricKey(metric: MetricIdentity): string {
  const dims = Object.entries(metric.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${metric.namespace}|${metric.name}|${dims}`;
}

/** AWS services publish into AWS/* namespaces for free; everything else is a custom metric. */
export function isCustomNamespace(namespace: string): boolean {
  return !namespace.startsWith('AWS/');
}

/** Metrics written by a metric filter. Dimension values taken from log fields count once. */
export function metricFilterMetrics(resource: CfnResource): MetricIdentity[] {
  const transformations = resource.Properties?.MetricTransformations;
  if (!Array.isArray(transformations)) return [];
  return transformations.flatMap((t) => {
    if (!isRecord(t) || typeof t.MetricNamespace !== 'string' || typeof t.MetricName !== 'string') return [];
    const dimensions: Record<string, string> = {};
    if (Array.isArray(t.Dimensions)) {
      for (const d of t.Dimensions) if (isRecord(d)) dimensions[valueKey(d.Key)] = valueKey(d.Value);
    }
    return [{ namespace: t.MetricNamespace, name: t.MetricName, dimensions }];
  });
}

function dimensionsOf(list: unknown): Record<string, string> {
  const dimensions: Record<string, string> = {};
  if (Array.isArray(list)) {
    for (const d of list) if (isRecord(d)) dimensions[valueKey(d.Name)] = valueKey(d.Value);
  }
  return dimensions;
}

/** Metrics an alarm reads (metric math alarms read several). */
export function alarmMetrics(resource: CfnResource): Array<MetricIdentity & { period?: unknown }> {
  const p = resource.Properties ?? {};
  if (typeof p.MetricName === 'string') {
    return [
      {
        namespace: valueKey(p.Namespace),
        name: p.MetricName,
        dimensions: dimensionsOf(p.Dimensions),
        period: p.Period,
      },
    ];
  }
  if (!Array.isArray(p.Metrics)) return [];
  return p.Metrics.flatMap((query) => {
    if (!isRecord(query) || !isRecord(query.MetricStat) || !isRecord(query.MetricStat.Metric)) return [];
    const metric = query.MetricStat.Metric;
    return [
      {
        namespace: valueKey(metric.Namespace),
        name: valueKey(metric.MetricName),
        dimensions: dimensionsOf(metric.Dimensions),
        period: query.MetricStat.Period,
      },
    ];
  });
}

/**
 * Metrics a dashboard graphs. Rows are [namespace, name, dimName, dimValue, ..., {options}];
 * "." repeats the previous row's value at the same place and "..." all of the previous row's
 * leading values. Expression rows read other rows and add no metric.
 */
export function dashboardMetrics(resource: CfnResource): MetricIdentity[] {
  const body = flattenString(resource.Properties?.DashboardBody);
  if (body === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.widgets)) return [];
  const metrics: MetricIdentity[] = [];
  for (const widget of parsed.widgets) {
    if (!isRecord(widget) || !isRecord(widget.properties) || !Array.isArray(widget.properties.metrics))
      continue;
    let previous: string[] = [];
    for (const row of widget.properties.metrics) {
      if (!Array.isArray(row)) continue;
      const items = row.filter((item): item is string => typeof item === 'string');
      const values: string[] = [];
      for (const [i, item] of items.entries()) {
        if (item === '...') {
          const explicitAfter = items.length - i - 1;
          values.push(
            ...previous.slice(values.length, Math.max(values.length, previous.length - explicitAfter)),
          );
        } else if (item === '.') values.push(previous[values.length] ?? TOKEN);
        else values.push(item);
      }
      if (values.length < 2) continue;
      previous = values;
      const [namespace = '', name = '', ...dims] = values;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i] ?? ''] = dims[i + 1] ?? '';
      metrics.push({ namespace, name, dimensions });
    }
  }
  return metrics;
}
