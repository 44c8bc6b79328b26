/**
 * The types and named errors of the batch controls (kill switch, manual disable, re-enable).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { BudgetsClient } from '@aws-sdk/client-budgets';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AutomationError } from '../shared/errors';
import type { AuditSource, KillSwitchState } from '../shared/ops-table';
import type { RetryOptions } from '../shared/retry';
import { usd } from './messages';

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
