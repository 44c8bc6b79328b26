/**
 * CloudWatch as the reconciliation sees it: the application's LlmCostUsd series in a store, and
 * a GetMetricData fake (aws-sdk-client-mock) that answers MetricStat queries over it the way
 * CloudWatch documents: a metric is its namespace, name and EXACT set of dimensions, a daily
 * Sum comes back as one datapoint per period present, newest first (TimestampDescending).
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from '../../helpers/aws-mock';

const DAY_MS = 86_400_000;

/** One published series of the application's metric. */
export interface Series {
  readonly namespace?: string;
  readonly name?: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** USD summed per UTC day. */
  readonly daily: Readonly<Record<string, number>>;
}

/** A series of LlmCostUsd with the contract's four dimensions (prod, batch, sonnet / embedding by default). */
export function llmCost(
  provider: string,
  daily: Readonly<Record<string, number>>,
  dims: { component?: string; model?: string; environment?: string } = {},
): Series {
  return {
    dimensions: {
      Environment: dims.environment ?? 'prod',
      Component: dims.component ?? 'batch',
      Provider: provider,
      Model: dims.model ?? (provider === 'openai' ? 'embedding' : 'sonnet'),
    },
    daily,
  };
}

export const cloudwatchMock = mockClient(CloudWatchClient);

/** The store the fake answers from. */
export const store = { series: [] as Series[] };

const sameDimensions = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** GetMetricData over the store: one result per query, newest datapoint first. */
export function answer(input: GetMetricDataCommandInput): GetMetricDataCommandOutput {
  const start = (input.StartTime as Date).getTime();
  const end = (input.EndTime as Date).getTime();
  const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
    const stat = q.MetricStat;
    if (!stat?.Metric || stat.Stat !== 'Sum' || stat.Period !== DAY_MS / 1000) {
      throw new Error('the fake serves daily Sums of metrics only');
    }
    const dims = Object.fromEntries((stat.Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
    const found = store.series.filter(
      (s) =>
        (s.namespace ?? 'FA-AI-System') === stat.Metric?.Namespace &&
        (s.name ?? 'LlmCostUsd') === stat.Metric?.MetricName &&
        sameDimensions(s.dimensions, dims as Record<string, string>),
    );
    const sums = new Map<number, number>();
    for (const s of found) {
      for (const [day, usd] of Object.entries(s.daily)) {
        const t = Date.parse(day);
        if (t >= start && t < end) sums.set(t, (sums.get(t) ?? 0) + usd);
      }
    }
    const times = [...sums.keys()].sort((a, b) => b - a);
    return {
      Id: q.Id,
      Label: stat.Metric.MetricName,
      Timestamps: times.map((t) => new Date(t)),
      Values: times.map((t) => sums.get(t) as number),
      StatusCode: 'Complete',
    };
  });
  return { MetricDataResults: results, Messages: [], $metadata: { httpStatusCode: 200 } };
}

/** Resets the store and serves it. */
export function serveCloudWatch(series: Series[]): void {
  store.series = series;
  cloudwatchMock.reset();
  cloudwatchMock.on(GetMetricDataCommand).callsFake(answer);
}
