/**
 * The budget kill switch and the manual batch controls built on the same code path.
 *
 * Engaging costs two sequential rounds of AWS calls, whatever is running:
 * 1. in parallel: record the state and an audit item (one conditional transaction), read the
 *    schedule, list the running executions and the running batch tasks;
 * 2. in parallel: disable the schedule, write the SSM parameter CloudFormation reads the
 *    schedule's state from, stop every execution and task found, publish the summary.
 * A third round (failure report, state and audit downgraded) runs only when round 2 failed.
 *
 * Partial failures: the state item is written in round 1 with `complete: true` (assuming
 * success keeps the normal path at two rounds); when an action of round 2 fails, round 3
 * rewrites it with `complete: false` and the invocation throws KillSwitchIncompleteError. The
 * engagement condition admits a state that is released OR incomplete, so the asynchronous
 * retry of the same notification engages again and redoes every action (all idempotent), while
 * a duplicate delivery after a complete engagement changes nothing.
 */

import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { type BudgetsClient, DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { type ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
  type ScheduleState,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AutomationError, DependencyUnavailableError } from '../shared/errors';
import {
  AUDIT_PK,
  type AuditOutcome,
  type AuditSource,
  auditItem,
  fromAttributeValues,
  KILL_SWITCH_ENGAGE_CONDITION,
  type KillSwitchState,
  killSwitchKey,
  killSwitchStateItem,
  parseKillSwitchState,
  readKillSwitchState,
  shortId,
} from '../shared/ops-table';
import { type RetryOptions, withRetry } from '../shared/retry';
import type { BudgetNotification, ParseResult } from './parse';

/** The clients the kill switch and the manual disable use. */
export interface KillSwitchClients {
  readonly scheduler: SchedulerClient;
  readonly sfn: SFNClient;
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
}

/** The clients of every batch control, re-enabling included (Budgets is served from us-east-1). */
export interface BatchControlClients extends KillSwitchClients {
  readonly budgets: BudgetsClient;
}

/** What the batch controls act on and whom they tell. */
export interface BudgetGuardConfig {
  /** e.g. 'prod'; shown in messages and audit items. */
  readonly environment: string;
  /** The only budget whose notifications can engage the kill switch. */
  readonly killSwitchBudgetName: string;
  /** Engage when the actual spend reaches this percentage of the budgeted amount. */
  readonly killThresholdPercent: number;
  readonly opsTableName: string;
  readonly batchScheduleName: string;
  readonly batchScheduleGroup: string;
  /** The SSM parameter (ENABLED or DISABLED) CloudFormation resolves the schedule's State from. */
  readonly batchScheduleStateParameter: string;
  readonly batchStateMachineArn: string;
  /** The ECS cluster's name. */
  readonly ecsCluster: string;
  /** The batch task definition's family. */
  readonly batchTaskFamily: string;
  readonly alertTopicArn: string;
  /** The account owning the budget. @default the account of batchStateMachineArn */
  readonly budgetAccountId?: string;
}

/** Injectable time, ids, retries and logging. */
export interface RunOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Ids of attempts (DynamoDB client request tokens). @default randomUUID */
  readonly newId?: () => string;
  /** Retry policy of every AWS call (tests inject a no-op sleep). */
  readonly retry?: RetryOptions;
  /** @default a Powertools logger of service 'batch-control' */
  readonly logger?: Logger;
}

/** Who asks for an engagement and why. */
export interface EngageTrigger {
  readonly source: AuditSource;
  /** Audit action name, e.g. 'kill-switch-engage' or 'batch-disable'. */
  readonly action: string;
  readonly actor: string;
  readonly reason: string;
  /**
   * Whether an engagement already recorded as complete makes this one a no-op: true for
   * notifications (delivered at least once), false for a human's explicit request.
   */
  readonly deduplicate: boolean;
  readonly budget?: {
    readonly name: string;
    readonly actualAmount: number;
    readonly budgetedAmount: number;
    readonly thresholdAmount: number;
  };
  /** The SNS message that triggered it. */
  readonly messageId?: string;
}

/** An AWS call that failed, for logs, the failure report and the audit item. */
export interface ActionFailure {
  /** The API, e.g. 'StopTask'. */
  readonly call: string;
  /** What it acted on (schedule, parameter, execution or task ARN, topic). */
  readonly target: string;
  /** "ErrorName: message". */
  readonly error: string;
}

/** The result of an engagement whose actions were all carried out. */
export interface EngagedResult {
  readonly outcome: 'engaged';
  readonly attemptId: string;
  readonly engagedAt: string;
  /** The sort key of the audit item. */
  readonly auditSk: string;
  /** The schedule's state before this engagement. */
  readonly scheduleStateBefore: string | undefined;
  readonly stoppedExecutions: readonly string[];
  readonly stoppedTasks: readonly string[];
}

