/**
 * The runbook's budgets (Cost Management > Budget Alerts) as the spend guard, the Budgets path and
 * the ops CLI share them: which budgets there are, what each is paid by, and what happens at
 * each threshold. The amounts are config (lib/config `budgets`). No imports but the metric's.
 */
import type { LlmComponent } from './metric';

/** The budgets, the total last (the runbook: batch $1,200, interactive $600, infrastructure $200, total $2,000). */
export const SPEND_BUDGETS = ['batch', 'interactive', 'infrastructure', 'total'] as const;
export type SpendBudgetId = (typeof SPEND_BUDGETS)[number];

/**
 * The LLM spend each budget pays (`LlmCostUsd` by Component); AWS spend comes from the budget's
 * own AWS Budgets counterpart (by the Component cost-allocation tag, all AWS for the total).
 */
export const BUDGET_LLM_COMPONENTS: Readonly<Record<SpendBudgetId, readonly LlmComponent[]>> = {
  batch: ['batch'],
  interactive: ['interactive'],
  infrastructure: [],
  total: ['batch', 'interactive'],
};

/** What the runbook does at a threshold: 50% email, 75% chat, 90% page, 100% disable the batch. */
export type SpendAction = 'email' | 'chat' | 'page' | 'disable-batch';

/** One threshold of a budget and its action. */
export interface SpendLevel {
  readonly percent: number;
  readonly action: SpendAction;
}

/** The runbook's notification thresholds (the kill threshold is config: budgets.killSwitchPercent). */
export const NOTIFY_LEVELS: readonly SpendLevel[] = [
  { percent: 50, action: 'email' },
  { percent: 75, action: 'chat' },
  { percent: 90, action: 'page' },
];

/** Every threshold, the kill threshold at `killSwitchPercent` (the runbook's 100%), ascending. */
export function spendLevels(killSwitchPercent: number): SpendLevel[] {
  return [...NOTIFY_LEVELS, { percent: killSwitchPercent, action: 'disable-batch' as const }].sort(
    (a, b) => a.percent - b.percent,
  );
}

/** Whether `spentUsd` reached `percent` of `limitUsd`, compared in cents (no floating-point residue). */
export function reached(spentUsd: number, limitUsd: number, percent: number): boolean {
  return Math.round(spentUsd * 100) >= Math.round(limitUsd * percent);
}
