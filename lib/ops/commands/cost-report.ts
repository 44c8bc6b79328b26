/**
 * The runbook's Monthly Cost Review as data: the month's spend per budget as the spend guard
 * reads it (core/spend/read.ts: the same figures it acts on), broken down by ISO week,
 * by model, by provider and component, and AWS spend by service (Cost Explorer). A source that
 * cannot be read is named in `unavailable`; nothing is guessed.
 */

import { DescribeBudgetPerformanceHistoryCommand } from '@aws-sdk/client-budgets';
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { describeError } from '../../../core/errors';
import { amountOf } from '../../../core/kill-switch/messages';
import { readMetricData } from '../../../core/metric-data';
import { SPEND_BUDGETS, type SpendBudgetId } from '../../../core/spend/budgets';
import { APP_NAMESPACE, QUERY_COUNT_METRIC } from '../../../core/spend/metric';
import { previousSpendMonth, type SpendMonth, spendMonthOf } from '../../../core/spend/month';
import {
  assemble,
  type LlmSpendDay,
  queryEnd,
  readSpend,
  type SpendFigure,
  type SpendReading,
  type SpendSettings,
} from '../../../core/spend/read';
import type { OpsClients } from '../clients';
import { MAX_PAGES, readPages } from '../pages';

/** One ISO week of the month (only its days inside the month). */
export interface CostWeek {
  /** "2026-W45". */
  readonly week: string;
  readonly days: number;
  readonly batchUsd: number;
  readonly stocks: number | null;
  readonly costPerStockUsd: number | null;
  readonly interactiveUsd: number;
  readonly queries: number | null;
  readonly costPerQueryUsd: number | null;
}

/** One line of the biggest cost drivers. */
export interface CostDriver {
  readonly kind: 'llm' | 'aws';
  /** "LLM batch anthropic/sonnet" or the AWS service's name. */
  readonly name: string;
  readonly usd: number;
}

export interface CostReport {
  readonly environment: string;
  readonly month: string;
  readonly at: string;
  readonly reading: SpendReading;
  readonly weeks: readonly CostWeek[];
  /** Anthropic spend by model (runbook: Sonnet 60%, Haiku 40%); percentages null without spend. */
  readonly modelShare: {
    readonly sonnetUsd: number;
    readonly haikuUsd: number;
    readonly sonnetPercent: number | null;
    readonly haikuPercent: number | null;
  };
  readonly drivers: readonly CostDriver[];
  /** Sources that could not be read, and why. */
  readonly unavailable: readonly string[];
}

const DAY_SECONDS = 86_400;
/** Cost drivers listed, LLM series and AWS services together. */
const DRIVERS = 10;

/** The budget month of `which` at `now` (UTC, as Budgets counts it). */
export function reviewMonth(which: 'this' | 'last', now: Date): SpendMonth {
  const current = spendMonthOf(now);
  return which === 'this' ? current : previousSpendMonth(current);
}

/** Builds the review of `month`. */
export async function costReport(
  clients: OpsClients,
  settings: SpendSettings,
  options: { readonly now: Date; readonly month: SpendMonth },
): Promise<CostReport> {
  const { month, now } = options;
  const ended = now.getTime() >= month.end.getTime();
  const unavailable: string[] = [];
  const [guardReading, activity, services, history] = await Promise.all([
    readSpend(clients, settings, { at: now, month }),
    readActivity(clients, settings.environment, month, now).catch((error) => {
      unavailable.push(`QueryCount / BatchStocksProcessed (GetMetricData): ${describeError(error)}`);
      return undefined;
    }),
    readAwsServices(clients, settings.environment, month, now).catch((error) => {
      unavailable.push(`AWS spend by service (Cost Explorer GetCostAndUsage): ${describeError(error)}`);
      return undefined;
    }),
    // The guard does not count AWS spend of a month that ended (Budgets shows the new month):
    // Budgets' own history of that month does.
    ended ? readAwsHistory(clients, settings, month) : Promise.resolve(undefined),
  ]);
  const reading = history
    ? {
        ...assemble(settings, month, guardReading.at, guardReading.llm, history),
        llmDays: guardReading.llmDays,
      }
    : guardReading;
  const days = reading.llmDays ?? [];
  const sonnetUsd = round2(sumOf(days.filter((d) => d.provider === 'anthropic' && d.model === 'sonnet')));
  const haikuUsd = round2(sumOf(days.filter((d) => d.provider === 'anthropic' && d.model === 'haiku')));
  const anthropic = sonnetUsd + haikuUsd;
  return {
    environment: settings.environment,
    month: month.key,
    at: reading.at.toISOString(),
    reading,
    weeks: weeksOf(month, reading.at, days, activity),
    modelShare: {
      sonnetUsd,
      haikuUsd,
      sonnetPercent: anthropic > 0 ? round1((sonnetUsd / anthropic) * 100) : null,
      haikuPercent: anthropic > 0 ? round1((haikuUsd / anthropic) * 100) : null,
    },
    drivers: driversOf(days, services),
    unavailable: [...reading.problems, ...unavailable],
  };
}

