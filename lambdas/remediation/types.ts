/**
 * The remediation's clients, options, results and named errors, and the facts a remediation
 * carries from its decision to its report (Incident, Ending).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlarmFact } from '../../core/alarms/facts';
import type { Recorded } from '../../core/automation';
import { AutomationError } from '../../core/errors';
import type { Colour, ShiftLock, Weights } from '../../core/traffic';
import type { RemediationAction, Severity } from './config';
import type { PlannedAction, Remediation, SkipReason } from './mapping';
import type { UnknownAlarmResult } from './unknown-alarm';

// ---------------------------------------------------------------------------------------------
// Types

/** The clients of the remediation. */
export interface RemediationClients {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  /** Creates the verification schedule of each action (core/automation). */
  readonly scheduler: SchedulerClient;
}

/** Injectable time, retries, logging and lease. */
export interface RunOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default a Powertools logger of service 'remediation' */
  readonly logger?: Logger;
  /**
   * How long this invocation may still run (the handler passes the Lambda's remaining time):
   * after that, its claim of the event counts as abandoned and a retry may act.
   * @default DEFAULT_LEASE_MS
   */
  readonly leaseMs?: number;
}

/** A service's figures before and after a remediation. */
export interface ServiceSnapshot {
  readonly desiredCount: number | undefined;
  readonly runningCount: number | undefined;
  readonly taskDefinition: string | undefined;
  /** The PRIMARY deployment's id (a forced deployment starts a new one). */
  readonly deploymentId: string | undefined;
}

export interface ResultBase {
  readonly eventId: string;
  readonly alarmName: string;
}

/** Not a change into ALARM, or an alarm of another environment: nothing done, nothing reported. */
export interface IgnoredResult extends ResultBase {
  readonly outcome: 'ignored';
  readonly reason: string;
}

/** An alarm without automatic remediation (the rollback's included): nothing done; the alarm paged. */
export interface NoActionResult extends ResultBase {
  readonly outcome: 'no-action';
  readonly alarmId: string;
  readonly severity: Severity;
  readonly reason: string;
}

/** The event was already handled (or is being handled): nothing done, nothing reported again. */
export interface DuplicateResult extends ResultBase {
  readonly outcome: 'duplicate';
  readonly alarmId: string;
  readonly action: RemediationAction;
  readonly reason: string;
  /** The marker's status when DynamoDB returned it. */
  readonly previousStatus: string | undefined;
}

/** A mapped alarm whose remediation was carried out, simulated (dry run) or skipped; all reported. */
export interface ReportedResult extends ResultBase {
  readonly outcome: 'remediated' | 'dry-run' | 'skipped';
  readonly alarmId: string;
  readonly severity: Severity;
  readonly action: RemediationAction;
  /** Set when outcome is 'skipped'. */
  readonly skip?: SkipReason;
  readonly colour: Colour | undefined;
  readonly service: string | undefined;
  /** What was done, would be done, or why nothing was. */
  readonly summary: string;
  readonly before: ServiceSnapshot | undefined;
  readonly after: Partial<ServiceSnapshot> | undefined;
  readonly dryRun: boolean;
  /** The sort key of the audit item. */
  readonly auditSk: string;
  readonly topicArn: string;
}

/** The result of {@link handleAlarmEvent}. */
export type RemediationResult =
  | IgnoredResult
  | NoActionResult
  | UnknownAlarmResult
  | DuplicateResult
  | ReportedResult;

export type { UnknownAlarmResult } from './unknown-alarm';

/** An AWS call that failed. */
export interface CallFailure {
  /** The API, e.g. 'UpdateService'. */
  readonly call: string;
  /** What it acted on (service, parameter, table, topic). */
  readonly target: string;
  /** "ErrorName: message". */
  readonly error: string;
}

/**
 * A remediation that could not be carried out (a read, the claim or UpdateService failed).
 * It was reported and audited as failed where possible; thrown so that Lambda's retries and
 * the dead-letter queue see it (the retry claims the event again).
 */
export class RemediationFailedError extends AutomationError {
  constructor(
    message: string,
    readonly alarmName: string,
    readonly action: RemediationAction,
    readonly failure: CallFailure,
    /** The report or audit calls that failed as well. */
    readonly reportFailures: readonly CallFailure[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The remediation's outcome (done, dry run or skipped) stands, but its audit item or report
 * failed. Thrown so that the failure is seen; the retry is a duplicate and changes nothing.
 */
export class RemediationReportError extends AutomationError {
  constructor(
    message: string,
    readonly result: ReportedResult,
    readonly failures: readonly CallFailure[],
  ) {
    super(message);
  }
}

/** The alarm a remediation answers. */
export interface Incident extends ResultBase {
  readonly alarmId: string;
  readonly severity: Severity;
  readonly fact: AlarmFact;
  readonly planned: PlannedAction;
  readonly stateReason: string;
  readonly stateTime: string;
}

/** What is known when the remediation ends, for the report and the audit item. */
export interface Ending {
  readonly outcome: ReportedResult['outcome'] | 'failed';
  /** What was decided; messages.ts words it (the result's and the audit item's summary). */
  readonly decided: Decided;
  readonly skip?: SkipReason;
  readonly colour?: Colour;
  readonly service?: string;
  readonly weights?: Weights;
  readonly before?: ServiceSnapshot;
  readonly after?: Partial<ServiceSnapshot>;
  readonly failure?: CallFailure;
  /** The hourly count after this remediation took its slot. */
  readonly slot?: number;
  /** The action failed after its slot was taken: give the slot back. */
  readonly refundSlot?: boolean;
  /** Report on this topic and with this subject (an escalation) @default the alarm's severity's */
  readonly topicArn?: string;
  readonly subject?: string;
}

export type Claim =
  | { readonly claimed: true }
  | { readonly claimed: false; readonly previousStatus?: string };

/** A remediation due on a service, with the service's figures before it. */
export interface Plan {
  readonly decision: Extract<Remediation, { act: true }>;
  readonly before: ServiceSnapshot;
  /** A scale-out's new desired count. */
  readonly target: number | undefined;
}

/** What the remediation decided, as data; messages.ts renders the words. */
export type Decided =
  /** The mapping refused (idle colour, no single live colour, disabled in config, ...). */
  | { readonly kind: 'not-acting'; readonly reason: string }
  /** A traffic shift holds the lock: a human decides. */
  | { readonly kind: 'shift-in-progress'; readonly lock: ShiftLock; readonly plan: Pick<Plan, 'decision'> }
  /** The service already runs its maximum. */
  | { readonly kind: 'at-max'; readonly plan: Plan; readonly maxCount: number }
  | { readonly kind: 'dry-run'; readonly plan: Plan }
  /** Held by the automation pause or the repeat guard: core/automation words it. */
  | { readonly kind: 'held'; readonly summary: string }
  | { readonly kind: 'rate-limited'; readonly plan: Plan; readonly maxPerHour: number }
  | { readonly kind: 'failed'; readonly failure: CallFailure }
  | { readonly kind: 'remediated'; readonly plan: Plan; readonly recorded: Recorded };
