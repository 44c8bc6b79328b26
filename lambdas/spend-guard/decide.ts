/**
 * What the spend guard does with a reading, decided without side effects: which thresholds of
 * which budgets were reached and not yet acted on this month, what each calls for (the runbook's
 * email, chat, page, disable the batch), which month-end projections pass 100%, and whether the
 * "spend unknown" page goes out. The logic (logic.ts) carries the plan out.
 */

import {
  reached,
  SPEND_BUDGETS,
  type SpendBudgetId,
  type SpendLevel,
  spendLevels,
} from '../../core/spend/budgets';
import { elapsedDays } from '../../core/spend/month';
import type { BudgetSpend, SpendReading } from '../../core/spend/read';
import { type LevelKey, levelSk, type UnknownState } from './records';

/** Where a notice goes: the runbook's email (P3), chat (P2) and page (P1). */
export type Channel = 'email' | 'chat' | 'page';

const CHANNEL_RANK: Readonly<Record<Channel, number>> = { email: 1, chat: 2, page: 3 };

/** What the decision needs of the configuration. */
export interface DecideConfig {
  readonly killSwitchPercent: number;
  readonly killSwitchBudgets: readonly SpendBudgetId[];
  readonly forecastMinDays: number;
}

/** A threshold of a budget reached and not yet recorded complete. */
export interface PlannedLevel {
  readonly month: string;
  readonly budget: SpendBudgetId;
  readonly level: SpendLevel;
  readonly spend: BudgetSpend;
  /** Of the month that just ended (late data): notified, never acted on. */
  readonly late: boolean;
}

/** One message about one budget: every notification threshold it reached at once. */
export interface Notice {
  readonly month: string;
  readonly budget: SpendBudgetId;
  readonly late: boolean;
  readonly channel: Channel;
  readonly levels: readonly PlannedLevel[];
  readonly spend: BudgetSpend;
}

/** A month-end projection past the limit. */
export interface ForecastWarning {
  readonly month: string;
  readonly budget: SpendBudgetId;
  readonly spend: BudgetSpend;
  readonly projectedUsd: number;
}

/** What a run does. */
export interface Plan {
  readonly notices: readonly Notice[];
  /** The kill thresholds reached this month on budgets that disable the batch: one engagement for all. */
  readonly kill: readonly PlannedLevel[];
  readonly forecasts: readonly ForecastWarning[];
}

/** The record key of a planned threshold. */
export function plannedSk(p: { month: string; budget: SpendBudgetId }, level: LevelKey): string {
  return levelSk(p.month, p.budget, level);
}

/**
 * The plan for `current` (and `previous`, the month that just ended, read for its late data),
 * given the thresholds already recorded complete in `completed` (sort keys).
 */
export function decide(
  readings: { readonly current: SpendReading; readonly previous?: SpendReading },
  completed: ReadonlySet<string>,
  config: DecideConfig,
): Plan {
  const notices: Notice[] = [];
  const kill: PlannedLevel[] = [];
  const forecasts: ForecastWarning[] = [];
  const levels = spendLevels(config.killSwitchPercent);
  const months = [
    { reading: readings.current, late: false },
    ...(readings.previous ? [{ reading: readings.previous, late: true }] : []),
  ];
  for (const { reading, late } of months) {
    const month = reading.month.key;
    for (const budget of SPEND_BUDGETS) {
      const spend = reading.budgets[budget];
      const due = levels
        .filter((level) => reached(spend.spentUsd, spend.limitUsd, level.percent))
        .filter((level) => !completed.has(plannedSk({ month, budget }, level.percent)))
        .map((level): PlannedLevel => ({ month, budget, level, spend, late }));
      const kills = due.filter(
        (p) => p.level.action === 'disable-batch' && !late && config.killSwitchBudgets.includes(budget),
      );
      kill.push(...kills);
      const notified = due.filter((p) => !kills.includes(p));
      if (notified.length > 0) {
        const channel = notified
          .map((p) => channelOf(p.level))
          .reduce((a, b) => (CHANNEL_RANK[b] > CHANNEL_RANK[a] ? b : a));
        notices.push({ month, budget, late, channel, levels: notified, spend });
      }
      if (!late) {
        const warning = forecastWarning(reading, spend, completed, config);
        if (warning) forecasts.push(warning);
      }
    }
  }
  return { notices, kill, forecasts };
}

/** The channel of a notified threshold; a kill threshold that does not disable the batch pages. */
function channelOf(level: SpendLevel): Channel {
  return level.action === 'disable-batch' ? 'page' : level.action;
}

function forecastWarning(
  reading: SpendReading,
  spend: BudgetSpend,
  completed: ReadonlySet<string>,
  config: DecideConfig,
): ForecastWarning | undefined {
  const month = reading.month.key;
  if (completed.has(plannedSk({ month, budget: spend.id }, 'forecast'))) return undefined;
  // Early in the month one weekly batch run projects to several times the budget.
  if (elapsedDays(reading.month, reading.at) < config.forecastMinDays) return undefined;
  // Already over: the threshold's own message says more than a forecast.
  if (reached(spend.spentUsd, spend.limitUsd, 100)) return undefined;
  const projected = spend.projectedUsd;
  if (projected === undefined || !reached(projected, spend.limitUsd, 100)) return undefined;
  return { month, budget: spend.id, spend, projectedUsd: projected };
}

/** What happens to the "spend unknown" page this run. */
export type UnknownDecision =
  | { readonly action: 'none' }
  | { readonly action: 'notify' | 'remind'; readonly figures: readonly string[] }
  | { readonly action: 'hold'; readonly figures: readonly string[] }
  | { readonly action: 'recover'; readonly previous: UnknownState };

/**
 * Pages once when figures cannot be read (or are in doubt), again at once when the set of those
 * figures changes, as a reminder every `renotifyMinutes` while it lasts, and once more when every
 * figure is read again. A state that could not be read counts as none sent: better twice than never.
 */
export function decideUnknown(
  figures: readonly string[],
  stored: UnknownState | undefined,
  at: Date,
  renotifyMinutes: number,
): UnknownDecision {
  const sorted = [...new Set(figures)].sort();
  if (sorted.length === 0) return stored ? { action: 'recover', previous: stored } : { action: 'none' };
  if (stored === undefined || stored.figures.join('\n') !== sorted.join('\n')) {
    return { action: 'notify', figures: sorted };
  }
  const since = at.getTime() - Date.parse(stored.lastSentAt);
  return since >= renotifyMinutes * 60_000
    ? { action: 'remind', figures: sorted }
    : { action: 'hold', figures: sorted };
}