/** The kill switch was already engaged (and complete): nothing was changed. */
export interface DuplicateResult {
  readonly outcome: 'duplicate';
  /** The recorded state, when DynamoDB returned it. */
  readonly state: KillSwitchState | undefined;
  /** The schedule's state read in round 1. */
  readonly scheduleState: string | undefined;
  /**
   * The state says engaged but the schedule is ENABLED: a human re-enabled it outside the
   * CLI, or an earlier engagement died before finishing. Humans were alerted.
   */
  readonly inconsistent: boolean;
}

/** The result of {@link engageKillSwitch}. */
export type EngageResult = EngagedResult | DuplicateResult;

/** Why a notification was ignored. */
export type IgnoreReason = 'other-budget' | 'forecasted' | 'below-threshold';

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

/** Some actions failed after the state was recorded; `failures` names each. Retrying redoes them. */
export class ActionsIncompleteError extends AutomationError {
  constructor(
    message: string,
    readonly failures: readonly ActionFailure[],
  ) {
    super(message);
  }
}

/** An engagement (kill switch or manual disable) whose round 2 partly failed. */
export class KillSwitchIncompleteError extends ActionsIncompleteError {}

/** A re-enable whose schedule, parameter or notice update partly failed. */
export class ReenableIncompleteError extends ActionsIncompleteError {}

/** The state and audit could not be recorded, so nothing was done (humans were alerted). */
export class KillSwitchNotEngagedError extends AutomationError {}

/** Re-enabling was refused: the budget's actual spend is still at or over the threshold. */
export class BudgetStillExceededError extends AutomationError {
  constructor(
    readonly budgetName: string,
    readonly actualSpend: number,
    readonly budgetLimit: number,
    readonly thresholdAmount: number,
  ) {
    super(
      `Budget ${budgetName}: actual spend ${usd(actualSpend)} is still at or over the kill threshold ` +
        `${usd(thresholdAmount)} (limit ${usd(budgetLimit)}); re-enabling refused (force to override)`,
    );
  }
}

/** Re-enabling was refused: Budgets returned no actual spend or limit to compare. */
export class BudgetSpendUnknownError extends AutomationError {}

/** The kill switch state changed while re-enabling (a concurrent engagement); nothing was changed. */
export class KillSwitchStateChangedError extends AutomationError {}

/** The value of the schedule state parameter and of the schedule's State. */
type BatchState = Extract<ScheduleState, 'ENABLED' | 'DISABLED'>;

const SUBJECT_MAX = 100;
const STOP_TASK_REASON_MAX = 255;
const STOP_CAUSE_MAX = 32_768;
// One page each keeps the rounds constant; the weekly batch never has more than a handful.
const LIST_PAGE_SIZE = 100;

const REENABLE_HELP =
  'To re-enable once spending is under control, run `npm run ops -- batch enable`: it re-enables ' +
  'the schedule AND writes ENABLED to the SSM parameter, and refuses while actual spend is still ' +
  'at or over the threshold unless forced. Re-enabling the schedule in the console alone does ' +
  'not last: the parameter still says DISABLED, and the next deploy can disable it again.';

let defaultLogger: Logger | undefined;

function fallbackLogger(): Logger {
  if (defaultLogger === undefined) defaultLogger = new Logger({ serviceName: 'batch-control' });
  return defaultLogger;
}

function resolve(options: RunOptions) {
  const logger = options.logger ?? fallbackLogger();
  return {
    now: options.now ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
    logger,
    retry: <T>(call: string, fn: () => Promise<T>): Promise<T> =>
      withRetry(fn, {
        ...options.retry,
        onRetry: (info) => {
          logger.warn('Retrying an AWS call', {
            call,
            attempt: info.attempt,
            delayMs: info.delayMs,
            error: describeError(info.error),
          });
          options.retry?.onRetry?.(info);
        },
      }),
  };
}

/**
 * Whether a notification engages the kill switch: only an ACTUAL alert of the configured
 * budget whose actual amount reaches the configured percentage of the budgeted amount.
 */
