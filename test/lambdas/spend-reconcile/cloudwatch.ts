/**
 * CloudWatch as the reconciliation sees it: the application's LlmCostUsd series in a store, and
 * a GetMetricData fake (aws-sdk-client-mock) that evaluates `SUM(SEARCH(...))` over it the way
 * CloudWatch documents: the search's `{Namespace,dims}` schema matches series with exactly those
 * dimensions, its terms filter by dimension value, it finds only series with data in the last
 * two weeks, and the sums come back as one datapoint per period, newest first.
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
const TWO_WEEKS_MS = 14 * DAY_MS;

/** One published series of the application's metric. */
export interface Series {
  readonly namespace?: string;
  readonly name?: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** USD summed per UTC day. */
  readonly daily: Readonly<Record<string, number>>;
}

/** A series of LlmCostUsd in prod with the contract's four dimensions. */
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
      Model: dims.model ?? (provider === 'openai' ? 'text-embedding-3-small' : 'claude-sonnet-4-5'),
    },
    daily,
  };
}

export const cloudwatchMock = mockClient(CloudWatchClient);

/** The store the fake answers from, and its clock (for the two-week rule). */
export const store = { series: [] as Series[], now: new Date('2026-12-01T11:00:00Z') };

const SEARCH = /^SUM\(SEARCH\('\{([^}]*)\} (.*)', 'Sum', (\d+)\)\)$/;

/** The series a `SUM(SEARCH(...))` expression finds. */
function search(expression: string): { found: Series[]; period: number } {
  const m = SEARCH.exec(expression);
  if (!m) throw new Error(`the fake evaluates SUM(SEARCH(...)) only, not ${expression}`);
  const [namespace, ...schema] = (m[1] ?? '').split(',');
  const terms = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((t) => [t[1], t[2]]));
  const found = store.series.filter((s) => {
    const dims = Object.keys(s.dimensions).sort();
    if ((s.namespace ?? 'FA-AI-System') !== namespace) return false;
    if (JSON.stringify(dims) !== JSON.stringify([...schema].sort())) return false;
    if ((s.name ?? 'LlmCostUsd') !== terms.MetricName) return false;
    for (const [k, v] of Object.entries(terms)) if (k !== 'MetricName' && s.dimensions[k] !== v) return false;
    // CloudWatch: a search finds only series that reported data in the past two weeks.
    return Object.keys(s.daily).some((day) => store.now.getTime() - Date.parse(day) < TWO_WEEKS_MS);
  });
  return { found, period: Number(m[3]) };
}

/** GetMetricData over the store: one result per query, newest datapoint first. */
export function answer(input: GetMetricDataCommandInput): GetMetricDataCommandOutput {
  const start = (input.StartTime as Date).getTime();
  const end = (input.EndTime as Date).getTime();
  const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
    const { found, period } = search(q.Expression ?? '');
    if (period !== DAY_MS / 1000) throw new Error('the fake serves daily periods only');
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
      Label: q.Id,
      Timestamps: times.map((t) => new Date(t)),
      Values: times.map((t) => sums.get(t) as number),
      StatusCode: 'Complete',
    };
  });
  return { MetricDataResults: results, Messages: [], $metadata: { httpStatusCode: 200 } };
}

/** Resets the store and serves it. */
export function serveCloudWatch(series: Series[], now = new Date('2026-12-01T11:00:00Z')): void {
  store.series = series;
  store.now = now;
  cloudwatchMock.reset();
  cloudwatchMock.on(GetMetricDataCommand).callsFake(answer);
}
