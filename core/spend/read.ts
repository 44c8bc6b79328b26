/**
 * Month-to-date spend per budget, the one computation the spend guard acts on and `batch enable`
 * checks: LLM spend from the application's `LlmCostUsd` metric (CloudWatch GetMetricData) and AWS
 * spend from what AWS Budgets reports (DescribeBudget: CalculatedSpend ActualSpend and forecast).
 *
 * A figure that cannot be read is `unknown`, never zero; one built from values that break the
 * metric's contract (a negative value, a call costing more than `maxCallCostUsd`) is kept only
 * as the part that can be trusted, a lower bound, and named as a problem. A budget's spend is the
 * sum of the figures that could be read: a lower bound of the real spend whenever one is missing.
 */

import { type BudgetsClient, DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import type { CloudWatchClient, MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { describeError } from '../errors';
import { amountOf, usd } from '../kill-switch/messages';
import { readMetricData } from '../metric-data';
import { BUDGET_LLM_COMPONENTS, reached, SPEND_BUDGETS, type SpendBudgetId } from './budgets';
import {
  LLM_COMPONENTS,
  LLM_COST_METRIC,
  LLM_COST_READ_STATISTICS,
  type LlmComponent,
  llmCostQuery,
  llmCostSeries,
} from './metric';
import { daysIn, elapsedDays, type SpendMonth, spendMonthOf } from './month';

/** One budget as configured: its limit and its AWS Budgets counterpart. */
export interface SpendBudgetSpec {
  readonly id: SpendBudgetId;
  readonly limitUsd: number;
  /** The AWS budget holding the AWS spend of this budget (the monthly budget for the total). */
  readonly awsBudgetName: string;
}

/** What reading the spend needs to know. */
export interface SpendSettings {
  /** The `Environment` dimension of the metric. */
  readonly environment: string;
  /** The account owning the AWS budgets. */
  readonly accountId: string;
  /** Every budget of SPEND_BUDGETS. */
  readonly budgets: readonly SpendBudgetSpec[];
  /** A single call reported above this is not believed (a unit error, say): its day is left out. */
  readonly maxCallCostUsd: number;
  /**
   * Hours after the month starts during which AWS Budgets may still report the month that ended
   * (its data lags 8-12 hours): AWS spend counts as $0 until then.
   */
  readonly awsSettleHours: number;
}

/** The clients the reading uses (Budgets is served from us-east-1). */
export interface SpendSources {
  readonly cloudwatch: CloudWatchClient;
  readonly budgets: BudgetsClient;
}

/** One figure of a budget's spend. */
export type SpendFigure =
  | {
      readonly known: true;
      /** e.g. "LLM batch". */
      readonly label: string;
      readonly usd: number;
      /** The real value may be higher (a part was left out or is not reported yet). */
      readonly lowerBound: boolean;
      /** Where it comes from and what it holds, e.g. "CloudWatch LlmCostUsd, 1,203 calls". */
      readonly source: string;
      /** Why it is a lower bound, or another remark. */
      readonly note?: string;
      /** Something that breaks the contract or the figure's reliability: a human must look. */
      readonly problem?: string;
      /** AWS Budgets' forecast of the month's end, when it gives one. */
      readonly forecastUsd?: number;
    }
  | { readonly known: false; readonly label: string; readonly source: string; readonly reason: string };

/** One budget's month-to-date spend. */
export interface BudgetSpend {
  readonly id: SpendBudgetId;
  readonly limitUsd: number;
  /** The sum of the figures that could be read. */
  readonly spentUsd: number;
  /** spentUsd as a percentage of the limit. */
  readonly percent: number;
  /** Every figure read, none unknown and none with a problem: spentUsd is the spend (or a settled lower bound). */
  readonly complete: boolean;
  readonly parts: readonly SpendFigure[];
  /**
   * The month's end projected: LLM figures linearly, AWS figures by Budgets' forecast (linearly
   * without one); undefined at the very start of the month.
   */
  readonly projectedUsd?: number;
}

/** What one series of LlmCostUsd counted on one UTC day: the parts the figures are the sums of. */
export interface LlmSpendDay {
  readonly component: LlmComponent;
  readonly provider: string;
  readonly model: string;
  /** "2026-11-03". */
  readonly day: string;
  /** What the figure counted for the day (the trusted part: 0 for a day left out). */
  readonly usd: number;
  readonly calls: number;
}

/** Everything one reading found. */
export interface SpendReading {
  readonly month: SpendMonth;
  /** The time of the reading (the end of month-to-date). */
  readonly at: Date;
  readonly llm: Readonly<Record<LlmComponent, SpendFigure>>;
  readonly aws: Readonly<Record<SpendBudgetId, SpendFigure>>;
  readonly budgets: Readonly<Record<SpendBudgetId, BudgetSpend>>;
  /** Each unknown figure and each problem, described: what the "spend unknown" page says. */
  readonly problems: readonly string[];
  /** The days the LLM figures were summed from (`ops cost` breaks them down); empty for an unknown figure. */
  readonly llmDays?: readonly LlmSpendDay[];
}

/** GetMetricData statistics read per series and day. */
const STATS = LLM_COST_READ_STATISTICS;
type Stat = (typeof STATS)[number];
const DAY_SECONDS = 86_400;
/** Pages of one GetMetricData before the figure is given up as unknown (one page holds the month). */
const MAX_PAGES = 5;

/** Reads the spend of the month holding `options.at` (or of `options.month`). */
export async function readSpend(
  sources: SpendSources,
  settings: SpendSettings,
  options: { readonly at: Date; readonly month?: SpendMonth },
): Promise<SpendReading> {
  const month = options.month ?? spendMonthOf(options.at);
  // The reading ends at the month's end when it is over (a late look at the previous month).
  const at = new Date(Math.min(options.at.getTime(), month.end.getTime()));
  const llmDays: LlmSpendDay[] = [];
  const [llm, aws] = await Promise.all([
    readLlmSpend(sources.cloudwatch, settings, month, at, llmDays),
    readAwsSpend(sources.budgets, settings, month, at),
  ]);
  return { ...assemble(settings, month, at, llm, aws), llmDays };
}

/** The reading of `llm` and `aws` figures: each budget's sum, completeness and projection. */
export function assemble(
  settings: SpendSettings,
  month: SpendMonth,
  at: Date,
  llm: Readonly<Record<LlmComponent, SpendFigure>>,
  aws: Readonly<Record<SpendBudgetId, SpendFigure>>,
): SpendReading {
  const fraction = elapsedDays(month, at) / daysIn(month);
  const budgets = Object.fromEntries(
    SPEND_BUDGETS.map((id) => {
      const spec = specOf(settings, id);
      const parts = [...BUDGET_LLM_COMPONENTS[id].map((c) => llm[c]), aws[id]];
      const known = parts.filter((p) => p.known);
      const spentUsd = round2(known.reduce((sum, p) => sum + p.usd, 0));
      const projectedUsd =
        fraction <= 0
          ? undefined
          : round2(known.reduce((sum, p) => sum + (p.forecastUsd ?? p.usd / fraction), 0));
      const spend: BudgetSpend = {
        id,
        limitUsd: spec.limitUsd,
        spentUsd,
        percent: spec.limitUsd > 0 ? round2((spentUsd / spec.limitUsd) * 100) : 0,
        complete: parts.every((p) => p.known && p.problem === undefined),
        parts,
        projectedUsd,
      };
      return [id, spend];
    }),
  ) as Record<SpendBudgetId, BudgetSpend>;
  const figures = [...LLM_COMPONENTS.map((c) => llm[c]), ...SPEND_BUDGETS.map((id) => aws[id])];
  const problems = figures.flatMap((f) =>
    f.known ? (f.problem ? [`${f.label}: ${f.problem}`] : []) : [`${f.label} unknown: ${f.reason}`],
  );
  return { month, at, llm, aws, budgets, problems };
}

function specOf(settings: SpendSettings, id: SpendBudgetId): SpendBudgetSpec {
  const spec = settings.budgets.find((b) => b.id === id);
  if (spec === undefined) throw new Error(`spend settings have no budget '${id}'`);
  return spec;
}

// ---------------------------------------------------------------------------------------------
// LLM spend (CloudWatch)

/** The query id of one series' statistic: lower-case letter first, letters, digits and _ only. */
function queryId(component: LlmComponent, index: number, stat: Stat): string {
  return `llm_${component}_${index}_${stat.toLowerCase()}`;
}

/** The GetMetricData queries of the month: every allowed series of the metric, four statistics, by day. */
export function llmSpendQueries(environment: string): MetricDataQuery[] {
  return LLM_COMPONENTS.flatMap((component) =>
    llmCostSeries(environment, component).flatMap((series, index) =>
      STATS.map((stat) => llmCostQuery(queryId(component, index, stat), series, DAY_SECONDS, stat)),
    ),
  );
}

async function readLlmSpend(
  cloudwatch: CloudWatchClient,
  settings: SpendSettings,
  month: SpendMonth,
  at: Date,
  days: LlmSpendDay[],
): Promise<Record<LlmComponent, SpendFigure>> {
  const source = `CloudWatch ${LLM_COST_METRIC.name}`;
  const queries = llmSpendQueries(settings.environment);
  let results: Map<string, MetricDataResult>;
  try {
    results = await readMetricData(
      cloudwatch,
      {
        MetricDataQueries: queries,
        StartTime: month.start,
        EndTime: queryEnd(month, at),
        ScanBy: 'TimestampAscending',
      },
      MAX_PAGES,
    );
  } catch (error) {
    const reason = `GetMetricData failed: ${describeError(error)}`;
    return Object.fromEntries(
      LLM_COMPONENTS.map((c) => [c, { known: false, label: `LLM ${c}`, source, reason }]),
    ) as Record<LlmComponent, SpendFigure>;
  }
  return Object.fromEntries(
    LLM_COMPONENTS.map((c) => {
      const counted: LlmSpendDay[] = [];
      const figure = llmFigure(c, settings, results, source, counted);
      // An unknown figure counted nothing: its days would be a breakdown of no total.
      if (figure.known) days.push(...counted);
      return [c, figure];
    }),
  ) as Record<LlmComponent, SpendFigure>;
}

/**
 * The end of the month-to-date query: the whole hour at least 15 minutes after `at` (a publisher
 * whose clock runs a little ahead is still counted), never past the month's end.
 */
export function queryEnd(month: SpendMonth, at: Date): Date {
  const hour = 3_600_000;
  const end = Math.ceil((at.getTime() + 15 * 60_000) / hour) * hour;
  return new Date(Math.min(end, month.end.getTime()));
}

/** One day of one series: its statistics. */
interface Day {
  sum?: number;
  count?: number;
  min?: number;
  max?: number;
}

function llmFigure(
  component: LlmComponent,
  settings: SpendSettings,
  results: ReadonlyMap<string, MetricDataResult>,
  source: string,
  counted: LlmSpendDay[],
): SpendFigure {
  const label = `LLM ${component}`;
  let usd = 0;
  let calls = 0;
  const notes: string[] = [];
  const series = llmCostSeries(settings.environment, component);
  for (const [index, s] of series.entries()) {
    const name = `${s.Provider}/${s.Model}`;
    const days = new Map<string, Day>();
    for (const stat of STATS) {
      const result = results.get(queryId(component, index, stat));
      if (result === undefined) {
        return {
          known: false,
          label,
          source,
          reason: `GetMetricData returned no result for ${name} ${stat}`,
        };
      }
      if (result.StatusCode !== 'Complete') {
        const messages = (result.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join('; ');
        return {
          known: false,
          label,
          source,
          reason: `${name} ${stat}: status ${result.StatusCode ?? 'missing'}${messages ? ` (${messages})` : ''}`,
        };
      }
      const timestamps = result.Timestamps ?? [];
      (result.Values ?? []).forEach((value, i) => {
        const day = timestamps[i]?.toISOString().slice(0, 10) ?? `#${i}`;
        const entry = days.get(day) ?? {};
        entry[statKey(stat)] = value;
        days.set(day, entry);
      });
    }
    const count = (day: string, dayUsd: number, dayCalls: number) =>
      counted.push({ component, provider: s.Provider, model: s.Model, day, usd: dayUsd, calls: dayCalls });
    for (const [day, d] of [...days].sort(([a], [b]) => a.localeCompare(b))) {
      const values = [d.sum, d.count, d.min, d.max].filter((v): v is number => v !== undefined);
      const sum = d.sum ?? 0;
      if (values.some((v) => !Number.isFinite(v))) {
        notes.push(`${name} on ${day}: a value that is not a number, left out`);
        continue;
      }
      if ((d.max ?? sum) > settings.maxCallCostUsd) {
        notes.push(
          `${name} on ${day}: a call reported ${money(d.max ?? sum)} (over ${money(settings.maxCallCostUsd)} per call ` +
            `is not believed), that day's ${money(sum)} left out`,
        );
        continue;
      }
      if ((d.min ?? 0) < 0) {
        // Negative values hide part of the day's cost; its largest single call is still spent.
        const atLeast = Math.max(sum, d.max ?? 0, 0);
        notes.push(
          `${name} on ${day}: negative values (minimum ${money(d.min ?? 0)}), counted at least ${money(atLeast)}`,
        );
        usd += atLeast;
        calls += d.count ?? 0;
        count(day, atLeast, d.count ?? 0);
        continue;
      }
      usd += sum;
      calls += d.count ?? 0;
      count(day, sum, d.count ?? 0);
    }
  }
  return {
    known: true,
    label,
    usd: round2(usd),
    lowerBound: notes.length > 0,
    source: `${source}, ${calls.toLocaleString('en-US')} call${calls === 1 ? '' : 's'}${calls === 0 ? ' (no data)' : ''}`,
    ...(notes.length > 0
      ? { note: 'values breaking the metric contract left out', problem: notes.join('; ') }
      : {}),
  };
}

function statKey(stat: Stat): keyof Day {
  switch (stat) {
    case 'Sum':
      return 'sum';
    case 'SampleCount':
      return 'count';
    case 'Minimum':
      return 'min';
    case 'Maximum':
      return 'max';
  }
}

// ---------------------------------------------------------------------------------------------
// AWS spend (Budgets)

async function readAwsSpend(
  budgets: BudgetsClient,
  settings: SpendSettings,
  month: SpendMonth,
  at: Date,
): Promise<Record<SpendBudgetId, SpendFigure>> {
  const settling = at.getTime() - month.start.getTime() < settings.awsSettleHours * 3_600_000;
  // A month read again after its end (its late LLM data): Budgets shows the new month by then,
  // or will within hours, so its figure cannot be told apart.
  const ended = at.getTime() >= month.end.getTime();
  const figures = await Promise.all(
    SPEND_BUDGETS.map(async (id): Promise<[SpendBudgetId, SpendFigure]> => {
      const name = specOf(settings, id).awsBudgetName;
      const label = id === 'total' ? 'AWS' : `AWS ${id}`;
      const source = `AWS Budgets ${name}`;
      if (settling || ended) {
        // Budgets may still show the month that ended: its figure would count twice.
        return [
          id,
          {
            known: true,
            label,
            usd: 0,
            lowerBound: true,
            source,
            note: ended
              ? 'not counted for a month that has ended (Budgets reports the current month)'
              : `not counted in the first ${settings.awsSettleHours} h of the month (Budgets lags 8-12 h)`,
          },
        ];
      }
      try {
        const answer = await budgets.send(
          new DescribeBudgetCommand({ AccountId: settings.accountId, BudgetName: name }),
        );
        return [id, awsFigure(label, source, answer.Budget?.CalculatedSpend)];
      } catch (error) {
        return [
          id,
          { known: false, label, source, reason: `DescribeBudget failed: ${describeError(error)}` },
        ];
      }
    }),
  );
  return Object.fromEntries(figures) as Record<SpendBudgetId, SpendFigure>;
}

function awsFigure(
  label: string,
  source: string,
  spend:
    | {
        ActualSpend?: { Amount?: string; Unit?: string };
        ForecastedSpend?: { Amount?: string; Unit?: string };
      }
    | undefined,
): SpendFigure {
  const actual = spend?.ActualSpend;
  if (actual === undefined) {
    return {
      known: false,
      label,
      source,
      reason: 'Budgets reports no actual spend (CalculatedSpend missing)',
    };
  }
  if (actual.Unit !== undefined && actual.Unit !== 'USD') {
    return { known: false, label, source, reason: `actual spend is in ${actual.Unit}, not USD` };
  }
  const amount = amountOf(actual.Amount);
  if (amount === undefined) {
    return {
      known: false,
      label,
      source,
      reason: `actual spend ${JSON.stringify(actual.Amount)} is not an amount`,
    };
  }
  const forecast = spend?.ForecastedSpend;
  const forecastUsd =
    forecast?.Unit === undefined || forecast.Unit === 'USD' ? amountOf(forecast?.Amount) : undefined;
  return {
    known: true,
    label,
    usd: round2(amount),
    lowerBound: false,
    source: `${source} ActualSpend`,
    // Credits and refunds make AWS spend negative: Budgets' figure, kept as it is.
    ...(amount < 0 ? { note: 'negative: credits or refunds' } : {}),
    ...(forecastUsd === undefined ? {} : { forecastUsd: round2(forecastUsd) }),
  };
}

// ---------------------------------------------------------------------------------------------
// Text

/** "$1,234.50". */
export const money = usd;

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** One figure as the messages show it: "LLM batch $1,120.00 (CloudWatch LlmCostUsd, 1,203 calls)". */
export function describeFigure(figure: SpendFigure): string {
  if (!figure.known) return `${figure.label} UNKNOWN (${figure.source}: ${figure.reason})`;
  const remarks = [figure.source, figure.note].filter((r) => r !== undefined).join('; ');
  return `${figure.label} ${figure.lowerBound ? 'at least ' : ''}${money(figure.usd)} (${remarks})`;
}

/**
 * A budget's spend and the figures it was computed from, e.g. "total $2,013.40 of $2,000.00
 * (100.7%) = LLM batch $1,402.10 (...) + LLM interactive $412.30 (...) + AWS $199.00 (...)".
 */
export function describeBudgetSpend(spend: BudgetSpend): string {
  const lowerBound = spend.parts.some((p) => !p.known || p.lowerBound);
  return (
    `${spend.id} ${lowerBound ? 'at least ' : ''}${money(spend.spentUsd)} of ${money(spend.limitUsd)} ` +
    `(${spend.percent.toFixed(1)}%) = ${spend.parts.map(describeFigure).join(' + ')}`
  );
}

/** Where a budget stands against its kill threshold. */
export interface KillThresholdCheck {
  /**
   * over: the spend read reaches the threshold (whatever could not be read); under: every figure
   * was read and it does not; unknown: it does not, but some figure is missing or in doubt.
   */
  readonly state: 'over' | 'under' | 'unknown';
  readonly spend: BudgetSpend;
  readonly thresholdPercent: number;
  readonly thresholdUsd: number;
  /** The spend and the figures it was computed from (describeBudgetSpend). */
  readonly figures: string;
}

/** `budget`'s spend in `reading` against `thresholdPercent` of its limit. */
export function killThresholdCheck(
  reading: SpendReading,
  budget: SpendBudgetId,
  thresholdPercent: number,
): KillThresholdCheck {
  const spend = reading.budgets[budget];
  const over = reached(spend.spentUsd, spend.limitUsd, thresholdPercent);
  return {
    state: over ? 'over' : spend.complete ? 'under' : 'unknown',
    spend,
    thresholdPercent,
    thresholdUsd: round2((spend.limitUsd * thresholdPercent) / 100),
    figures: describeBudgetSpend(spend),
  };
}
