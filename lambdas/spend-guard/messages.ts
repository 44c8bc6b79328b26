/**
 * What the spend guard tells humans. Every message names the figures it used (describeBudgetSpend):
 * where each number came from, which are lower bounds and which could not be read.
 */

import type { ActionFailure } from '../../core/kill-switch/types';
import { snsSubject } from '../../core/notice';
import { type BudgetSpend, describeBudgetSpend, money, type SpendReading } from '../../core/spend/read';
import type { ForecastWarning, Notice } from './decide';

/** An SNS message. */
export interface Message {
  readonly subject: string;
  readonly message: string;
}

const RUNBOOK = 'Runbook: Cost Management > Budget Alerts; Cost Optimization Actions.';

function headline(spend: BudgetSpend): string {
  const lowerBound = spend.parts.some((p) => !p.known || p.lowerBound);
  return `${lowerBound ? 'at least ' : ''}${money(spend.spentUsd)} of ${money(spend.limitUsd)}`;
}

function projection(spend: BudgetSpend): string {
  return spend.projectedUsd === undefined ? '' : ` Projected to month end: ${money(spend.projectedUsd)}.`;
}

/** A notice of the thresholds `notice` reached. */
export function noticeMessage(environment: string, notice: Notice, killSwitchPercent: number): Message {
  const percents = notice.levels.map((l) => `${l.level.percent}%`).join(', ');
  const top = notice.levels.at(-1)?.level.percent ?? 0;
  const exhausted = notice.levels.some((l) => l.level.action === 'disable-batch');
  const lines = [
    `Spend guard (${environment}): the ${notice.budget} budget of ${notice.month} reached ${percents} ` +
      `(month to date, UTC): ${headline(notice.spend)}.`,
    '',
    `Figures used: ${describeBudgetSpend(notice.spend)}.${projection(notice.spend)}`,
    '',
  ];
  if (notice.late) {
    lines.push(
      `${notice.month} is over: this was read from data that arrived after its last check. Nothing is ` +
        'disabled for a month that has ended; the new month starts at $0.',
    );
  } else if (exhausted) {
    lines.push(
      `The ${notice.budget} budget is spent. The batch is NOT disabled for it (the kill switch acts on ` +
        `this environment's kill-switch budgets at ${killSwitchPercent}%): reduce this spend by hand.`,
    );
  } else {
    lines.push(`At ${killSwitchPercent}% of a kill-switch budget the batch is disabled automatically.`);
  }
  lines.push(RUNBOOK);
  return {
    subject: snsSubject(
      `[${environment}] Spend ${top}% of the ${notice.budget} budget${notice.late ? ` (${notice.month}, late data)` : ''}: ${headline(notice.spend)}`,
    ),
    message: lines.join('\n'),
  };
}

/** The kill switch's trigger reason and figures for the kill thresholds reached. */
export function killReason(spends: readonly BudgetSpend[], killSwitchPercent: number): string {
  return `Spend guard: ${spends
    .map((s) => `${s.id} budget ${headline(s)} (${s.percent.toFixed(1)}%)`)
    .join(', ')} reached the kill threshold of ${killSwitchPercent}%`;
}

/** The kill threshold was reached but the kill switch was already engaged: nothing changed. */
export function alreadyEngagedMessage(
  environment: string,
  spends: readonly BudgetSpend[],
  killSwitchPercent: number,
  since: { readonly engagedAt?: string; readonly engagedBy?: string },
): Message {
  return {
    subject: snsSubject(
      `[${environment}] Spend ${killSwitchPercent}% of the ${spends.map((s) => s.id).join(' and ')} budget: batch already disabled`,
    ),
    message: [
      `${killReason(spends, killSwitchPercent)}.`,
      '',
      ...spends.map((s) => `Figures used: ${describeBudgetSpend(s)}.`),
      '',
      `The kill switch was already engaged (since ${since.engagedAt ?? 'an unknown time'} by ${since.engagedBy ?? 'unknown'}): ` +
        'nothing was changed. `npm run ops -- batch enable` refuses while the total spend is at or over the threshold.',
      RUNBOOK,
    ].join('\n'),
  };
}

/** A month-end projection past the limit. */
export function forecastMessage(environment: string, warning: ForecastWarning): Message {
  const { spend } = warning;
  return {
    subject: snsSubject(
      `[${environment}] Spend forecast: the ${warning.budget} budget heads for ${money(warning.projectedUsd)} (limit ${money(spend.limitUsd)})`,
    ),
    message: [
      `Spend guard (${environment}): month-to-date spend of the ${warning.budget} budget projected to the end ` +
        `of ${warning.month} is ${money(warning.projectedUsd)}, over its limit of ${money(spend.limitUsd)}.`,
      '',
      `Figures used: ${describeBudgetSpend(spend)}. Projection: LLM spend linearly, AWS spend by AWS Budgets' ` +
        'forecast (linearly without one).',
      '',
      'Nothing is disabled by a forecast. Consider the cost optimization actions now.',
      RUNBOOK,
    ].join('\n'),
  };
}

/** Some spend could not be read: the guard changes nothing on what it cannot see. */
export function unknownMessage(
  environment: string,
  readings: readonly SpendReading[],
  figures: readonly string[],
  reminder: boolean,
): Message {
  const problems = readings.flatMap((r) =>
    r.problems.map((p) => (readings.length > 1 ? `${r.month.key} ${p}` : p)),
  );
  return {
    subject: snsSubject(`[${environment}] Spend UNKNOWN${reminder ? ' (still)' : ''}: ${figures.join(', ')}`),
    message: [
      `Spend guard (${environment}): some spend cannot be read${reminder ? ' (still)' : ''}:`,
      ...problems.map((p) => `- ${p}`),
      '',
      'What could be read, per budget:',
      ...readings.flatMap((r) =>
        Object.values(r.budgets).map((b) => `- ${r.month.key} ${describeBudgetSpend(b)}`),
      ),
      '',
      'Nothing is done on spend that cannot be read: thresholds act only on the figures read (a lower bound), so ' +
        'the batch may be running over budget unseen. Check the LlmCostUsd metric and AWS Budgets by hand; ' +
        '`npm run ops -- batch disable --reason "..."` if in doubt.',
      RUNBOOK,
    ].join('\n'),
  };
}

/** Every figure is read again. */
export function recoveredMessage(
  environment: string,
  previous: { readonly figures: readonly string[]; readonly since: string },
): Message {
  return {
    subject: snsSubject(`[${environment}] Spend readable again: ${previous.figures.join(', ')}`),
    message:
      `Spend guard (${environment}): every spend figure is read again (unknown since ${previous.since}: ` +
      `${previous.figures.join(', ')}).`,
  };
}

/** The actions of this run that failed; the next run redoes them. */
export function failureMessage(environment: string, failures: readonly ActionFailure[]): Message {
  return {
    subject: snsSubject(`[${environment}] Spend guard: ${failures.length} action(s) FAILED`),
    message: [
      `Spend guard (${environment}): these actions failed and are left incomplete, so the next run redoes them:`,
      ...failures.map((f) => `- ${f.call} ${f.target}: ${f.error}`),
      '',
      'If a threshold that disables the batch is among them, run `npm run ops -- batch disable --reason "..."` now.',
    ].join('\n'),
  };
}
