/**
 * The types and named errors of the kill switch: the one code path that disables the batch,
 * whoever asks (the Budgets notification, the spend guard, a human's `batch disable`).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AutomationError } from '../errors';
import type { AuditSource, KillSwitchState } from '../ops-table/items';

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

/** What the kill switch acts on and whom it tells. */
export interface KillSwitchConfig {
  /** e.g. 'prod'; shown in messages and audit items. */
  readonly environment: string;
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
  /** Where the engagement and its failures are reported (P1). */
  readonly alertTopicArn: string;
}

/** One call of a round of parallel actions: what it calls on which target (for its failure), and the call. */
export interface BatchAction {
  readonly call: string;
  readonly target: string;
  run(): Promise<unknown>;
}

/** Injectable time, ids, retries and logging. */
export interface RunOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Ids of attempts (DynamoDB client request tokens). @default randomUUID */
  readonly newId?: () => string;
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
   * notifications and the spend guard (which may ask again), false for a human's explicit request.
   */
  readonly deduplicate: boolean;
  /** The spend that reached the kill threshold. */
  readonly budget?: {
    readonly name: string;
    readonly actualAmount: number;
    readonly budgetedAmount: number;
    readonly thresholdAmount: number;
    /** The threshold as a percentage of the budgeted amount. */
    readonly thresholdPercent: number;
    /** The figures the amount was computed from, for the message, e.g. "LLM batch $1,120.00 + AWS $81.00". */
    readonly figures?: string;
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

/** The state and audit could not be recorded, so nothing was done (humans were alerted). */
export class KillSwitchNotEngagedError extends AutomationError {}
