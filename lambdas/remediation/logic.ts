/**
 * Alarm-driven remediation of the runbook's incidents: an alarm of the environment entering
 * ALARM restarts the live colour's tasks (database connection pool exhausted) or scales the
 * live colour out (CPU/memory near the limits), within per-action hourly limits, and tells the
 * alarm's severity topic what was done and why, or why nothing was.
 *
 * Sequential rounds of AWS calls, whatever the alarm:
 * 1. in parallel: claim the event (idempotency marker), read the stored weights (the live
 *    colour), the shift lock and describe both colours' services;
 * 2. take a slot of the hourly limit, held by the event (only when acting: the claim comes
 *    first, so a duplicate delivery never takes or refunds one);
 * 3. UpdateService;
 * 4. in parallel: the audit item, the SNS report, the marker's final status and, when
 *    UpdateService failed, the refund of the event's slot (conditional: the engine refunds
 *    only a slot the event holds, once).
 * A skipped or dry-run remediation costs rounds 1 and 4, a rate-limited one 1, 2 and 4; P0,
 * unmapped and ignored alarms none.
 *
 * Items of the ops table (string keys `pk`/`sk`, TTL attribute `expiresAt`, epoch seconds):
 * - `REMEDIATION_EVENT` / `<event id>`: `{ status: 'claimed' | 'done' | 'failed', alarm,
 *   action, claimedAt, leaseUntil (epoch ms), finishedAt?, outcome? }`, one day. A put claims
 *   the event when there is no marker, the last attempt failed, or its claimant's lease ran
 *   out (a crashed invocation): Lambda's retry of a failed invocation acts again, a duplicate
 *   delivery does not.
 * - `REMEDIATION_RATE` / `<action>#<YYYY-MM-DDTHH>` (UTC hour): `{ count, holders }` (the event
 *   ids holding a slot), two hours; see rate-limit.ts.
 * - audit entries (pk `AUDIT`, see ops-table.ts) of source 'remediation'.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  type ECSClient,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlarmFact } from '../../core/alarms/facts';
import { checkBeforeActing, type Gate, recordAction, recordedLine } from '../../core/automation';
import { AutomationError } from '../../core/errors';
import {
  type AuditOutcome,
  auditKey,
  fromAttributeValues,
  recordAudit,
  shortId,
} from '../../core/ops-table/items';
import { REMEDIATION_EVENT_PK, REMEDIATION_RATE_PK } from '../../core/ops-table/keys';
import { loggedRetry, type RetryOptions, withRetry } from '../../core/retry';
import {
  type Colour,
  describeError,
  formatWeights,
  isConditionFailure,
  readShiftLock,
  readStoredWeights,
  type ShiftLock,
  snsSubject,
  type Weights,
} from '../../core/traffic';
import { parseAlarmEvent } from '../shared/alarm-event';
import { remediationChecks, remediationIntent } from './automation';
import type { RemediationAction, RemediationConfig, Severity } from './config';
import {
  liveColourOf,
  type PlannedAction,
  plannedAction,
  type Remediation,
  remediationFor,
  type SkipReason,
  scaleOutTarget,
} from './mapping';
import { refundSlot, type Slot, type SlotRef, takeSlot } from './rate-limit';
import { reportUnknownAlarm, type UnknownAlarmResult } from './unknown-alarm';

export { parseAlarmEvent } from '../shared/alarm-event';
export { remediationFor, scaleOutTarget } from './mapping';

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
  /** Retry policy of every AWS call (tests inject a no-op sleep). */
  readonly retry?: RetryOptions;
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

