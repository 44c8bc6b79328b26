/**
 * The budget kill switch and the manual batch controls built on the same code path: what a
 * Budgets notification means (decide), and the entry points the Lambda and the ops CLI call.
 * Engaging is in core/kill-switch/engage.ts (its protocol is described there), disabling and
 * re-enabling at a human's request in core/kill-switch/batch.ts and reenable.ts.
 */

import { DependencyUnavailableError } from '../../core/errors';
import {
  type AutomatedRunOptions,
  engageUnlessHeld,
  type HeldResult,
} from '../../core/kill-switch/automation';
import { engageKillSwitch } from '../../core/kill-switch/engage';
import { describeError, publishAlert, resolve, usd } from '../../core/kill-switch/messages';
import { unreadableNotificationNotice } from './messages';
import type { BudgetNotification, ParseResult } from './parse';
import type { BudgetGuardConfig, BudgetNotificationResult, Decision, KillSwitchClients } from './types';

export type { AutomatedRunOptions, HeldResult } from '../../core/kill-switch/automation';
export { disableBatch, getKillSwitchState } from '../../core/kill-switch/batch';
export { engageKillSwitch } from '../../core/kill-switch/engage';
export { describeError } from '../../core/kill-switch/messages';
export { type ReenableResult, type ReenableSpendCheck, reenableBatch } from '../../core/kill-switch/reenable';
export * from './types';

/**
 * Whether a notification engages the kill switch: only an ACTUAL alert of the configured
 * budget whose actual amount reaches the configured percentage of the budgeted amount.
 */
export function decide(
  notification: BudgetNotification,
  config: Pick<BudgetGuardConfig, 'killSwitchBudgetName' | 'killThresholdPercent' | 'budgetAccountId'>,
): Decision {
  // A budget of the same name in another account is not ours to act on.
  if (
    notification.accountId !== undefined &&
    config.budgetAccountId !== undefined &&
    notification.accountId !== config.budgetAccountId
  ) {
    return {
      act: false,
      reason: 'other-account',
      explanation: `the notification is from account ${notification.accountId}, not ${config.budgetAccountId}`,
    };
  }
  if (notification.budgetName !== config.killSwitchBudgetName) {
    return {
      act: false,
      reason: 'other-budget',
      explanation: `budget ${notification.budgetName} is not the kill switch budget ${config.killSwitchBudgetName}`,
    };
  }
  if (notification.alertType !== 'ACTUAL') {
    return {
      act: false,
      reason: 'forecasted',
      explanation: `${notification.alertType} alert: only actual spend engages the kill switch`,
    };
  }
  const thresholdAmount = (notification.budgetedAmount * config.killThresholdPercent) / 100;
  const actual = notification.actualAmount ?? 0;
  // In cents: 90% of $1,999.99 must not fail or pass on a floating-point residue.
  const reached = Math.round(actual * 100) >= Math.round(thresholdAmount * 100);
  const explanation =
    `actual ${usd(actual)} ${reached ? '>=' : '<'} ${config.killThresholdPercent}% of budgeted ` +
    `${usd(notification.budgetedAmount)} (${usd(thresholdAmount)})`;
  return reached
    ? { act: true, thresholdAmount, explanation }
    : { act: false, reason: 'below-threshold', explanation };
}

/**
 * Handles one parsed-or-not Budgets notification: ignores other budgets, forecasts and
 * amounts under the threshold; alerts humans about a text it cannot read (and does nothing
 * else); engages the kill switch otherwise.
 * Throws KillSwitchIncompleteError / KillSwitchNotEngagedError as {@link engageKillSwitch},
 * and DependencyUnavailableError when the alert about an unreadable text cannot be published
 * (so that the retry publishes it).
 */
export async function handleBudgetNotification(
  clients: KillSwitchClients,
  config: BudgetGuardConfig,
  message: {
    readonly messageId: string;
    readonly subject?: string;
    /** The parsed body (see parseBudgetNotification). */
    readonly parsed: ParseResult;
  },
  // The automation settings: the pause and repeat guard hold an engagement (core/automation).
  options: AutomatedRunOptions,
): Promise<BudgetNotificationResult | HeldResult> {
  const { logger } = resolve(options);
  const { parsed } = message;
  if (!parsed.ok) {
    logger.error('Cannot parse the budget notification: NO action taken', {
      messageId: message.messageId,
      subject: message.subject,
      missing: parsed.missing,
      invalid: parsed.invalid,
    });
    try {
      await publishAlert(
        clients.sns,
        config,
        unreadableNotificationNotice({
          environment: config.environment,
          messageId: message.messageId,
          subject: message.subject,
          missing: parsed.missing,
          invalid: parsed.invalid,
          schedule: `${config.batchScheduleGroup}/${config.batchScheduleName}`,
        }),
      );
    } catch (error) {
      throw new DependencyUnavailableError(
        `Cannot alert about an unreadable budget notification: ${describeError(error)}`,
        { cause: error },
      );
    }
    return { outcome: 'unparseable', missing: parsed.missing, invalid: parsed.invalid };
  }

  const notification = parsed.notification;
  if (parsed.warnings.length > 0) {
    logger.warn('Budget notification fields ignored', { warnings: parsed.warnings });
  }
  const decision = decide(notification, config);
  if (!decision.act) {
    logger.info('Budget notification ignored', {
      messageId: message.messageId,
      reason: decision.reason,
      explanation: decision.explanation,
      budgetName: notification.budgetName,
      alertType: notification.alertType,
    });
    return { outcome: 'ignored', reason: decision.reason, explanation: decision.explanation };
  }
  logger.warn('Budget kill threshold reached: engaging the kill switch', {
    messageId: message.messageId,
    explanation: decision.explanation,
  });
  return engageUnlessHeld(
    clients,
    config,
    {
      source: 'budget-guard',
      action: 'kill-switch-engage',
      actor: 'budget-guard',
      reason: `Budget ${notification.budgetName}: ${decision.explanation}`,
      deduplicate: true,
      budget: {
        name: notification.budgetName,
        actualAmount: notification.actualAmount ?? 0,
        budgetedAmount: notification.budgetedAmount,
        thresholdAmount: decision.thresholdAmount,
        thresholdPercent: config.killThresholdPercent,
        figures: `AWS Budgets notification, ACTUAL amount of ${notification.budgetName}`,
      },
      messageId: message.messageId,
    },
    options,
  );
}
