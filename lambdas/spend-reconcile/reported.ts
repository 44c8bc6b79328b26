/**
 * What the application reported it spent: the LlmCostUsd metric (core/spend/metric.ts) summed
 * per provider over components and models, per UTC day, in ONE GetMetricData call.
 *
 * Each provider is `SUM(SEARCH(...))`: the search finds every Component/Model series of the
 * provider, so a model the application starts using is counted without a change here. A
 * search finds only series with data in the last two weeks (CloudWatch's rule): a model
 * silent for two weeks drops out of the month-to-date figure, which then reads as
 * under-reported, an alarm and never a hidden overrun.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { LLM_COST_METRIC, LLM_PROVIDERS, type LlmProvider } from '../../core/spend/metric';
import { type RetryOptions, withRetry } from '../shared/retry';
import { ReportedSpendUnreadableError } from './errors';
import { DAY_MS, dayOf, type UtcDay } from './window';

/** The application's reported USD per provider and UTC day (days without data have no entry). */
export type ReportedCosts = Readonly<Record<LlmProvider, ReadonlyMap<UtcDay, number>>>;

/** GetMetricData pages followed; a month of daily sums for two providers fits one. */
const MAX_PAGES = 10;

/** The search expression of one provider's series in one environment. */
export function reportedSearch(environment: string, provider: LlmProvider): string {
  const { namespace, name, dimensions } = LLM_COST_METRIC;
  // The schema names the exact dimension set: a series with other dimensions is not the contract's.
  const schema = [namespace, ...[...dimensions].sort()].join(',');
  return (
    `SUM(SEARCH('{${schema}} MetricName="${name}" Environment="${environment}" Provider="${provider}"', ` +
    `'Sum', ${DAY_MS / 1000}))`
  );
}

/**
 * Reads the daily sums of [start, end) (UTC midnights). Throws ReportedSpendUnreadableError when
 * CloudWatch fails past the retries or answers incompletely, or a sum is negative or not finite.
 */
export async function readReportedCosts(
  cloudwatch: CloudWatchClient,
  environment: string,
  range: { readonly start: Date; readonly end: Date },
  retry?: RetryOptions,
): Promise<ReportedCosts> {
  const queries = LLM_PROVIDERS.map((provider) => ({
    Id: provider,
    Expression: reportedSearch(environment, provider),
    Period: DAY_MS / 1000,
    ReturnData: true,
  }));
  const results = new Map<string, MetricDataResult[]>();
  let token: string | undefined;
  for (let page = 1; ; page += 1) {
    let response: GetMetricDataCommandOutput;
    try {
      response = await withRetry(
        () =>
          cloudwatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: range.start,
              EndTime: range.end,
              NextToken: token,
            }),
          ),
        retry,
      );
    } catch (error) {
      throw new ReportedSpendUnreadableError(
        `The application's LLM cost could not be read from CloudWatch: ${(error as Error).name}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    for (const result of response.MetricDataResults ?? []) {
      const id = result.Id ?? '';
      results.set(id, [...(results.get(id) ?? []), result]);
    }
    token = response.NextToken;
    if (!token) break;
    if (page >= MAX_PAGES) {
      throw new ReportedSpendUnreadableError(
        `CloudWatch returned more than ${MAX_PAGES} pages of daily sums`,
      );
    }
  }
  const out = {} as Record<LlmProvider, Map<UtcDay, number>>;
  for (const provider of LLM_PROVIDERS) {
    const parts = results.get(provider);
    if (!parts || parts.length === 0) {
      throw new ReportedSpendUnreadableError(`CloudWatch returned no result for ${provider}`);
    }
    // The last page's status is the query's: PartialData there means data left unread.
    const status = parts.at(-1)?.StatusCode;
    if (status !== 'Complete') {
      throw new ReportedSpendUnreadableError(
        `CloudWatch answered ${provider}'s LLM cost incompletely (StatusCode ${status ?? 'missing'})`,
      );
    }
    const byDay = new Map<UtcDay, number>();
    for (const part of parts) {
      const timestamps = part.Timestamps ?? [];
      const values = part.Values ?? [];
      if (timestamps.length !== values.length) {
        throw new ReportedSpendUnreadableError(
          `CloudWatch's ${provider} result pairs no value with a timestamp`,
        );
      }
      values.forEach((value, i) => {
        if (!Number.isFinite(value) || value < 0) {
          throw new ReportedSpendUnreadableError(
            `The application reported ${value} USD of ${provider} cost: a cost is a finite amount >= 0`,
          );
        }
        const day = dayOf(timestamps[i] as Date);
        byDay.set(day, (byDay.get(day) ?? 0) + value);
      });
    }
    out[provider] = byDay;
  }
  return out;
}