export function decide(
  notification: BudgetNotification,
  config: Pick<BudgetGuardConfig, 'killSwitchBudgetName' | 'killThresholdPercent'>,
): Decision {
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
  options: RunOptions = {},
): Promise<BudgetNotificationResult> {
  const { logger, retry } = resolve(options);
  const { parsed } = message;
  if (!parsed.ok) {
    logger.error('Cannot parse the budget notification: NO action taken', {
      messageId: message.messageId,
      subject: message.subject,
      missing: parsed.missing,
      invalid: parsed.invalid,
    });
    const problems = [
      ...(parsed.missing.length > 0 ? [`missing: ${parsed.missing.join(', ')}`] : []),
      ...parsed.invalid,
    ];
    try {
      await retry('Publish', () =>
        clients.sns.send(
          new PublishCommand({
            TopicArn: config.alertTopicArn,
            Subject: subject(`[${config.environment}] Budget kill switch: unreadable budget notification`),
            Message: [
              `The budget guard (${config.environment}) could not parse a budget notification ` +
                `(SNS message ${message.messageId}${message.subject ? `, subject "${message.subject}"` : ''}).`,
              '',
              `Problems: ${problems.join('; ')}.`,
              '',
              'NO action was taken: the batch was NOT disabled. Check the budget in the AWS Budgets ' +
                `console and the batch schedule ${config.batchScheduleGroup}/${config.batchScheduleName} by hand.`,
            ].join('\n'),
          }),
        ),
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
  return engageKillSwitch(
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
      },
      messageId: message.messageId,
    },
    options,
  );
}

/**
 * Disables the batch at a human's request: the kill switch's actions, recorded as engaged by
 * `actor` (re-enable with {@link reenableBatch}). Unlike a notification, it always acts.
 */
export function disableBatch(
  clients: KillSwitchClients,
  config: BudgetGuardConfig,
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
  config: Pick<BudgetGuardConfig, 'opsTableName'>,
  options: RunOptions = {},
): Promise<KillSwitchState | undefined> {
  return readKillSwitchState(clients.ddb, config.opsTableName, options.retry);
}

/**
 * Engages the kill switch: records it, disables the schedule and its SSM parameter, stops the
 * running executions and batch tasks, and tells humans, in two rounds of parallel calls.
 * Returns a DuplicateResult (having changed nothing) when `trigger.deduplicate` and the
 * switch is already engaged and complete. Throws KillSwitchNotEngagedError when the state
 * cannot be recorded (nothing done) and KillSwitchIncompleteError, after attempting every
 * action and reporting the failures, when some action failed.
 */
export async function engageKillSwitch(
  clients: KillSwitchClients,
  config: BudgetGuardConfig,
  trigger: EngageTrigger,
  options: RunOptions = {},
): Promise<EngageResult> {
  const { now, newId, logger, retry } = resolve(options);
  const at = now();
  const attemptId = newId();
  const state: KillSwitchState = {
    engaged: true,
    // Optimistic, so the normal path needs no third round; round 3 clears it on failure.
    complete: true,
    engagedAt: at.toISOString(),
    engagedBy: trigger.actor,
    reason: trigger.reason,
    source: trigger.source,
    budgetName: trigger.budget?.name,
    actualAmount: trigger.budget?.actualAmount,
    budgetedAmount: trigger.budget?.budgetedAmount,
    messageId: trigger.messageId,
    attemptId,
  };
  const audit = auditItem(
    {
      action: trigger.action,
      actor: trigger.actor,
      reason: trigger.reason,
      source: trigger.source,
      // Optimistic as well: round 3 downgrades it to 'partial'.
      outcome: 'ok',
      environment: config.environment,
      details: {
        messageId: trigger.messageId,
        budgetName: trigger.budget?.name,
        actualAmount: trigger.budget?.actualAmount,
        budgetedAmount: trigger.budget?.budgetedAmount,
        thresholdAmount: trigger.budget?.thresholdAmount,
        attemptId,
      },
    },
    at,
    { id: shortId() },
  );
  const scheduleRef = `${config.batchScheduleGroup}/${config.batchScheduleName}`;

  // Round 1: the record and the reads the actions need. The reads are harmless if the
  // record turns out to be a duplicate.
  const [recorded, schedule, executions, tasks] = await Promise.allSettled([
    retry('TransactWriteItems', () =>
      clients.ddb.send(
        new TransactWriteCommand({
          // The same token on every retry: a write that landed but whose answer was lost is
          // acknowledged instead of failing its own condition.
          ClientRequestToken: attemptId,
          TransactItems: [
            {
              Put: {
                TableName: config.opsTableName,
                Item: killSwitchStateItem(state),
                ...(trigger.deduplicate
                  ? { ...KILL_SWITCH_ENGAGE_CONDITION, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }
                  : {}),
              },
            },
            {
              Put: {
                TableName: config.opsTableName,
                Item: audit,
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    ),
    retry('GetSchedule', () =>
      clients.scheduler.send(
        new GetScheduleCommand({ Name: config.batchScheduleName, GroupName: config.batchScheduleGroup }),
      ),
    ),
    retry('ListExecutions', () =>
      clients.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: config.batchStateMachineArn,
          statusFilter: 'RUNNING',
          maxResults: LIST_PAGE_SIZE,
        }),
      ),
    ),
    retry('ListTasks', () =>
      clients.ecs.send(
        new ListTasksCommand({
          cluster: config.ecsCluster,
          family: config.batchTaskFamily,
          desiredStatus: 'RUNNING',
          maxResults: LIST_PAGE_SIZE,
        }),
      ),
    ),
  ]);
  const scheduleState = schedule.status === 'fulfilled' ? schedule.value.State : undefined;

  if (recorded.status === 'rejected') {
    const previous = trigger.deduplicate ? duplicateOf(recorded.reason) : null;
    if (previous !== null) {
      return reportDuplicate(clients, config, previous, scheduleState, { logger, retry });
    }
    logger.error('Cannot record the kill switch state: NO action taken', {
      error: describeError(recorded.reason),
    });
    await retry('Publish', () =>
      clients.sns.send(
        new PublishCommand({
          TopicArn: config.alertTopicArn,
          Subject: subject(`[${config.environment}] Budget kill switch FAILED: batch NOT disabled`),
          Message: [
            `The kill switch (${config.environment}) was triggered but could not record its state ` +
              `in ${config.opsTableName}, so it took NO action: the batch is NOT disabled.`,
            '',
            `Trigger: ${trigger.reason} (by ${trigger.actor}${trigger.messageId ? `, SNS message ${trigger.messageId}` : ''}).`,
            `Error: ${describeError(recorded.reason)}`,
            '',
            `Disable the batch by hand: \`npm run ops -- batch disable\`, or set the schedule ${scheduleRef} ` +
              `to DISABLED AND the SSM parameter ${config.batchScheduleStateParameter} to DISABLED, ` +
              `then stop the running executions of ${config.batchStateMachineArn}.`,
          ].join('\n'),
        }),
      ),
    ).catch((error: unknown) =>
      logger.error('Cannot publish the alert either', { error: describeError(error) }),
    );
    throw new KillSwitchNotEngagedError(
      `Cannot record the kill switch state, no action taken: ${describeError(recorded.reason)}`,
      { cause: recorded.reason },
    );
  }

  // Round 2: every action at once; none depends on another.
  const executionArns =
    executions.status === 'fulfilled'
      ? (executions.value.executions ?? []).map((e) => e.executionArn ?? '').filter((a) => a !== '')
      : [];
  const taskArns = tasks.status === 'fulfilled' ? (tasks.value.taskArns ?? []) : [];
  const stopText = `Budget kill switch (${config.environment}): ${trigger.reason}`;
  const failures: ActionFailure[] = [];
  const actions: Array<{ call: string; target: string; run: () => Promise<unknown> }> = [];

  if (schedule.status === 'fulfilled') {
    actions.push({
      call: 'UpdateSchedule',
      target: scheduleRef,
      run: () =>
        clients.scheduler.send(new UpdateScheduleCommand(scheduleUpdate(schedule.value, 'DISABLED'))),
    });
  } else {
    failures.push({
      call: 'UpdateSchedule',
      target: scheduleRef,
      error: `not attempted: GetSchedule failed: ${describeError(schedule.reason)}`,
    });
  }
  actions.push({
    call: 'PutParameter',
    target: config.batchScheduleStateParameter,
    run: () => clients.ssm.send(stateParameterUpdate(config, 'DISABLED')),
  });
  if (executions.status === 'rejected') {
    failures.push({
      call: 'ListExecutions',
      target: config.batchStateMachineArn,
      error: `running executions not stopped: ${describeError(executions.reason)}`,
    });
  } else if (executions.value.nextToken) {
    // A failure, so the retry lists and stops the next page.
    failures.push({
      call: 'ListExecutions',
      target: config.batchStateMachineArn,
      error: `more than ${LIST_PAGE_SIZE} running executions: only the first ${LIST_PAGE_SIZE} were stopped`,
    });
  }
  for (const executionArn of executionArns) {
    actions.push({
      call: 'StopExecution',
      target: executionArn,
      run: () =>
        clients.sfn.send(
          new StopExecutionCommand({
            executionArn,
            error: 'BudgetKillSwitch',
            cause: stopText.slice(0, STOP_CAUSE_MAX),
          }),
        ),
    });
  }
  if (tasks.status === 'rejected') {
    failures.push({
      call: 'ListTasks',
      target: `${config.ecsCluster}/${config.batchTaskFamily}`,
      error: `running tasks not stopped: ${describeError(tasks.reason)}`,
    });
  } else if (tasks.value.nextToken) {
    failures.push({
      call: 'ListTasks',
      target: `${config.ecsCluster}/${config.batchTaskFamily}`,
      error: `more than ${LIST_PAGE_SIZE} running tasks: only the first ${LIST_PAGE_SIZE} were stopped`,
    });
  }
  for (const task of taskArns) {
    actions.push({
      call: 'StopTask',
      target: task,
      run: () =>
        clients.ecs.send(
          new StopTaskCommand({
            cluster: config.ecsCluster,
            task,
            reason: stopText.slice(0, STOP_TASK_REASON_MAX),
          }),
        ),
    });
  }
  actions.push({
    call: 'Publish',
    target: config.alertTopicArn,
    run: () =>
      clients.sns.send(
        new PublishCommand({
          TopicArn: config.alertTopicArn,
          Subject: subject(
            `[${config.environment}] Budget kill switch ENGAGED: batch disabled` +
              (trigger.budget
                ? ` (${usd(trigger.budget.actualAmount)} of ${usd(trigger.budget.budgetedAmount)})`
                : ''),
          ),
          Message: engagedSummary(config, trigger, state, {
            scheduleRef,
            executionArns,
            taskArns,
            failuresSoFar: failures,
          }),
        }),
      ),
  });

  const settled = await Promise.allSettled(actions.map((action) => retry(action.call, action.run)));
  settled.forEach((result, i) => {
    const action = actions[i];
    if (result.status === 'rejected' && action) {
      failures.push({ call: action.call, target: action.target, error: describeError(result.reason) });
    }
  });
  const failedTargets = new Set(failures.map((f) => f.target));
  const stoppedExecutions = executionArns.filter((arn) => !failedTargets.has(arn));
  const stoppedTasks = taskArns.filter((arn) => !failedTargets.has(arn));

  if (failures.length === 0) {
    logger.info('Kill switch engaged', {
      actor: trigger.actor,
      scheduleStateBefore: scheduleState,
      stoppedExecutions,
      stoppedTasks,
    });
    return {
      outcome: 'engaged',
      attemptId,
      engagedAt: state.engagedAt,
      auditSk: audit.sk,
      scheduleStateBefore: scheduleState,
      stoppedExecutions,
      stoppedTasks,
    };
  }

  // Round 3, only after a failure: report, and mark the engagement incomplete so the retry
  // of this invocation engages again instead of being taken for a duplicate.
  logger.error('Kill switch actions failed', { failures });
  const reported = await Promise.allSettled([
    retry('Publish', () =>
      clients.sns.send(
        new PublishCommand({
          TopicArn: config.alertTopicArn,
          Subject: subject(
            `[${config.environment}] Budget kill switch INCOMPLETE: ${failures.length} action(s) failed`,
          ),
          Message: failureReport(config, trigger, failures, scheduleRef),
        }),
      ),
    ),
    retry('UpdateItem', () =>
      clients.ddb.send(
        new UpdateCommand({
          TableName: config.opsTableName,
          Key: killSwitchKey(),
          UpdateExpression: 'SET #complete = :false',
          // Never mark another engagement incomplete.
          ConditionExpression: '#attemptId = :attemptId',
          ExpressionAttributeNames: { '#complete': 'complete', '#attemptId': 'attemptId' },
          ExpressionAttributeValues: { ':false': false, ':attemptId': attemptId },
        }),
      ),
    ),
    retry('UpdateItem', () =>
      setAuditOutcome(clients.ddb, config.opsTableName, audit.sk, 'partial', failures),
    ),
  ]);
  for (const result of reported) {
    if (result.status === 'rejected') {
      logger.error('Cannot report the failed kill switch actions', { error: describeError(result.reason) });
    }
  }
  throw new KillSwitchIncompleteError(
    `Kill switch engaged but ${failures.length} action(s) failed: ` +
      failures.map((f) => `${f.call} ${f.target}: ${f.error}`).join('; '),
    failures,
  );
}

/** What re-enabling found and did. */
export interface ReenableResult {
  readonly outcome: 'reenabled';
  /** Whether the kill switch was engaged before. */
  readonly wasEngaged: boolean;
  readonly forced: boolean;
  readonly actualSpend: number;
  readonly budgetLimit: number;
  readonly thresholdAmount: number;
  readonly auditSk: string;
}

/**
 * Re-enables the batch: refuses with BudgetStillExceededError while the budget's actual
 * spend is at or over the kill threshold (or BudgetSpendUnknownError when Budgets has no
 * figure), unless `force`; then releases the kill switch state and records an audit item
 * (one transaction, conditional on the state read), and enables the schedule and its SSM
 * parameter and publishes a notice. Throws ReenableIncompleteError after reporting when one of
 * those last calls failed (running it again is safe).
 */
export async function reenableBatch(
  clients: BatchControlClients,
  config: BudgetGuardConfig,
  request: { readonly actor: string; readonly reason: string; readonly force: boolean },
  options: RunOptions = {},
): Promise<ReenableResult> {
  const { now, newId, logger, retry } = resolve(options);
  const accountId = config.budgetAccountId ?? accountOfArn(config.batchStateMachineArn);
  const [state, budget, schedule] = await Promise.all([
    readKillSwitchState(clients.ddb, config.opsTableName, options.retry),
    retry('DescribeBudget', () =>
      clients.budgets.send(
        new DescribeBudgetCommand({ AccountId: accountId, BudgetName: config.killSwitchBudgetName }),
      ),
    ),
    retry('GetSchedule', () =>
      clients.scheduler.send(
        new GetScheduleCommand({ Name: config.batchScheduleName, GroupName: config.batchScheduleGroup }),
      ),
    ),
  ]);

  const actualSpend = amountOf(budget.Budget?.CalculatedSpend?.ActualSpend?.Amount);
  const budgetLimit = amountOf(budget.Budget?.BudgetLimit?.Amount);
  if (actualSpend === undefined || budgetLimit === undefined) {
    if (!request.force) {
      throw new BudgetSpendUnknownError(
        `Budget ${config.killSwitchBudgetName} has no actual spend or limit to compare; ` +
          're-enabling refused (force to override)',
      );
    }
  }
  const thresholdAmount = ((budgetLimit ?? 0) * config.killThresholdPercent) / 100;
  const exceeded =
    actualSpend === undefined ||
    budgetLimit === undefined ||
    Math.round(actualSpend * 100) >= Math.round(thresholdAmount * 100);
  if (exceeded && !request.force) {
    throw new BudgetStillExceededError(
      config.killSwitchBudgetName,
      actualSpend ?? 0,
      budgetLimit ?? 0,
      thresholdAmount,
    );
  }
  const forced = exceeded && request.force;
  if (forced) logger.warn('Re-enabling the batch over budget (forced)', { actor: request.actor });

  const at = now();
  const audit = auditItem(
    {
      action: 'batch-enable',
      actor: request.actor,
      reason: request.reason,
      source: 'cli',
      outcome: 'ok',
      environment: config.environment,
      details: {
        forced,
        forceRequested: request.force,
        actualSpend,
        budgetLimit,
        thresholdAmount,
        wasEngaged: state?.engaged ?? false,
        engagedAt: state?.engagedAt,
        engagedBy: state?.engagedBy,
      },
    },
    at,
  );
  const released: KillSwitchState | undefined = state && {
    ...state,
    engaged: false,
    complete: true,
    releasedAt: at.toISOString(),
    releasedBy: request.actor,
    releaseReason: request.reason,
  };
  try {
    await retry('TransactWriteItems', () =>
      clients.ddb.send(
        new TransactWriteCommand({
          ClientRequestToken: newId(),
          TransactItems: [
            ...(released && state
              ? [
                  {
                    Put: {
                      TableName: config.opsTableName,
                      Item: killSwitchStateItem(released),
                      // Released only as read: an engagement in between must win.
                      ConditionExpression: '#engagedAt = :engagedAt AND #engaged = :engaged',
                      ExpressionAttributeNames: { '#engagedAt': 'engagedAt', '#engaged': 'engaged' },
                      ExpressionAttributeValues: { ':engagedAt': state.engagedAt, ':engaged': state.engaged },
                    },
                  },
                ]
              : []),
            {
              Put: {
                TableName: config.opsTableName,
                Item: audit,
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    );
  } catch (error) {
    if (duplicateOf(error) !== null) {
      throw new KillSwitchStateChangedError(
        'The kill switch state changed while re-enabling (engaged again?): nothing changed; check and retry',
        { cause: error },
      );
    }
    throw error;
  }

  const scheduleRef = `${config.batchScheduleGroup}/${config.batchScheduleName}`;
  const actions: Array<{ call: string; target: string; run: () => Promise<unknown> }> = [
    {
      call: 'UpdateSchedule',
      target: scheduleRef,
      run: () => clients.scheduler.send(new UpdateScheduleCommand(scheduleUpdate(schedule, 'ENABLED'))),
    },
    {
      call: 'PutParameter',
      target: config.batchScheduleStateParameter,
      run: () => clients.ssm.send(stateParameterUpdate(config, 'ENABLED')),
    },
    {
      call: 'Publish',
      target: config.alertTopicArn,
      run: () =>
        clients.sns.send(
          new PublishCommand({
            TopicArn: config.alertTopicArn,
            Subject: subject(
              `[${config.environment}] Batch re-enabled${forced ? ' (FORCED over budget)' : ''}`,
            ),
            Message: [
              `The batch (${config.environment}) was re-enabled by ${request.actor}: ${request.reason}.`,
              '',
              `Budget ${config.killSwitchBudgetName}: actual spend ${formatOptional(actualSpend)} of ` +
                `${formatOptional(budgetLimit)} (kill threshold ${usd(thresholdAmount)}, ${config.killThresholdPercent}%).`,
              forced ? 'FORCED: the spend is still at or over the threshold.' : '',
              state?.engaged
                ? `The kill switch had been engaged since ${state.engagedAt} by ${state.engagedBy}: ${state.reason}.`
                : 'The kill switch was not engaged.',
              `Schedule ${scheduleRef} and SSM parameter ${config.batchScheduleStateParameter}: ENABLED.`,
            ]
              .filter((line, i, lines) => line !== '' || lines[i - 1] !== '')
              .join('\n'),
          }),
        ),
    },
  ];
  const settled = await Promise.allSettled(actions.map((action) => retry(action.call, action.run)));
  const failures: ActionFailure[] = [];
  settled.forEach((result, i) => {
    const action = actions[i];
    if (result.status === 'rejected' && action) {
      failures.push({ call: action.call, target: action.target, error: describeError(result.reason) });
    }
  });
  if (failures.length > 0) {
    logger.error('Re-enabling the batch partly failed', { failures });
    await Promise.allSettled([
      retry('UpdateItem', () =>
        setAuditOutcome(clients.ddb, config.opsTableName, audit.sk, 'partial', failures),
      ),
      retry('Publish', () =>
        clients.sns.send(
          new PublishCommand({
            TopicArn: config.alertTopicArn,
            Subject: subject(`[${config.environment}] Batch re-enable INCOMPLETE`),
            Message: [
              `Re-enabling the batch (${config.environment}, by ${request.actor}) partly failed:`,
              ...failures.map((f) => `- ${f.call} ${f.target}: ${f.error}`),
              '',
              'Run `npm run ops -- batch enable` again (it is safe to repeat).',
            ].join('\n'),
          }),
        ),
      ),
    ]);
    throw new ReenableIncompleteError(
      `Re-enabling partly failed: ${failures.map((f) => `${f.call} ${f.target}: ${f.error}`).join('; ')}`,
      failures,
    );
  }
  logger.info('Batch re-enabled', { actor: request.actor, forced, actualSpend, budgetLimit });
  return {
    outcome: 'reenabled',
    wasEngaged: state?.engaged ?? false,
    forced,
    actualSpend: actualSpend ?? 0,
    budgetLimit: budgetLimit ?? 0,
    thresholdAmount,
    auditSk: audit.sk,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * The previous state when `error` is the engagement condition failing (the state item, first
 * in the transaction, cancelled with ConditionalCheckFailed), or null for any other error.
 */
function duplicateOf(error: unknown): { state: KillSwitchState | undefined } | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as { name?: unknown; CancellationReasons?: unknown };
  if (e.name !== 'TransactionCanceledException' || !Array.isArray(e.CancellationReasons)) return null;
  const first = e.CancellationReasons[0] as { Code?: unknown; Item?: Record<string, unknown> } | undefined;
  if (first?.Code !== 'ConditionalCheckFailed') return null;
  try {
    return { state: parseKillSwitchState(fromAttributeValues(first.Item)) };
  } catch {
    // A malformed old item still means "already engaged"; its details are only for the log.
    return { state: undefined };
  }
}

async function reportDuplicate(
  clients: KillSwitchClients,
  config: BudgetGuardConfig,
  previous: { state: KillSwitchState | undefined },
  scheduleState: string | undefined,
  { logger, retry }: Pick<ReturnType<typeof resolve>, 'logger' | 'retry'>,
): Promise<DuplicateResult> {
  const since = previous.state?.engagedAt ?? 'an unknown time';
  const by = previous.state?.engagedBy ?? 'unknown';
  logger.info(`kill switch already engaged since ${since} by ${by}`, {
    engagedAt: previous.state?.engagedAt,
    engagedBy: previous.state?.engagedBy,
    messageId: previous.state?.messageId,
    scheduleState,
  });
  const inconsistent = scheduleState === 'ENABLED';
  if (inconsistent) {
    // Changing nothing is the rule for a duplicate, but silence would hide a batch that runs
    // while the switch claims to hold it.
    logger.error('Kill switch engaged but the batch schedule is ENABLED', { since, by });
    await retry('Publish', () =>
      clients.sns.send(
        new PublishCommand({
          TopicArn: config.alertTopicArn,
          Subject: subject(`[${config.environment}] Budget kill switch engaged but batch schedule ENABLED`),
          Message: [
            `The budget is still over its kill threshold and the kill switch (${config.environment}) is ` +
              `recorded as engaged since ${since} by ${by}, but the schedule ` +
              `${config.batchScheduleGroup}/${config.batchScheduleName} is ENABLED.`,
            '',
            'Either it was re-enabled outside `npm run ops -- batch enable`, or an earlier engagement did not finish. ' +
              'Nothing was changed. Check, then run `npm run ops -- batch disable` (or `batch enable --force` ' +
              'if running over budget is intended).',
          ].join('\n'),
        }),
      ),
    ).catch((error: unknown) =>
      logger.error('Cannot publish the inconsistency alert', { error: describeError(error) }),
    );
  }
  return { outcome: 'duplicate', state: previous.state, scheduleState, inconsistent };
}

/** UpdateSchedule replaces the whole definition: everything GetSchedule returned, new State. */
function scheduleUpdate(schedule: GetScheduleCommandOutput, state: BatchState) {
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

function stateParameterUpdate(config: BudgetGuardConfig, value: BatchState): PutParameterCommand {
  // No Type: overwriting keeps the existing String parameter's type.
  return new PutParameterCommand({ Name: config.batchScheduleStateParameter, Value: value, Overwrite: true });
}

function setAuditOutcome(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  sk: string,
  outcome: AuditOutcome,
  failures: readonly ActionFailure[],
) {
  return ddb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { pk: AUDIT_PK, sk },
      UpdateExpression: 'SET #outcome = :outcome, #details.#failures = :failures',
      ExpressionAttributeNames: { '#outcome': 'outcome', '#details': 'details', '#failures': 'failures' },
      ExpressionAttributeValues: { ':outcome': outcome, ':failures': failures },
    }),
  );
}

function engagedSummary(
  config: BudgetGuardConfig,
  trigger: EngageTrigger,
  state: KillSwitchState,
  what: {
    scheduleRef: string;
    executionArns: readonly string[];
    taskArns: readonly string[];
    failuresSoFar: readonly ActionFailure[];
  },
): string {
  const lines = [
    `Budget kill switch ENGAGED (${config.environment}): the weekly batch is being disabled.`,
    '',
  ];
  if (trigger.budget) {
    lines.push(
      `Budget ${trigger.budget.name}: ACTUAL cost ${usd(trigger.budget.actualAmount)} of budgeted ` +
        `${usd(trigger.budget.budgetedAmount)} reached the kill threshold ` +
        `${usd(trigger.budget.thresholdAmount)} (${config.killThresholdPercent}%).`,
    );
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
  return lines.join('\n');
}

function failureReport(
  config: BudgetGuardConfig,
  trigger: EngageTrigger,
  failures: readonly ActionFailure[],
  scheduleRef: string,
): string {
  return [
    `The kill switch (${config.environment}) is recorded as engaged, but ${failures.length} action(s) failed:`,
    ...failures.map((f) => `- ${f.call} ${f.target}: ${f.error}`),
    '',
    `Trigger: ${trigger.reason} (by ${trigger.actor}).`,
    'The invocation fails so that Lambda retries it (the engagement is marked incomplete, so the ' +
      'retry redoes every action); after the retries it lands in the dead-letter queue.',
    `Check by hand: schedule ${scheduleRef} and SSM parameter ${config.batchScheduleStateParameter} ` +
      `must be DISABLED, and no execution of ${config.batchStateMachineArn} nor task of family ` +
      `${config.batchTaskFamily} may be running.`,
  ].join('\n');
}

function listOf(arns: readonly string[]): string {
  if (arns.length === 0) return 'none running';
  const shown = arns.slice(0, 20).map((arn) => arn.slice(arn.lastIndexOf(':') + 1));
  return `${arns.length} (${shown.join(', ')}${arns.length > shown.length ? ', ...' : ''})`;
}

const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

function usd(amount: number): string {
  return usdFormat.format(amount);
}

function formatOptional(amount: number | undefined): string {
  return amount === undefined ? 'unknown' : usd(amount);
}

function amountOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
function subject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, ' ');
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3)}...`;
}

function accountOfArn(arn: string): string {
  const account = arn.split(':')[4];
  if (account === undefined || !/^\d{12}$/.test(account)) {
    throw new AutomationError(`Cannot tell the budget's account from ${arn}: set budgetAccountId`);
  }
  return account;
}

/** "ErrorName: message" of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
