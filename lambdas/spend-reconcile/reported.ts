/**
 * What the application reported it spent: the LlmCostUsd metric (core/spend/metric.ts) summed
 * per provider over components and models, per UTC day, in ONE GetMetricData call.
 *
 * It reads exactly the series the contract allows (llmCostSeries: every component, provider
 * and model the application may name), the very figures the spend guard acts on. A cost the
 * application publishes under another Provider or Model is in neither: the bill shows it, and
 * the reconciliation calls that under-reporting, which is what it is for the guard.
 */
import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { getMetricDataPages, type MetricDataPages } from '../../core/metric-data';
import { LLM_PROVIDERS, type LlmProvider, llmCostQuery, llmCostSeries } from '../../core/spend/metric';
import { ReportedSpendUnreadableError } from './errors';
import { DAY_MS, dayOf, type UtcDay } from './window';

/** The application's reported USD per provider and UTC day (days without data have no entry). */
export type ReportedCosts = Readonly<Record<LlmProvider, ReadonlyMap<UtcDay, number>>>;

/** GetMetricData pages followed; a month of daily sums of every series fits one. */
const MAX_PAGES = 10;

/** One query per allowed series of `environment` (ids q0, q1, ...: letters first, as CloudWatch requires). */
export function reportedQueries(environment: string): Array<MetricDataQuery & { provider: LlmProvider }> {
  return llmCostSeries(environment).map((series, i) => ({
    provider: series.Provider,
    ...llmCostQuery(`q${i}`, series, DAY_MS / 1000, 'Sum'),
  }));
}

/**
 * Reads the daily sums of [start, end) (UTC midnights). Throws ReportedSpendUnreadableError when
 * CloudWatch fails past the retries or answers incompletely, or a sum is negative or not finite.
 */
export async function readReportedCosts(
  cloudwatch: CloudWatchClient,
  environment: string,
  range: { readonly start: Date; readonly end: Date },
): Promise<ReportedCosts> {
  const tagged = reportedQueries(environment);
  const queries = tagged.map(({ provider: _, ...query }) => query);
  let read: MetricDataPages;
  try {
    read = await getMetricDataPages(
      cloudwatch,
      { MetricDataQueries: queries, StartTime: range.start, EndTime: range.end },
      MAX_PAGES,
    );
  } catch (error) {
    throw new ReportedSpendUnreadableError(
      `The application's LLM cost could not be read from CloudWatch: ${(error as Error).name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (read.more) {
    throw new ReportedSpendUnreadableError(`CloudWatch returned more than ${MAX_PAGES} pages of daily sums`);
  }
  const { results } = read;
  const out = Object.fromEntries(LLM_PROVIDERS.map((p) => [p, new Map<UtcDay, number>()])) as Record<
    LlmProvider,
    Map<UtcDay, number>
  >;
  for (const query of tagged) {
    const series = `${query.provider} ${JSON.stringify(query.MetricStat?.Metric?.Dimensions?.map((d) => d.Value))}`;
    const parts = results.get(query.Id ?? '');
    if (!parts || parts.length === 0) {
      throw new ReportedSpendUnreadableError(`CloudWatch returned no result for ${series}`);
    }
    // The last page's status is the query's: PartialData there means data left unread.
    const status = parts.at(-1)?.StatusCode;
    if (status !== 'Complete') {
      throw new ReportedSpendUnreadableError(
        `CloudWatch answered the LLM cost of ${series} incompletely (StatusCode ${status ?? 'missing'})`,
      );
    }
    const byDay = out[query.provider];
    for (const part of parts) {
      const timestamps = part.Timestamps ?? [];
      const values = part.Values ?? [];
      if (timestamps.length !== values.length) {
        throw new ReportedSpendUnreadableError(
          `CloudWatch's result for ${series} pairs no value with a timestamp`,
        );
      }
      values.forEach((value, i) => {
        if (!Number.isFinite(value) || value < 0) {
          throw new ReportedSpendUnreadableError(
            `The application reported ${value} USD for ${series} in a day: a cost is a finite amount >= 0`,
          );
        }
        const day = dayOf(timestamps[i] as Date);
        byDay.set(day, (byDay.get(day) ?? 0) + value);
      });
    }
  }
  return out;
}
