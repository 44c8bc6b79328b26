/**
 * The runbook's P2 "cost tracking not publishing to CloudWatch", as a figure per component: LLM
 * cost data stopped while the component worked. Interactive: queries were counted (QueryCount)
 * in the last window but no LlmCostUsd call of Component=interactive. Batch: a batch run has
 * been RUNNING (its ops-table record) for the whole window but no LlmCostUsd call of
 * Component=batch arrived in it. The guard publishes it (LlmCostSilent); the alarm reads that.
 */

import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeError } from '../../core/errors';
import { listBatchRuns } from '../../core/ops-table/items';
import {
  LLM_COMPONENTS,
  type LlmComponent,
  llmCostQuery,
  llmCostSeries,
  QUERY_COUNT_METRIC,
} from '../../core/spend/metric';

/** Per component: silent (true), flowing or idle (false), or not known (the reason). */
export type Silence = Readonly<Record<LlmComponent, boolean | { readonly unknown: string }>>;

/** What was seen in the window, for the log. */
export interface SilenceReading {
  readonly silence: Silence;
  readonly window: { readonly start: Date; readonly end: Date };
  readonly calls?: Readonly<Record<LlmComponent, number>>;
  readonly queries?: number;
  readonly batchRunning?: boolean;
}

/** The queries of the window: LlmCostUsd SampleCount per allowed series, QueryCount Sum per tier. */
export function silenceQueries(environment: string, periodSeconds: number): MetricDataQuery[] {
  const calls = LLM_COMPONENTS.flatMap((component) =>
    llmCostSeries(environment, component).map(
      (series, i): MetricDataQuery =>
        llmCostQuery(`calls_${component}_${i}`, series, periodSeconds, 'SampleCount'),
    ),
  );
  const queries = QUERY_COUNT_METRIC.tiers.map(
    (tier): MetricDataQuery => ({
      Id: `queries_${tier}`,
      MetricStat: {
        Metric: {
          Namespace: QUERY_COUNT_METRIC.namespace,
          MetricName: QUERY_COUNT_METRIC.name,
          Dimensions: [
            { Name: 'Environment', Value: environment },
            { Name: QUERY_COUNT_METRIC.tierDimension, Value: tier },
          ],
        },
        Period: periodSeconds,
        Stat: 'Sum',
      },
      ReturnData: true,
    }),
  );
  return [...calls, ...queries];
}

/** Whether cost data stopped in the `windowMinutes` before `at`. Never throws. */
export async function readSilence(
  clients: { readonly cloudwatch: CloudWatchClient; readonly ddb: DynamoDBDocumentClient },
  config: {
    readonly environment: string;
    readonly opsTableName: string;
    readonly silenceWindowMinutes: number;
  },
  at: Date,
): Promise<SilenceReading> {
  const end = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
  const windowMs = config.silenceWindowMinutes * 60_000;
  const start = new Date(end.getTime() - windowMs);
  const window = { start, end };
  const [metrics, runs] = await Promise.allSettled([
    clients.cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: silenceQueries(config.environment, config.silenceWindowMinutes * 60),
        StartTime: start,
        EndTime: end,
      }),
    ),
    listBatchRuns(clients.ddb, config.opsTableName, { limit: 3 }),
  ]);
  if (metrics.status === 'rejected') {
    const unknown = { unknown: `GetMetricData failed: ${describeError(metrics.reason)}` };
    return { silence: { batch: unknown, interactive: unknown }, window };
  }
  const results = new Map((metrics.value.MetricDataResults ?? []).map((r) => [r.Id, r]));
  const total = (prefix: string): number | string => {
    let sum = 0;
    for (const [id, r] of results) {
      if (!id?.startsWith(prefix)) continue;
      if (r.StatusCode !== 'Complete') return `${id}: status ${r.StatusCode ?? 'missing'}`;
      sum += (r.Values ?? []).reduce((a, b) => a + b, 0);
    }
    return sum;
  };
  const queries = total('queries_');
  const batchCalls = total('calls_batch_');
  const interactiveCalls = total('calls_interactive_');
  const interactive =
    typeof queries === 'string' || typeof interactiveCalls === 'string'
      ? { unknown: typeof queries === 'string' ? queries : String(interactiveCalls) }
      : queries > 0 && interactiveCalls === 0;
  let batchRunning: boolean | undefined;
  let batch: boolean | { unknown: string };
  if (runs.status === 'rejected') {
    batch = { unknown: `batch runs unreadable: ${describeError(runs.reason)}` };
  } else if (typeof batchCalls === 'string') {
    batch = { unknown: batchCalls };
  } else {
    // Running the whole window: a run that just started may not have called a model yet.
    batchRunning = runs.value.some(
      (r) => r.status === 'RUNNING' && Date.parse(r.startedAt) <= start.getTime(),
    );
    batch = batchRunning && batchCalls === 0;
  }
  return {
    silence: { batch, interactive },
    window,
    calls:
      typeof batchCalls === 'number' && typeof interactiveCalls === 'number'
        ? { batch: batchCalls, interactive: interactiveCalls }
        : undefined,
    queries: typeof queries === 'number' ? queries : undefined,
    batchRunning,
  };
}