interface ResultBase {
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

// ---------------------------------------------------------------------------------------------
// Ops table items

export { REMEDIATION_EVENT_PK, REMEDIATION_RATE_PK };

/** How long a marker is kept: EventBridge redelivers and Lambda retries within hours. */
export const EVENT_MARKER_TTL_SECONDS = 86_400;
/** How long an hourly counter is kept. */
export const RATE_COUNTER_TTL_SECONDS = 7_200;
/** The lease of a claim when the invocation's remaining time is unknown. */
export const DEFAULT_LEASE_MS = 5 * 60_000;

/** The key of the idempotency marker of event `eventId`. */
export function remediationEventKey(eventId: string) {
  return { pk: REMEDIATION_EVENT_PK, sk: eventId };
}

/** The key of the counter of `action` in the UTC hour of `now`. */
export function remediationRateKey(action: RemediationAction, now: Date) {
  return { pk: REMEDIATION_RATE_PK, sk: `${action}#${now.toISOString().slice(0, 13)}` };
}

// ---------------------------------------------------------------------------------------------
// Handling an alarm event

let defaultLogger: Logger | undefined;

function fallbackLogger(): Logger {
  if (defaultLogger === undefined) defaultLogger = new Logger({ serviceName: 'remediation' });
  return defaultLogger;
}

interface Run {
  readonly now: Date;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly retry: (call: string) => RetryOptions;
}

function resolve(options: RunOptions): Run {
  const logger = options.logger ?? fallbackLogger();
  return {
    now: (options.now ?? (() => new Date()))(),
    logger,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    retry: (call) => loggedRetry(options.retry, logger, call),
  };
}

/**
 * Handles one EventBridge "CloudWatch Alarm State Change" event: acts only on a change INTO
 * ALARM (previous state not ALARM) of an alarm of the catalogue (ALARM_FACTS, by exact name), as
 * {@link remediationFor} maps its response. An alarm with the environment's prefix that the
 * catalogue lacks gets no action and a notice (see unknown-alarm.ts). Throws InvalidInputError on anything but an alarm state
 * change (nothing done), RemediationFailedError when an AWS call of the remediation fails after
 * retries (reported and audited first), RemediationReportError when only the report or audit
 * failed.
 */
export async function handleAlarmEvent(
  clients: RemediationClients,
  config: RemediationConfig,
  event: unknown,
  options: RunOptions = {},
): Promise<RemediationResult> {
  const alarm = parseAlarmEvent(event);
  const run = resolve(options);
  const { detail } = alarm;
  const base: ResultBase = { eventId: alarm.id, alarmName: detail.alarmName };

  const ignored = (reason: string): IgnoredResult => {
    run.logger.info('Alarm event ignored: NO action', { ...base, reason });
    return { ...base, outcome: 'ignored', reason };
  };
  if (detail.state.value !== 'ALARM') {
    return ignored(`state ${detail.state.value}: only a change into ALARM is acted on`);
  }
  if (detail.previousState.value === 'ALARM') {
    return ignored('ALARM -> ALARM: not a change into ALARM');
  }
  const fact = config.alarmFacts.byName(detail.alarmName);
  if (fact === undefined) {
    const { namePrefix } = config.alarmFacts;
    if (!detail.alarmName.startsWith(namePrefix)) {
      return ignored(`not an alarm of ${config.environment}: its name does not start with ${namePrefix}`);
    }
    return reportUnknownAlarm(clients, config, alarm, run);
  }
  const { id: alarmId, severity } = fact;
  const planned = plannedAction(fact);
  if (planned === undefined) {
    const decision = remediationFor(fact, undefined, config);
    const reason = decision.act ? `no automatic remediation for ${alarmId}` : decision.reason;
    run.logger.info('No automatic remediation', { ...base, alarmId, severity, reason });
    return { ...base, outcome: 'no-action', alarmId, severity, reason };
  }
  return new Remediator(clients, config, run, {
    ...base,
    alarmId,
    severity,
    fact,
    planned,
    stateReason: detail.state.reason ?? 'no reason given',
    stateTime: detail.state.timestamp ?? alarm.time,
  }).remediate();
}

/** The alarm a remediation answers. */
interface Incident extends ResultBase {
  readonly alarmId: string;
  readonly severity: Severity;
  readonly fact: AlarmFact;
  readonly planned: PlannedAction;
  readonly stateReason: string;
  readonly stateTime: string;
}

/** What is known when the remediation ends, for the report and the audit item. */
interface Ending {
  readonly outcome: ReportedResult['outcome'] | 'failed';
  readonly summary: string;
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

type Claim = { readonly claimed: true } | { readonly claimed: false; readonly previousStatus?: string };

/** One remediation: the rounds, the state held (claim, slot) and the ending. */
class Remediator {
  private readonly action: RemediationAction;
  private readonly dryRun: boolean;
  private readonly enabled: boolean;
  private readonly maxPerHour: number;
  private readonly topicArn: string;
  private claimed = false;