// ---------------------------------------------------------------------------------------------
// Weeks

/** The ISO 8601 week of a UTC day "YYYY-MM-DD": "YYYY-Www" (weeks start on Monday). */
export function isoWeek(day: string): string {
  // Hand-written: four lines of date arithmetic do not justify a date library.
  const date = new Date(`${day}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7;
  // The week belongs to the year of its Thursday.
  const thursday = new Date(date.getTime() + (3 - weekday) * DAY_SECONDS * 1000);
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = 1 + Math.floor((thursday.getTime() - yearStart) / (7 * DAY_SECONDS * 1000));
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** Counts by UTC day of the month: queries (all tiers) and stocks processed. */
interface Activity {
  readonly queries: ReadonlyMap<string, number>;
  readonly stocks: ReadonlyMap<string, number>;
}

function weeksOf(
  month: SpendMonth,
  at: Date,
  days: readonly LlmSpendDay[],
  activity: Activity | undefined,
): CostWeek[] {
  const weeks = new Map<string, { days: string[] }>();
  for (
    let t = month.start.getTime();
    t < Math.min(month.end.getTime(), at.getTime());
    t += DAY_SECONDS * 1000
  ) {
    const day = new Date(t).toISOString().slice(0, 10);
    const week = isoWeek(day);
    weeks.set(week, { days: [...(weeks.get(week)?.days ?? []), day] });
  }
  return [...weeks].map(([week, { days: inWeek }]) => {
    const of = (component: 'batch' | 'interactive') =>
      round2(sumOf(days.filter((d) => d.component === component && inWeek.includes(d.day))));
    const count = (map: ReadonlyMap<string, number> | undefined) =>
      map === undefined ? null : inWeek.reduce((sum, day) => sum + (map.get(day) ?? 0), 0);
    const batchUsd = of('batch');
    const interactiveUsd = of('interactive');
    const stocks = count(activity?.stocks);
    const queries = count(activity?.queries);
    return {
      week,
      days: inWeek.length,
      batchUsd,
      stocks,
      costPerStockUsd: stocks ? round4(batchUsd / stocks) : null,
      interactiveUsd,
      queries,
      costPerQueryUsd: queries ? round4(interactiveUsd / queries) : null,
    };
  });
}

/** The application's QueryCount (every tier) and BatchStocksProcessed, summed by UTC day. */
async function readActivity(
  clients: OpsClients,
  environment: string,
  month: SpendMonth,
  now: Date,
): Promise<Activity> {
  const metric = (id: string, name: string, extra: Record<string, string> = {}): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: APP_NAMESPACE,
        MetricName: name,
        Dimensions: Object.entries({ Environment: environment, ...extra }).map(([Name, Value]) => ({
          Name,
          Value,
        })),
      },
      Period: DAY_SECONDS,
      Stat: 'Sum',
    },
    ReturnData: true,
  });
  const queries = [
    ...QUERY_COUNT_METRIC.tiers.map((tier) =>
      metric(`queries_${tier}`, QUERY_COUNT_METRIC.name, { [QUERY_COUNT_METRIC.tierDimension]: tier }),
    ),
    metric('stocks', 'BatchStocksProcessed'),
  ];
  const byDay = { queries: new Map<string, number>(), stocks: new Map<string, number>() };
  const results = await readMetricData(
    clients.cloudwatch,
    {
      MetricDataQueries: queries,
      StartTime: month.start,
      EndTime: queryEnd(month, now),
      ScanBy: 'TimestampAscending',
    },
    MAX_PAGES,
  );
  for (const [id, result] of results) {
    // The last page's status is the query's; anything but Complete is no answer.
    if (result.StatusCode !== 'Complete') throw new Error(`${id}: status ${result.StatusCode ?? 'missing'}`);
    const map = id === 'stocks' ? byDay.stocks : byDay.queries;
    (result.Values ?? []).forEach((value, i) => {
      const day = result.Timestamps?.[i]?.toISOString().slice(0, 10);
      if (day === undefined || !Number.isFinite(value) || value < 0) return;
      map.set(day, (map.get(day) ?? 0) + value);
    });
  }
  return byDay;
}

// ---------------------------------------------------------------------------------------------
// AWS

/**
 * AWS spend of the month by service: Cost Explorer, unblended cost, filtered on the
 * Environment cost-allocation tag the budgets filter on (lib/constructs/budget-guard.ts).
 */
async function readAwsServices(
  clients: OpsClients,
  environment: string,
  month: SpendMonth,
  now: Date,
): Promise<Map<string, number>> {
  const date = (t: Date) => t.toISOString().slice(0, 10);
  // End is exclusive; today's partial costs count, tomorrow's do not exist yet.
  const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const end = new Date(Math.min(month.end.getTime(), tomorrow.getTime()));
  const services = new Map<string, number>();
  await readPages('GetCostAndUsage', async (token) => {
    const answer = await clients.costExplorer.send(
      new GetCostAndUsageCommand({
        TimePeriod: { Start: date(month.start), End: date(end) },
        Granularity: 'MONTHLY',
        Metrics: ['UnblendedCost'],
        GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
        Filter: { Tags: { Key: 'Environment', Values: [environment], MatchOptions: ['EQUALS'] } },
        NextPageToken: token,
      }),
    );
    for (const period of answer.ResultsByTime ?? []) {
      for (const group of period.Groups ?? []) {
        const name = group.Keys?.[0] ?? 'unknown service';
        const cost = group.Metrics?.UnblendedCost;
        const amount = amountOf(cost?.Amount);
        if (amount === undefined || (cost?.Unit !== undefined && cost.Unit !== 'USD')) {
          throw new Error(`${name}: cost ${JSON.stringify(cost)} is not an amount in USD`);
        }
        services.set(name, round2((services.get(name) ?? 0) + amount));
      }
    }
    return answer.NextPageToken;
  });
  return services;
}

/** Each budget's AWS spend of an ended month, from Budgets' performance history. */
async function readAwsHistory(
  clients: OpsClients,
  settings: SpendSettings,
  month: SpendMonth,
): Promise<Record<SpendBudgetId, SpendFigure>> {
  const figures = await Promise.all(
    SPEND_BUDGETS.map(async (id): Promise<[SpendBudgetId, SpendFigure]> => {
      const spec = settings.budgets.find((b) => b.id === id);
      const name = spec?.awsBudgetName ?? id;
      const label = id === 'total' ? 'AWS' : `AWS ${id}`;
      const source = `AWS Budgets ${name} history`;
      try {
        const answer = await clients.budgets.send(
          new DescribeBudgetPerformanceHistoryCommand({
            AccountId: settings.accountId,
            BudgetName: name,
            TimePeriod: { Start: month.start, End: month.end },
          }),
        );
        const entry = answer.BudgetPerformanceHistory?.BudgetedAndActualAmountsList?.find(
          (e) => e.TimePeriod?.Start?.getTime() === month.start.getTime(),
        );
        const actual = entry?.ActualAmount;
        const amount = amountOf(actual?.Amount);
        if (amount === undefined || (actual?.Unit !== undefined && actual.Unit !== 'USD')) {
          return [id, { known: false, label, source, reason: `no actual amount in USD for ${month.key}` }];
        }
        return [
          id,
          { known: true, label, usd: round2(amount), lowerBound: false, source: `${source} ActualAmount` },
        ];
      } catch (error) {
        return [
          id,
          {
            known: false,
            label,
            source,
            reason: `DescribeBudgetPerformanceHistory failed: ${describeError(error)}`,
          },
        ];
      }
    }),
  );
  return Object.fromEntries(figures) as Record<SpendBudgetId, SpendFigure>;
}

// ---------------------------------------------------------------------------------------------

function driversOf(
  days: readonly LlmSpendDay[],
  services: ReadonlyMap<string, number> | undefined,
): CostDriver[] {
  const llm = new Map<string, number>();
  for (const d of days) {
    const name = `LLM ${d.component} ${d.provider}/${d.model}`;
    llm.set(name, (llm.get(name) ?? 0) + d.usd);
  }
  return [
    ...[...llm].map(([name, usd]): CostDriver => ({ kind: 'llm', name, usd: round2(usd) })),
    ...[...(services ?? [])].map(([name, usd]): CostDriver => ({ kind: 'aws', name, usd })),
  ]
    .filter((d) => d.usd > 0)
    .sort((a, b) => b.usd - a.usd || a.name.localeCompare(b.name))
    .slice(0, DRIVERS);
}

function sumOf(days: readonly LlmSpendDay[]): number {
  return days.reduce((sum, d) => sum + d.usd, 0);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
