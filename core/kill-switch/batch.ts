/**
 * The batch controls the ops CLI and the budget guard share: disabling the batch at a human's
 * request (the kill switch's actions, engage.ts), reading the kill switch state, and the
 * clients and named errors of re-enabling (reenable.ts).
 */

import type { BudgetsClient } from '@aws-sdk/client-budgets';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AutomationError } from '../errors';
import { type KillSwitchState, readKillSwitchState } from '../ops-table/items';
import { engageKillSwitch } from './engage';
import { usd } from './messages';
import {
  ActionsIncompleteError,
  type EngageResult,
  type KillSwitchClients,
  type KillSwitchConfig,
  type RunOptions,
} from './types';

/**
 * The clients of every batch control, re-enabling included: it reads the spend the spend guard
 * acts on (CloudWatch for LLM spend, Budgets, served from us-east-1, for AWS spend).
 */
export interface BatchControlClients extends KillSwitchClients {
  readonly budgets: BudgetsClient;
  readonly cloudwatch: CloudWatchClient;
}

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

/**
 * Disables the batch at a human's request: the kill switch's actions, recorded as engaged by
 * `actor` (re-enable with {@link reenableBatch}). Unlike a notification, it always acts.
 */
export function disableBatch(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  request: { readonly actor: string; readonly reason: string },
  options: RunOptions = {},
): Promise<EngageResult> {
  return engageKillSwitch(
    clients,
    config,
    {
      source: 'cli',
      action: 'batch-disable',
      actor: request.actor,
      reason: request.reason,
      deduplicate: false,
    },
    options,
  );
}

/** The kill switch state, or undefined if it was never engaged. */
export function getKillSwitchState(
  clients: Pick<KillSwitchClients, 'ddb'>,
  config: Pick<KillSwitchConfig, 'opsTableName'>,
): Promise<KillSwitchState | undefined> {
  return readKillSwitchState(clients.ddb, config.opsTableName);
}