  constructor(
    private readonly clients: RemediationClients,
    private readonly config: RemediationConfig,
    private readonly run: Run,
    private readonly incident: Incident,
  ) {
    this.action = incident.planned.action;
    const settings = config.remediation.actions[this.action];
    this.dryRun = config.remediation.dryRun;
    this.enabled = settings.enabled;
    this.maxPerHour = settings.maxPerHour;
    this.topicArn = config.topicArns[incident.severity];
  }

  async remediate(): Promise<ReportedResult | DuplicateResult> {
    const { incident, config } = this;
    // Round 1. A disabled action reads nothing; a dry run writes nothing (no claim, no slot).
    // The slot is taken only once the event is ours and an action is due: a duplicate
    // delivery or a skip never holds one.
    const mutate = !this.dryRun;
    const read = this.enabled;
    const [claim, weights, services, shiftLock] = await Promise.allSettled([
      mutate ? this.claim() : Promise.resolve<Claim>({ claimed: true }),
      read ? this.readWeights() : Promise.resolve(undefined),
      read ? this.describeServices() : Promise.resolve(undefined),
      read ? this.readShiftLock() : Promise.resolve(undefined),
    ]);
    this.claimed = mutate && claim.status === 'fulfilled' && claim.value.claimed;

    if (claim.status === 'fulfilled' && !claim.value.claimed) return this.duplicate(claim.value);
    if (claim.status === 'rejected') {
      return this.fail({}, this.callFailure('PutItem', config.opsTableName, claim.reason), claim.reason);
    }
    if (weights.status === 'rejected') {
      const failure = this.callFailure('GetParameter', config.weightsParameter, weights.reason);
      return this.fail({}, failure, weights.reason);
    }
    if (services.status === 'rejected') {
      const failure = this.callFailure('DescribeServices', config.ecsCluster, services.reason);
      return this.fail({}, failure, services.reason);
    }
    if (shiftLock.status === 'rejected') {
      // Not knowing whether a shift runs is a reason not to act, like any unreadable state.
      const failure = this.callFailure('GetItem', config.opsTableName, shiftLock.reason);
      return this.fail({}, failure, shiftLock.reason);
    }

    const stored = weights.value;
    const decision = remediationFor(
      incident.fact,
      stored === undefined ? undefined : liveColourOf(stored),
      config,
    );
    if (!decision.act) {
      const colour = decision.action === undefined ? undefined : decision.colour;
      const skip = decision.action === undefined ? undefined : decision.skip;
      return this.end({
        outcome: 'skipped',
        skip,
        colour,
        service: colour === undefined ? undefined : config.services[colour],
        weights: stored,
        summary: `No action: ${decision.reason}.`,
      });
    }

    const context = { colour: decision.colour, service: decision.service, weights: stored };
    if (shiftLock.value !== undefined) return this.endForShift(context, decision, shiftLock.value);
    const found = findService(services.value, decision.service);
    if (found.error !== undefined) {
      const failure: CallFailure = { call: 'DescribeServices', target: decision.service, error: found.error };
      return this.fail(context, failure, undefined);
    }
    const before = snapshot(found.service);
    let target: number | undefined;
    if (decision.action === 'scale-out') {
      target = scaleOutTarget(before.desiredCount ?? 0, decision.step, decision.maxCount);
      if (target === undefined) {
        return this.end({
          ...context,
          before,
          outcome: 'skipped',
          skip: 'at-max',
          summary:
            `No action: the ${decision.colour} service ${decision.service} already runs its maximum of ` +
            `${decision.maxCount} tasks (desired ${before.desiredCount ?? 'unknown'}); the alarm paged ${incident.severity}.`,
        });
      }
    }
    if (this.dryRun) {
      return this.end({
        ...context,
        before,
        after: target === undefined ? undefined : { desiredCount: target },
        outcome: 'dry-run',
        summary: `DRY RUN, nothing changed: would ${describeAction(decision, before, target)}.`,
      });
    }
    // The pause and the repeat guard (core/automation), before anything changes.
    let gate: Gate;
    try {
      const intent = remediationIntent(this.action, incident, describeAction(decision, before, target));
      gate = await checkBeforeActing(this.clients.ddb, config.automation, intent, {
        now: this.run.now,
        retry: this.run.retry('Query'),
      });
    } catch (error) {
      return this.fail(
        { ...context, before },
        this.callFailure('GetItem', config.opsTableName, error),
        error,
      );
    }
    if (!gate.act) {
      const { kind: skip, summary, topicArn, subject } = gate;
      return this.end({ ...context, before, outcome: 'skipped', skip, summary, topicArn, subject });
    }
    // Round 2: the slot of the hourly limit, held by this event.
    let slot: Slot;
    try {
      slot = await takeSlot(this.clients.ddb, this.slotRef(), this.maxPerHour, this.run.retry('UpdateItem'));
    } catch (error) {
      const failure = this.callFailure('UpdateItem', config.opsTableName, error);
      return this.fail({ ...context, before }, failure, error);
    }
    if (!slot.taken) {
      return this.end({
        ...context,
        before,
        outcome: 'skipped',
        skip: 'rate-limited',
        summary:
          `No action: ${this.action} rate-limited (${this.maxPerHour}/hour): it already ran ` +
          `${this.maxPerHour} times this hour (UTC); the ${decision.colour} service ${decision.service} was left as is.`,
      });
    }

    // Round 3.
    let updated: Service | undefined;
    try {
      updated = await this.updateService(decision, target);
    } catch (error) {
      const failure = this.callFailure('UpdateService', decision.service, error);
      // Nothing was changed, so the slot goes back (the engine refunds only a slot we hold).
      return this.fail({ ...context, before, refundSlot: true }, failure, error);
    }
    const after: Partial<ServiceSnapshot> =
      updated === undefined ? { desiredCount: target } : snapshot(updated);
    const did = `${capitalize(describeAction(decision, before, target, true))}.`;
    // Recorded for the repeat guard; its effect read back later (core/automation). Never rejects.
    const checks = remediationChecks(config, incident.alarmName, decision, before.deploymentId, target);
    const recorded = await recordAction(
      this.clients,
      config.automation,
      { ...remediationIntent(this.action, incident, did), did, checks },
      { now: this.run.now, retry: this.run.retry('CreateSchedule') },
    );
    return this.end({
      ...context,
      before,
      after,
      slot: slot.count,
      outcome: 'remediated',
      summary: `${did} ${recordedLine(recorded)}`,
    });
  }

