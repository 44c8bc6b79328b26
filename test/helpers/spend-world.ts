/**
 * A simulated account's spend, answering as CloudWatch GetMetricData and AWS Budgets
 * DescribeBudget answer (their documented response shapes): the application's LlmCostUsd and
 * QueryCount datapoints on a timeline, aggregated per query by period and statistic exactly as
 * CloudWatch aggregates (one series per full dimension set, periods counted from StartTime,
 * only periods holding data returned), with CloudWatch's delay before a datapoint is visible;
 * and the budgets' CalculatedSpend. Faults: a request error, a result status, pages.
 */
import type { DescribeBudgetCommandInput, DescribeBudgetCommandOutput } from '@aws-sdk/client-budgets';
import { DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import {
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
  type StatusCode,
} from '@aws-sdk/client-cloudwatch';
import {
  APP_NAMESPACE,
  LLM_COST_METRIC,
  type LlmComponent,
  QUERY_COUNT_METRIC,
} from '../../core/spend/metric';
import { awsError } from './aws';

/** One datapoint as PutMetricData (or an EMF line) published it. */
export interface Datapoint {
  readonly at: Date;
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

/** An AWS budget's spend as Budgets reports it (amounts as Budgets writes them: decimal strings). */
export interface BudgetState {
  readonly limit?: string;
  readonly actual?: string;
  readonly forecast?: string;
  readonly unit?: string;
}

/** A stub of aws-sdk-client-mock (the CloudWatch or Budgets client's). */
interface Stub {
  on(command: unknown): { callsFake(fn: (input: any) => unknown): unknown };
}

export class SpendWorld {
  /** The world's clock: what CloudWatch can show depends on it. */
  now: Date;
  /** Milliseconds after its timestamp before a datapoint is visible (CloudWatch's metric delay). */
  delayMs = 0;
  readonly points: Datapoint[] = [];
  readonly budgets = new Map<string, BudgetState | (() => Error)>();
  /** Every GetMetricData request fails with this (after any retries the caller makes). */
  getMetricDataError?: () => Error;
  /** The status of results whose id matches (e.g. InternalError), the values withheld. */
  statusOf?: (id: string) => StatusCode | undefined;
  /** Results per page: more than this returns a NextToken. @default all in one page */
  pageSize?: number;
  /** The GetMetricData requests answered. */
  readonly requests: GetMetricDataCommandInput[] = [];
  private readonly faults: Array<{
    call: 'GetMetricData' | 'DescribeBudget';
    error: () => Error;
    left: number;
  }> = [];

  /** The next `times` calls of `call` fail with `error` (a throttle, say), then it answers again. */
  failNext(call: 'GetMetricData' | 'DescribeBudget', error: () => Error, times = 1): this {
    this.faults.push({ call, error, left: times });
    return this;
  }

  private fault(call: 'GetMetricData' | 'DescribeBudget'): void {
    const fault = this.faults.find((f) => f.call === call && f.left > 0);
    if (fault === undefined) return;
    fault.left -= 1;
    throw fault.error();
  }

  constructor(
    now: Date,
    readonly environment = 'prod',
  ) {
    this.now = now;
  }

  /**
   * Publishes `usd` of model calls at `at`: `calls` calls of equal cost (one by default), each a
   * datapoint, as the application publishes them.
   */
  cost(
    at: Date | string,
    component: LlmComponent,
    usd: number,
    series: { provider?: string; model?: string; environment?: string; calls?: number } = {},
  ): this {
    const calls = series.calls ?? 1;
    const each = usd / calls;
    for (let i = 0; i < calls; i++) {
      this.points.push({
        at: new Date(at),
        namespace: LLM_COST_METRIC.namespace,
        name: LLM_COST_METRIC.name,
        dimensions: {
          Environment: series.environment ?? this.environment,
          Component: component,
          Provider: series.provider ?? 'anthropic',
          Model: series.model ?? 'sonnet',
        },
        value: each,
      });
    }
    return this;
  }

  /** Publishes `count` queries of `tier`. */
  queries(at: Date | string, count: number, tier = 'hook'): this {
    this.points.push({
      at: new Date(at),
      namespace: APP_NAMESPACE,
      name: QUERY_COUNT_METRIC.name,
      dimensions: { Environment: this.environment, Tier: tier },
      value: count,
    });
    return this;
  }

  /** Sets an AWS budget's state, or makes DescribeBudget of it fail. */
  budget(name: string, state: BudgetState | (() => Error)): this {
    this.budgets.set(name, state);
    return this;
  }

  /** The runbook's four budgets of `prefix` (fa-ai-system-prod), each with `actual` USD. */
  awsSpend(
    actual: Readonly<Record<'batch' | 'interactive' | 'infrastructure' | 'monthly', number>>,
    prefix = 'fa-ai-system-prod',
  ): this {
    for (const [name, usd] of Object.entries(actual))
      this.budget(`${prefix}-${name}`, { actual: usd.toFixed(2) });
    return this;
  }

  /** Answers a GetMetricData request. */
  getMetricData(input: GetMetricDataCommandInput): GetMetricDataCommandOutput {
    this.requests.push(input);
    this.fault('GetMetricData');
    if (this.getMetricDataError) throw this.getMetricDataError();
    const start = input.StartTime?.getTime() ?? 0;
    const end = input.EndTime?.getTime() ?? 0;
    const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
      const stat = q.MetricStat;
      const status = this.statusOf?.(q.Id ?? '');
      if (status !== undefined && status !== 'Complete') {
        return {
          Id: q.Id,
          Label: q.Id,
          StatusCode: status,
          Timestamps: [],
          Values: [],
          Messages: [{ Code: status, Value: 'simulated' }],
        };
      }
      if (!stat?.Metric || stat.Period === undefined || stat.Stat === undefined) {
        throw awsError('ValidationError', `query ${q.Id} has no MetricStat`);
      }
      const metric = stat.Metric;
      const dims = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const periodMs = stat.Period * 1000;
      const buckets = new Map<number, number[]>();
      for (const p of this.points) {
        const t = p.at.getTime();
        if (t < start || t >= end) continue;
        if (t + this.delayMs > this.now.getTime()) continue;
        if (
          p.namespace !== metric.Namespace ||
          p.name !== metric.MetricName ||
          !sameDimensions(p.dimensions, dims)
        )
          continue;
        const bucket = start + Math.floor((t - start) / periodMs) * periodMs;
        const values = buckets.get(bucket) ?? [];
        values.push(p.value);
        buckets.set(bucket, values);
      }
      const ordered = [...buckets].sort(([a], [b]) =>
        input.ScanBy === 'TimestampAscending' ? a - b : b - a,
      );
      return {
        Id: q.Id,
        Label: metric.MetricName,
        StatusCode: 'Complete',
        Timestamps: ordered.map(([t]) => new Date(t)),
        Values: ordered.map(([, values]) => statistic(stat.Stat as string, values)),
        Messages: [],
      };
    });
    // Pages of pageSize datapoints per result, as MaxDatapoints pages them.
    if (this.pageSize === undefined) return { MetricDataResults: results, Messages: [], $metadata: {} };
    const size = this.pageSize;
    const page = Number(input.NextToken ?? 0);
    const sliced = results.map((r) => {
      if (r.StatusCode !== 'Complete') return r;
      const from = page * size;
      const more = (r.Values ?? []).length > from + size;
      return {
        ...r,
        StatusCode: more ? ('PartialData' as const) : ('Complete' as const),
        Timestamps: (r.Timestamps ?? []).slice(from, from + size),
        Values: (r.Values ?? []).slice(from, from + size),
      };
    });
    const more = sliced.some((r) => r.StatusCode === 'PartialData');
    return {
      MetricDataResults: sliced,
      NextToken: more ? String(page + 1) : undefined,
      Messages: [],
      $metadata: {},
    };
  }

  /** Answers a DescribeBudget request. */
  describeBudget(input: DescribeBudgetCommandInput): DescribeBudgetCommandOutput {
    this.fault('DescribeBudget');
    const state = this.budgets.get(input.BudgetName ?? '');
    if (state === undefined) {
      throw awsError(
        'NotFoundException',
        `Unable to get budget: ${input.BudgetName} - the budget doesn't exist.`,
      );
    }
    if (typeof state === 'function') throw state();
    const unit = state.unit ?? 'USD';
    return {
      Budget: {
        BudgetName: input.BudgetName,
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: state.limit ?? '2000.0', Unit: unit },
        ...(state.actual === undefined
          ? {}
          : {
              CalculatedSpend: {
                ActualSpend: { Amount: state.actual, Unit: unit },
                ...(state.forecast === undefined
                  ? {}
                  : { ForecastedSpend: { Amount: state.forecast, Unit: unit } }),
              },
            }),
      },
      $metadata: {},
    };
  }

  /** Makes the stubs of a CloudWatch and a Budgets client answer from this world. */
  install(stubs: { readonly cloudwatch?: Stub; readonly budgets?: Stub }): this {
    stubs.cloudwatch
      ?.on(GetMetricDataCommand)
      .callsFake((input: GetMetricDataCommandInput) => this.getMetricData(input));
    stubs.budgets
      ?.on(DescribeBudgetCommand)
      .callsFake((input: DescribeBudgetCommandInput) => this.describeBudget(input));
    return this;
  }
}

function sameDimensions(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string | undefined>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function statistic(stat: string, values: readonly number[]): number {
  switch (stat) {
    case 'Sum':
      return values.reduce((s, v) => s + v, 0);
    case 'SampleCount':
      return values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'Average':
      return values.reduce((s, v) => s + v, 0) / values.length;
    default:
      throw awsError('ValidationError', `statistic ${stat} is not simulated`);
  }
}
