/**
 * What the batch controls tell humans and AWS: SNS texts, the schedule update, the SSM
 * parameter write, amounts and error descriptions, and the retry policy shared by every call.
 */

import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { GetScheduleCommandOutput, ScheduleState } from '@aws-sdk/client-scheduler';
import type { SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { AutomationError, describeError } from '../errors';
import { type Notice, publishNotice } from '../notice';
import type { KillSwitchState } from '../ops-table/items';
import type { ActionFailure, BatchAction, EngageTrigger, KillSwitchConfig, RunOptions } from './types';

export { describeError };

/** The value of the schedule state parameter and of the schedule's State. */
export type BatchState = Extract<ScheduleState, 'ENABLED' | 'DISABLED'>;

export const STOP_TASK_REASON_MAX = 255;
export const STOP_CAUSE_MAX = 32_768;
// One page each keeps the rounds constant; the weekly batch never has more than a handful.
export const LIST_PAGE_SIZE = 100;

export const REENABLE_HELP =
  'To re-enable once spending is under control, run `npm run ops -- batch enable`: it re-enables ' +
  'the schedule AND writes ENABLED to the SSM parameter, and refuses while actual spend is still ' +
  'at or over the threshold unless forced. Re-enabling the schedule in the console alone does ' +
  'not last: the parameter still says DISABLED, and the next deploy can disable it again.';

let defaultLogger: Logger | undefined;

function fallbackLogger(): Logger {
  if (defaultLogger === undefined) defaultLogger = new Logger({ serviceName: 'batch-control' });
  return defaultLogger;
}

export function resolve(options: RunOptions) {
  const logger = options.logger ?? fallbackLogger();
  return {
    now: options.now ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
    logger,
  };
}

/** Tells humans on the alert topic, the subject prefixed with the environment. */
export function publishAlert(
  sns: SNSClient,
  config: Pick<KillSwitchConfig, 'alertTopicArn' | 'environment'>,
  notice: Notice,
): Promise<unknown> {
  return publishNotice(sns, config.alertTopicArn, {
    subject: `[${config.environment}] ${notice.subject}`,
    message: notice.message,
  });
}

/** The notice on the alert topic as one of a round's actions (its failure is one of the round's). */
export function publishAction(
  sns: SNSClient,
  config: Pick<KillSwitchConfig, 'alertTopicArn' | 'environment'>,
  notice: Notice,
): BatchAction {
  return { call: 'Publish', target: config.alertTopicArn, run: () => publishAlert(sns, config, notice) };
}

/**
 * Tells humans on the alert topic that some actions failed; resolves at once when nothing
 * failed. The caller decides what a failed publish means for it.
 */
export function reportFailures(
  sns: SNSClient,
  config: Pick<KillSwitchConfig, 'alertTopicArn' | 'environment'>,
  failures: readonly ActionFailure[],
  report: Notice,
): Promise<unknown> {
  if (failures.length === 0) return Promise.resolve(undefined);
  return publishAlert(sns, config, report);
}

/** UpdateSchedule replaces the whole definition: everything GetSchedule returned, new State. */
export function scheduleUpdate(schedule: GetScheduleCommandOutput, state: BatchState) {
  if (schedule.ScheduleExpression === undefined || schedule.Target === undefined) {
    throw new AutomationError('GetSchedule returned no ScheduleExpression or Target: cannot update it');
  }
  return {
    Name: schedule.Name,
    GroupName: schedule.GroupName,
    ScheduleExpression: schedule.ScheduleExpression,
    ScheduleExpressionTimezone: schedule.ScheduleExpressionTimezone,
    StartDate: schedule.StartDate,
    EndDate: schedule.EndDate,
    Description: schedule.Description,
    KmsKeyArn: schedule.KmsKeyArn,
    Target: schedule.Target,
    // Required by UpdateSchedule; always returned, but OFF is the schedule default.
    FlexibleTimeWindow: schedule.FlexibleTimeWindow ?? { Mode: 'OFF' },
    ActionAfterCompletion: schedule.ActionAfterCompletion,
    State: state,
  };
}

export function stateParameterUpdate(config: KillSwitchConfig, value: BatchState): PutParameterCommand {
  // No Type: overwriting keeps the existing String parameter's type.
  return new PutParameterCommand({ Name: config.batchScheduleStateParameter, Value: value, Overwrite: true });
}

/** What the engagement is doing now, for the notice sent with its actions. */
export interface EngagedWhat {
  readonly scheduleRef: string;
  readonly executionArns: readonly string[];
  readonly taskArns: readonly string[];
  readonly failuresSoFar: readonly ActionFailure[];
}

/** The notice sent with the engagement's actions (publishAlert prefixes the environment). */
export function engagedNotice(
  config: KillSwitchConfig,
  trigger: EngageTrigger,
  state: KillSwitchState,
  what: EngagedWhat,
): Notice {
  const lines = [
    `Budget kill switch ENGAGED (${config.environment}): the weekly batch is being disabled.`,
    '',
  ];
  if (trigger.budget) {
    lines.push(
      `Budget ${trigger.budget.name}: ACTUAL cost ${usd(trigger.budget.actualAmount)} of budgeted ` +
        `${usd(trigger.budget.budgetedAmount)} reached the kill threshold ` +
        `${usd(trigger.budget.thresholdAmount)} (${trigger.budget.thresholdPercent}%).`,
    );
    if (trigger.budget.figures) lines.push(`Figures used: ${trigger.budget.figures}.`);
  }
  lines.push(
    `Triggered by ${trigger.actor} at ${state.engagedAt}${trigger.messageId ? ` (SNS message ${trigger.messageId})` : ''}: ${trigger.reason}.`,
    '',
    'Being done now:',
    `- EventBridge Scheduler schedule ${what.scheduleRef}: set to DISABLED`,
    `- SSM parameter ${config.batchScheduleStateParameter}: set to DISABLED (so the next deploy keeps it disabled)`,
    `- Step Functions executions stopped: ${listOf(what.executionArns)}`,
    `- ECS batch tasks stopped (${config.ecsCluster}, family ${config.batchTaskFamily}): ${listOf(what.taskArns)}`,
  );
  if (what.failuresSoFar.length > 0) {
    lines.push(
      '',
      'Already failed:',
      ...what.failuresSoFar.map((f) => `- ${f.call} ${f.target}: ${f.error}`),
    );
  }
  lines.push('', 'A follow-up message reports any action that fails.', '', REENABLE_HELP);
  return {
    subject:
      'Budget kill switch ENGAGED: batch disabled' +
      (trigger.budget
        ? ` (${usd(trigger.budget.actualAmount)} of ${usd(trigger.budget.budgetedAmount)})`
        : ''),
    message: lines.join('\n'),
  };
}

/** The follow-up report of an engagement some of whose actions failed. */
export function incompleteNotice(
  config: KillSwitchConfig,
  trigger: EngageTrigger,
  failures: readonly ActionFailure[],
  scheduleRef: string,
): Notice {
  return {
    subject: `Budget kill switch INCOMPLETE: ${failures.length} action(s) failed`,
    message: [
      `The kill switch (${config.environment}) is recorded as engaged, but ${failures.length} action(s) failed:`,
      ...failures.map((f) => `- ${f.call} ${f.target}: ${f.error}`),
      '',
      `Trigger: ${trigger.reason} (by ${trigger.actor}).`,
      'The invocation fails so that Lambda retries it (the engagement stays recorded as incomplete, so ' +
        'the retry redoes every action); after the retries it lands in the dead-letter queue.',
      `Check by hand: schedule ${scheduleRef} and SSM parameter ${config.batchScheduleStateParameter} ` +
        `must be DISABLED, and no execution of ${config.batchStateMachineArn} nor task of family ` +
        `${config.batchTaskFamily} may be running.`,
    ].join('\n'),
  };
}

/** The state could not be recorded, so nothing was done: `error` described. */
export function notRecordedNotice(
  config: KillSwitchConfig,
  trigger: EngageTrigger,
  error: string,
  scheduleRef: string,
): Notice {
  return {
    subject: 'Budget kill switch FAILED: batch NOT disabled',
    message: [
      `The kill switch (${config.environment}) was triggered but could not record its state ` +
        `in ${config.opsTableName}, so it took NO action: the batch is NOT disabled.`,
      '',
      `Trigger: ${trigger.reason} (by ${trigger.actor}${trigger.messageId ? `, SNS message ${trigger.messageId}` : ''}).`,
      `Error: ${error}`,
      '',
      `Disable the batch by hand: \`npm run ops -- batch disable\`, or set the schedule ${scheduleRef} ` +
        `to DISABLED AND the SSM parameter ${config.batchScheduleStateParameter} to DISABLED, ` +
        `then stop the running executions of ${config.batchStateMachineArn}.`,
    ].join('\n'),
  };
}

/** A duplicate engagement found the schedule ENABLED though the switch is engaged (since, by). */
export function scheduleEnabledNotice(
  config: Pick<KillSwitchConfig, 'environment' | 'batchScheduleGroup' | 'batchScheduleName'>,
  since: string,
  by: string,
): Notice {
  return {
    subject: 'Budget kill switch engaged but batch schedule ENABLED',
    message: [
      `The budget is still over its kill threshold and the kill switch (${config.environment}) is ` +
        `recorded as engaged since ${since} by ${by}, but the schedule ` +
        `${config.batchScheduleGroup}/${config.batchScheduleName} is ENABLED.`,
      '',
      'Either it was re-enabled outside `npm run ops -- batch enable`, or an earlier engagement did not finish. ' +
        'Nothing was changed. Check, then run `npm run ops -- batch disable` (or `batch enable --force` ' +
        'if running over budget is intended).',
    ].join('\n'),
  };
}

/** Who re-enabled the batch and why. */
export interface ReenableRequestFacts {
  readonly actor: string;
  readonly reason: string;
}

/** What re-enabling found and did, for its notice. */
export interface ReenabledFacts {
  readonly check: {
    readonly state: 'over' | 'under' | 'unknown';
    readonly figures: string;
    readonly thresholdPercent: number | undefined;
  };
  readonly thresholdAmount: number;
  /** Re-enabled over the threshold or an unread spend. */
  readonly forced: boolean;
  /** The kill switch state before. */
  readonly state: KillSwitchState | undefined;
  readonly scheduleRef: string;
}

export function reenabledNotice(
  config: Pick<KillSwitchConfig, 'environment' | 'batchScheduleStateParameter'>,
  request: ReenableRequestFacts,
  { check, thresholdAmount, forced, state, scheduleRef }: ReenabledFacts,
): Notice {
  return {
    subject: `Batch re-enabled${forced ? ' (FORCED over budget)' : ''}`,
    message: [
      `The batch (${config.environment}) was re-enabled by ${request.actor}: ${request.reason}.`,
      '',
      `Spend: ${check.figures}; kill threshold ${usd(thresholdAmount)} (${check.thresholdPercent ?? '?'}%).`,
      forced
        ? check.state === 'over'
          ? 'FORCED: the spend is still at or over the threshold.'
          : 'FORCED: the spend could not be read in full.'
        : '',
      state?.engaged
        ? `The kill switch had been engaged since ${state.engagedAt} by ${state.engagedBy}: ${state.reason}.`
        : 'The kill switch was not engaged.',
      `Schedule ${scheduleRef} and SSM parameter ${config.batchScheduleStateParameter}: ENABLED.`,
    ]
      .filter((line, i, lines) => line !== '' || lines[i - 1] !== '')
      .join('\n'),
  };
}

export function reenableIncompleteNotice(
  config: Pick<KillSwitchConfig, 'environment'>,
  request: Pick<ReenableRequestFacts, 'actor'>,
  failures: readonly ActionFailure[],
): Notice {
  return {
    subject: 'Batch re-enable INCOMPLETE',
    message: [
      `Re-enabling the batch (${config.environment}, by ${request.actor}) partly failed:`,
      ...failures.map((f) => `- ${f.call} ${f.target}: ${f.error}`),
      '',
      'Run `npm run ops -- batch enable` again (it is safe to repeat).',
    ].join('\n'),
  };
}

/**
 * The automated engagement's own notices, on the alert topic directly (hence the environment in
 * the subject): the pause and repeat guard unreadable (`error` described), the verification not
 * scheduled.
 */
export function automationUnreadableNotice(environment: string, reason: string, error: string): Notice {
  return {
    subject: `[${environment}] P1 kill switch NOT engaged: automation state unreadable`,
    message: `${reason}. The kill switch did NOT engage: the automation pause and repeat guard cannot be read (${error}). Lambda retries; disable the batch by hand if needed: \`npm run ops -- batch disable --reason "..."\`.`,
  };
}

export function verificationNotScheduledNotice(
  environment: string,
  reason: string,
  problems: readonly string[],
): Notice {
  return {
    subject: `[${environment}] P1 kill switch engaged, its verification NOT scheduled`,
    message: `The kill switch engaged (${reason}), but: ${problems.join('; ')}. Check \`npm run ops -- batch status\` by hand.`,
  };
}

export function listOf(arns: readonly string[]): string {
  if (arns.length === 0) return 'none running';
  const shown = arns.slice(0, 20).map((arn) => arn.slice(arn.lastIndexOf(':') + 1));
  return `${arns.length} (${shown.join(', ')}${arns.length > shown.length ? ', ...' : ''})`;
}

const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

export function usd(amount: number): string {
  return usdFormat.format(amount);
}

export function formatOptional(amount: number | undefined): string {
  return amount === undefined ? 'unknown' : usd(amount);
}

export function amountOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export function accountOfArn(arn: string): string {
  const account = arn.split(':')[4];
  if (account === undefined || !/^\d{12}$/.test(account)) {
    throw new AutomationError(`Cannot tell the budget's account from ${arn}: set budgetAccountId`);
  }
  return account;
}