  // --- Round 1 ---------------------------------------------------------------------------------

  private async claim(): Promise<Claim> {
    const { now, leaseMs } = this.run;
    const { incident } = this;
    try {
      await withRetry(
        () =>
          this.clients.ddb.send(
            new PutCommand({
              TableName: this.config.opsTableName,
              Item: {
                ...remediationEventKey(incident.eventId),
                status: 'claimed',
                alarm: incident.alarmName,
                action: this.action,
                claimedAt: now.toISOString(),
                leaseUntil: now.getTime() + leaseMs,
                expiresAt: epochSeconds(now) + EVENT_MARKER_TTL_SECONDS,
              },
              ConditionExpression:
                'attribute_not_exists(pk) OR #status = :failed OR (#status = :claimed AND #leaseUntil < :now)',
              ExpressionAttributeNames: { '#status': 'status', '#leaseUntil': 'leaseUntil' },
              ExpressionAttributeValues: {
                ':failed': 'failed',
                ':claimed': 'claimed',
                ':now': now.getTime(),
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        this.run.retry('PutItem'),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = fromAttributeValues((error as { Item?: Record<string, unknown> }).Item);
      const status = old?.status;
      return { claimed: false, previousStatus: typeof status === 'string' ? status : undefined };
    }
  }

  private slotRef(): SlotRef {
    const { config, incident, run } = this;
    return {
      tableName: config.opsTableName,
      key: remediationRateKey(this.action, run.now),
      holder: incident.eventId,
      expiresAt: epochSeconds(run.now) + RATE_COUNTER_TTL_SECONDS,
    };
  }

  private readWeights(): Promise<Weights> {
    return readStoredWeights(this.clients.ssm, this.config.weightsParameter, this.run.retry('GetParameter'));
  }

  private readShiftLock(): Promise<ShiftLock | undefined> {
    const { clients, config, run } = this;
    return readShiftLock(clients.ddb, config.opsTableName, run.now, run.retry('GetItem'));
  }

  private describeServices(): Promise<DescribeServicesCommandOutput> {
    const { services, ecsCluster } = this.config;
    return withRetry(
      () =>
        this.clients.ecs.send(
          new DescribeServicesCommand({ cluster: ecsCluster, services: [services.blue, services.green] }),
        ),
      this.run.retry('DescribeServices'),
    );
  }

  // --- Round 2 ---------------------------------------------------------------------------------

  private async updateService(
    decision: Extract<Remediation, { act: true }>,
    target: number | undefined,
  ): Promise<Service | undefined> {
    const { ecsCluster } = this.config;
    const result = await withRetry(
      () =>
        this.clients.ecs.send(
          new UpdateServiceCommand(
            decision.action === 'force-new-deployment'
              ? { cluster: ecsCluster, service: decision.service, forceNewDeployment: true }
              : { cluster: ecsCluster, service: decision.service, desiredCount: target },
          ),
        ),
      this.run.retry('UpdateService'),
    );
    return result.service;
  }

  /**
   * A traffic shift is running: a restart or a scale-out now can trip the alarm gates of its
   * bake and roll it back, and the shift moves the live colour under us. A human decides.
   */
  private endForShift(
    context: Pick<Ending, 'colour' | 'service' | 'weights'>,
    decision: Extract<Remediation, { act: true }>,
    lock: ShiftLock,
  ): Promise<ReportedResult> {
    return this.end({
      ...context,
      outcome: 'skipped',
      skip: 'shift-in-progress',
      summary:
        `No action: a traffic shift to ${lock.to} is in progress (${lock.executionArn}, since ` +
        `${lock.acquiredAt}); ${decision.action === 'scale-out' ? 'scaling out' : 'restarting'} the ` +
        `${decision.colour} service ${decision.service} now could trip its alarm gates and roll it back. ` +
        `The alarm paged ${this.incident.severity}: decide by hand, or wait for the shift to end.`,
    });
  }

  // --- Round 3 ---------------------------------------------------------------------------------

  private async duplicate(claim: { previousStatus?: string }): Promise<DuplicateResult> {
    const { incident } = this;
    const reason =
      `event ${incident.eventId} was already handled (marker status ${claim.previousStatus ?? 'unknown'}): ` +
      'a duplicate delivery, NO action';
    this.run.logger.info('Duplicate alarm event: NO action', { eventId: incident.eventId, reason });
    return {
      eventId: incident.eventId,
      alarmName: incident.alarmName,
      outcome: 'duplicate',
      alarmId: incident.alarmId,
      action: this.action,
      reason,
      previousStatus: claim.previousStatus,
    };
  }

  /** Reports and audits the failure, releases the claim and the slot, then throws. */
  private async fail(
    context: Pick<Ending, 'colour' | 'service' | 'weights' | 'before' | 'refundSlot'>,
    failure: CallFailure,
    cause: unknown,
  ): Promise<never> {
    const { incident } = this;
    this.run.logger.error('Remediation failed', { ...incident, failure, error: cause });
    const { failures } = await this.finish({
      ...context,
      outcome: 'failed',
      failure,
      summary:
        `FAILED: ${this.action} could not be carried out: ${failure.call} ${failure.target}: ` +
        `${failure.error}. The invocation fails and is retried.`,
    });
    throw new RemediationFailedError(
      `Remediation ${this.action} for ${incident.alarmName} failed: ${failure.call} ${failure.target}: ` +
        `${failure.error}${failures.length > 0 ? `; reporting also failed: ${failures.map(formatFailure).join('; ')}` : ''}`,
      incident.alarmName,
      this.action,
      failure,
      failures,
      { cause },
    );
  }

  /** Reports and audits a remediation that did not fail; throws RemediationReportError when that fails. */
  private async end(
    ending: Ending & { readonly outcome: ReportedResult['outcome'] },
  ): Promise<ReportedResult> {
    const { incident } = this;
    const { auditSk, failures } = await this.finish(ending);
    const result: ReportedResult = {
      eventId: incident.eventId,
      alarmName: incident.alarmName,
      outcome: ending.outcome,
      alarmId: incident.alarmId,
      severity: incident.severity,
      action: this.action,
      skip: ending.skip,
      colour: ending.colour,
      service: ending.service,
      summary: ending.summary,
      before: ending.before,
      after: ending.after,
      dryRun: this.dryRun,
      auditSk,
      topicArn: ending.topicArn ?? this.topicArn,
    };
    // Powertools reserves the key `service` (its own service name): the ECS service goes as ecsService.
    const { service: ecsService, ...logged } = result;
    this.run.logger.info('Remediation reported', { ...logged, ecsService });
    if (failures.length > 0) {
      throw new RemediationReportError(
        `Remediation ${this.action} for ${incident.alarmName} ended (${ending.outcome}) but its ` +
          `report failed: ${failures.map(formatFailure).join('; ')}`,
        result,
        failures,
      );
    }
    return result;
  }

  /**
   * Round 3: the audit item, the report, the marker's final status and the refund of an unused
   * slot, in parallel. Returns the audit sort key and the report/audit calls that failed (a
   * failed marker or refund update is only logged).
   */
  private async finish(ending: Ending): Promise<{ auditSk: string; failures: CallFailure[] }> {
    const { incident, config, run } = this;
    const auditId = shortId();
    const auditSk = auditKey(run.now, auditId).sk;
    const outcome: AuditOutcome =
      ending.outcome === 'remediated' ? 'ok' : ending.outcome === 'failed' ? 'failed' : 'skipped';
    // The refund (last) never rejects.
    const [audit, report, marker] = await Promise.allSettled([
      recordAudit(
        this.clients.ddb,
        config.opsTableName,
        {
          source: 'remediation',
          action: this.action,
          actor: 'remediation-lambda',
          reason: `${incident.alarmName} entered ALARM: ${incident.stateReason}`,
          outcome,
          environment: config.environment,
          details: {
            alarm: incident.alarmName,
            eventId: incident.eventId,
            severity: incident.severity,
            colour: ending.colour,
            service: ending.service,
            before: ending.before,
            after: ending.after,
            dryRun: this.dryRun,
            skip: ending.skip,
            error: ending.failure === undefined ? undefined : formatFailure(ending.failure),
            summary: ending.summary,
          },
        },
        { now: run.now, id: auditId, retry: run.retry('PutItem') },
      ),
      withRetry(
        () =>
          this.clients.sns.send(
            new PublishCommand({
              TopicArn: ending.topicArn ?? this.topicArn,
              Subject: snsSubject(ending.subject ?? this.subject(ending)),
              Message: this.message(ending, auditSk),
            }),
          ),
        run.retry('Publish'),
      ),
      this.claimed
        ? this.markEvent(ending.outcome === 'failed' ? 'failed' : 'done', ending.outcome)
        : undefined,
      ending.refundSlot ? this.refundSlot() : undefined,
    ]);
    const failures: CallFailure[] = [];
    if (audit.status === 'rejected') {
      failures.push(this.callFailure('PutItem', `${config.opsTableName} (audit)`, audit.reason));
    }
    if (report.status === 'rejected')
      failures.push(this.callFailure('Publish', ending.topicArn ?? this.topicArn, report.reason));
    if (marker.status === 'rejected') {
      run.logger.warn('Could not record the event marker status', {
        eventId: incident.eventId,
        error: describeError(marker.reason),
      });
    }
    if (failures.length > 0) run.logger.error('Remediation report failed', { failures });
    return { auditSk, failures };
  }

  private markEvent(status: 'done' | 'failed', outcome: Ending['outcome']) {
    const { now } = this.run;
    return withRetry(
      () =>
        this.clients.ddb.send(
          new UpdateCommand({
            TableName: this.config.opsTableName,
            Key: remediationEventKey(this.incident.eventId),
            UpdateExpression: 'SET #status = :status, #outcome = :outcome, #finishedAt = :finishedAt',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#outcome': 'outcome',
              '#finishedAt': 'finishedAt',
            },
            ExpressionAttributeValues: {
              ':status': status,
              ':outcome': outcome,
              ':finishedAt': now.toISOString(),
            },
          }),
        ),
      this.run.retry('UpdateItem'),
    );
  }

  /** Gives back this event's slot after a failed action; never rejects. */
  private async refundSlot(): Promise<void> {
    try {
      const refunded = await refundSlot(this.clients.ddb, this.slotRef(), this.run.retry('UpdateItem'));
      if (!refunded) {
        this.run.logger.info('No rate-limit slot of this event to give back', { action: this.action });
      }
    } catch (error) {
      this.run.logger.warn('Could not give back the rate-limit slot', {
        action: this.action,
        error: describeError(error),
      });
    }
  }

  // --- Report --------------------------------------------------------------------------------

  private subject(ending: Ending): string {
    const { incident, config } = this;
    const head = `[${config.environment}] ${incident.severity} remediation`;
    const colour = ending.colour ?? 'live colour';
    const what =
      this.action === 'force-new-deployment' ? `new deployment of ${colour}` : `scale-out of ${colour}`;
    switch (ending.outcome) {
      case 'remediated':
        return `${head}: ${what} (${incident.alarmId})`;
      case 'dry-run':
        return `${head} DRY RUN: would do ${what} (${incident.alarmId})`;
      case 'skipped':
        return `${head}: no action, ${ending.skip ?? 'skipped'} (${incident.alarmId})`;
      case 'failed':
        return `${head} FAILED: ${what} (${incident.alarmId})`;
    }
  }

  private message(ending: Ending, auditSk: string): string {
    const { incident, config } = this;
    const lines = [
      ending.summary,
      '',
      `Alarm: ${incident.alarmName} (${incident.severity}) entered ALARM at ${incident.stateTime}.`,
      `Reason: ${incident.stateReason}`,
    ];
    if (ending.weights !== undefined) {
      const live = liveColourOf(ending.weights);
      lines.push(
        `Live colour: ${live ?? 'none (equal weights)'} (stored weights ${formatWeights(ending.weights)}).`,
      );
    }
    if (ending.service !== undefined) {
      lines.push(`Service: ${ending.service} (cluster ${config.ecsCluster}).`);
    }
    if (ending.before !== undefined) lines.push(`Before: ${formatSnapshot(ending.before)}.`);
    if (ending.after !== undefined) lines.push(`After: ${formatSnapshot(ending.after)}.`);
    if (ending.slot !== undefined) {
      lines.push(`Rate limit: ${ending.slot} of ${this.maxPerHour} ${this.action} this hour.`);
    }
    lines.push('', RUNBOOK[this.action]);
    if (ending.outcome === 'failed') {
      lines.push(
        'Nothing was changed by this attempt unless the failed call landed; do the runbook step by hand if ' +
          'the alarm persists.',
      );
    } else if (ending.outcome !== 'remediated') {
      lines.push('Nothing was changed: follow the runbook by hand if the alarm persists.');
    }
    lines.push(
      '',
      `Event ${incident.eventId}; audit ${auditSk} (npm run ops -- remediation log).${this.dryRun ? ' Dry run is on.' : ''}`,
    );
    return lines.join('\n');
  }

  private callFailure(call: string, target: string, error: unknown): CallFailure {
    return { call, target, error: describeError(error) };
  }
}

/** The runbook step each action carries out. */
const RUNBOOK: Readonly<Record<RemediationAction, string>> = {
  'force-new-deployment':
    'Runbook: Common Issues > Database Connection Pool Exhausted > Immediate Fix: restart the tasks to ' +
    'reset their connections. If the pool fills up again, look for connection leaks and long queries.',
  'scale-out':
    'Runbook: Incident Response > P0: Complete Service Outage > Resource exhaustion (CPU/memory): scale ' +
    'up the task count. Auto scaling may scale back in once the load drops.',
};

/** "force a new deployment of the blue service X (N tasks)" / "scale ... out from 2 to 3 tasks". */
function describeAction(
  decision: Extract<Remediation, { act: true }>,
  before: ServiceSnapshot,
  target: number | undefined,
  past = false,
): string {
  if (decision.action === 'force-new-deployment') {
    return (
      `${past ? 'forced' : 'force'} a new deployment of the ${decision.colour} (live) service ${decision.service}: ` +
      `its ${before.runningCount ?? 'unknown number of'} running tasks ${past ? 'are' : 'would be'} replaced, ` +
      'which resets their database connections'
    );
  }
  return (
    `${past ? 'scaled' : 'scale'} the ${decision.colour} (live) service ${decision.service} out from ` +
    `${before.desiredCount ?? 'unknown'} to ${target ?? 'unknown'} tasks (max ${decision.maxCount})`
  );
}

function findService(
  output: DescribeServicesCommandOutput | undefined,
  name: string,
): { service: Service; error?: undefined } | { service?: undefined; error: string } {
  const service = output?.services?.find((s) => s.serviceName === name || s.serviceArn?.endsWith(`/${name}`));
  if (service === undefined) {
    const failure = output?.failures?.find((f) => f.arn?.endsWith(`/${name}`));
    return { error: `service not found (${failure?.reason ?? 'not in the response'})` };
  }
  if (service.status !== 'ACTIVE') return { error: `service is ${service.status ?? 'in an unknown state'}` };
  return { service };
}

function snapshot(service: Service): ServiceSnapshot {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  return {
    desiredCount: service.desiredCount,
    runningCount: service.runningCount,
    taskDefinition: service.taskDefinition,
    deploymentId: primary?.id,
  };
}

function formatSnapshot(s: Partial<ServiceSnapshot>): string {
  const parts = [
    s.desiredCount === undefined ? undefined : `desired ${s.desiredCount}`,
    s.runningCount === undefined ? undefined : `running ${s.runningCount}`,
    s.deploymentId === undefined ? undefined : `deployment ${s.deploymentId}`,
    s.taskDefinition === undefined ? undefined : `task definition ${s.taskDefinition.split('/').pop()}`,
  ];
  return parts.filter((p) => p !== undefined).join(', ') || 'unknown';
}

function formatFailure(f: CallFailure): string {
  return `${f.call} ${f.target}: ${f.error}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
