/**
 * The types and named errors of the batch controls (kill switch, manual disable, re-enable).
 * The kill switch's own types are shared with the spend guard (core/kill-switch).
 */

import type { BudgetsClient } from '@aws-sdk/client-budgets';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AutomationError } from '../../core/errors';
import { usd } from '../../core/kill-switch/messages';
import {
  ActionsIncompleteError,
  type EngageResult,
  type KillSwitchClients,
  type KillSwitchConfig,
} from '../../core/kill-switch/types';

export * from '../../core/kill-switch/types';

/**
 * The clients of every batch control, re-enabling included: it reads the spend the spend guard
 * acts on (CloudWatch for LLM spend, Budgets, served from us-east-1, for AWS spend).
 */
export interface BatchControlClients extends KillSwitchClients {
  readonly budgets: BudgetsClient;
  readonly cloudwatch: CloudWatchClient;
}

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

/** A re-enable whose schedule, parameter or notice update partly failed. */
export class ReenableIncompleteError extends ActionsIncompleteError {}

/** Re-enabling was refused: the total spend is still at or over the kill threshold. */
export class BudgetStillExceededError extends AutomationError {
  constructor(
    /** The budget, e.g. 'total'. */
    readonly budgetName: string,
    /** What could be read (a lower bound when some figure was unknown). */
    readonly actualSpend: number,
    readonly budgetLimit: number,
    readonly thresholdAmount: number,
    /** The figures the spend was computed from. */
    readonly figures: string,
  ) {
    super(
      `Budget ${budgetName}: actual spend ${usd(actualSpend)} is still at or over the kill threshold ` +
        `${usd(thresholdAmount)} (limit ${usd(budgetLimit)}; ${figures}); re-enabling refused (force to override)`,
    );
  }
}

/** Re-enabling was refused: the spend could not be read (or only in part, under the threshold). */
export class BudgetSpendUnknownError extends AutomationError {}

/** The kill switch state changed while re-enabling (a concurrent engagement); nothing was changed. */
export class KillSwitchStateChangedError extends AutomationError {}
