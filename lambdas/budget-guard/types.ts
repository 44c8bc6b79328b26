/**
 * The budget guard's types: what a Budgets notification is decided on and its result. The kill
 * switch's and the batch controls' types and named errors are core/kill-switch's, re-exported.
 */

import type { EngageResult, KillSwitchConfig } from '../../core/kill-switch/types';

export * from '../../core/kill-switch/batch';
export * from '../../core/kill-switch/types';

/** What the Budgets path acts on and whom it tells. */
export interface BudgetGuardConfig extends KillSwitchConfig {
  /** The only budget whose notifications can engage the kill switch. */
  readonly killSwitchBudgetName: string;
  /** Engage when the actual spend reaches this percentage of the budgeted amount. */
  readonly killThresholdPercent: number;
  /** The account owning the budget. @default the account of batchStateMachineArn */
  readonly budgetAccountId?: string;
}

/** Why a notification was ignored. */
export type IgnoreReason = 'other-account' | 'other-budget' | 'forecasted' | 'below-threshold';

/** The result of {@link handleBudgetNotification}. */
export type BudgetNotificationResult =
  | EngageResult
  | { readonly outcome: 'ignored'; readonly reason: IgnoreReason; readonly explanation: string }
  | {
      readonly outcome: 'unparseable';
      readonly missing: readonly string[];
      readonly invalid: readonly string[];
    };

/** The decision about one parsed notification. */
export type Decision =
  | { readonly act: true; readonly thresholdAmount: number; readonly explanation: string }
  | { readonly act: false; readonly reason: IgnoreReason; readonly explanation: string };
