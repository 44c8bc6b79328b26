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
 * The ops table's items: effects.ts. The words of the reports: messages.ts.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { DescribeServicesCommandOutput, Service } from '@aws-sdk/client-ecs';
import { checkBeforeActing, type Gate, recordAction } from '../../core/automation';
import { type AuditOutcome, auditKey, recordAudit, shortId } from '../../core/ops-table/items';
import { runInParallel, settle } from '../../core/parallel';
import {
  describeError,
  readShiftLock,
  readStoredWeights,
  type ShiftLock,
  type Weights,
} from '../../core/traffic';
import { parseAlarmEvent } from '../shared/alarm-event';
import { remediationChecks, remediationIntent } from './automation';
import type { RemediationAction, RemediationConfig } from './config';
import {
  auditEntry,
  claimEvent,
  DEFAULT_LEASE_MS,
  describeServices,
  epochSeconds,
  findService,
  markEvent,
  publish,
  RATE_COUNTER_TTL_SECONDS,
  remediationRateKey,
  snapshot,
  updateService,
} from './effects';
import { liveColourOf, plannedAction, remediationFor, scaleOutTarget } from './mapping';
import {
  describeAction,
  didSentence,
  duplicateReason,
  formatFailure,
  reportMessage,
  reportSubject,
  summaryOf,
} from './messages';
import { refundSlot, type Slot, type SlotRef, takeSlot } from './rate-limit';
import type {
  CallFailure,
  Claim,
  DuplicateResult,
  Ending,
  IgnoredResult,
  Incident,
  Plan,
  RemediationClients,
  RemediationResult,
  ReportedResult,
  ResultBase,
  RunOptions,
  ServiceSnapshot,
} from './types';
import { RemediationFailedError, RemediationReportError } from './types';
import { reportUnknownAlarm } from './unknown-alarm';

export { parseAlarmEvent } from '../shared/alarm-event';
export {
  DEFAULT_LEASE_MS,
  EVENT_MARKER_TTL_SECONDS,
  RATE_COUNTER_TTL_SECONDS,
  REMEDIATION_EVENT_PK,
  REMEDIATION_RATE_PK,
  remediationEventKey,
  remediationRateKey,
} from './effects';
export { remediationFor, scaleOutTarget } from './mapping';
export type {
  CallFailure,
  DuplicateResult,
  IgnoredResult,
  NoActionResult,
  RemediationClients,
  RemediationResult,
  ReportedResult,
  RunOptions,
  ServiceSnapshot,
  UnknownAlarmResult,
} from './types';
export { RemediationFailedError, RemediationReportError } from './types';

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
}

function resolve(options: RunOptions): Run {
  const logger = options.logger ?? fallbackLogger();
  return {
    now: (options.now ?? (() => new Date()))(),
    logger,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
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
    const { config, clients, run } = this;
    // Round 1. A disabled action reads nothing; a dry run writes nothing (no claim, no slot).
    // The slot is taken only once the event is ours and an action is due: a duplicate
    // delivery or a skip never holds one.
    const mutate = !this.dryRun;
    const read = this.enabled;
    const [claim, weights, services, shiftLock] = await Promise.all([
      settle(() => (mutate ? this.claim() : Promise.resolve<Claim>({ claimed: true }))),
      settle<Weights | undefined>(() =>
        read ? readStoredWeights(clients.ssm, config.weightsParameter) : Promise.resolve(undefined),
      ),
      settle<DescribeServicesCommandOutput | undefined>(() =>
        read ? describeServices(clients.ecs, config) : Promise.resolve(undefined),
      ),
      settle<ShiftLock | undefined>(() =>
        read ? readShiftLock(clients.ddb, config.opsTableName, run.now) : Promise.resolve(undefined),
      ),
    ]);
    this.claimed = mutate && claim.ok && claim.value.claimed;

    if (claim.ok && !claim.value.claimed) return this.duplicate(claim.value);
    if (!claim.ok)
      return this.fail({}, this.callFailure('PutItem', config.opsTableName, claim.error), claim.error);
    if (!weights.ok) {
      const failure = this.callFailure('GetParameter', config.weightsParameter, weights.error);
      return this.fail({}, failure, weights.error);
    }
    if (!services.ok) {
      const failure = this.callFailure('DescribeServices', config.ecsCluster, services.error);
      return this.fail({}, failure, services.error);
    }
    if (!shiftLock.ok) {
      // Not knowing whether a shift runs is a reason not to act, like any unreadable state.
      const failure = this.callFailure('GetItem', config.opsTableName, shiftLock.error);
      return this.fail({}, failure, shiftLock.error);
    }
    return this.act(weights.value, services.value, shiftLock.value);
  }

  /** Rounds 2 and 3, from what round 1 read. */
  private async act(
    stored: Weights | undefined,
    services: DescribeServicesCommandOutput | undefined,
    shiftLock: ShiftLock | undefined,
  ): Promise<ReportedResult> {
    const { incident, config } = this;
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
        decided: { kind: 'not-acting', reason: decision.reason },
      });
    }

    const context = { colour: decision.colour, service: decision.service, weights: stored };
    if (shiftLock !== undefined) {
      // A restart or a scale-out now can trip the alarm gates of the shift's bake and roll it
      // back, and the shift moves the live colour under us. A human decides.
      return this.end({
        ...context,
        outcome: 'skipped',
        skip: 'shift-in-progress',
        decided: { kind: 'shift-in-progress', lock: shiftLock, plan: { decision } },
      });
    }
    const found = findService(services, decision.service);
    if (found.error !== undefined) {
      const failure: CallFailure = { call: 'DescribeServices', target: decision.service, error: found.error };
      return this.fail(context, failure, undefined);
    }
    const before = snapshot(found.service);
    const target =
      decision.action === 'scale-out'
        ? scaleOutTarget(before.desiredCount ?? 0, decision.step, decision.maxCount)
        : undefined;
    const plan: Plan = { decision, before, target };
    if (decision.action === 'scale-out' && target === undefined) {
      return this.end({
        ...context,
        before,
        outcome: 'skipped',
        skip: 'at-max',
        decided: { kind: 'at-max', plan, maxCount: decision.maxCount },
      });
    }
    if (this.dryRun) {
      return this.end({
        ...context,
        before,
        after: target === undefined ? undefined : { desiredCount: target },
        outcome: 'dry-run',
        decided: { kind: 'dry-run', plan },
      });
    }
    // The pause and the repeat guard (core/automation), before anything changes.
    let gate: Gate;
    try {
      const intent = remediationIntent(this.action, incident, describeAction(plan));
      gate = await checkBeforeActing(this.clients.ddb, config.automation, intent, {
        now: this.run.now,
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
      const decided = { kind: 'held', summary } as const;
      return this.end({ ...context, before, outcome: 'skipped', skip, decided, topicArn, subject });
    }
    // Round 2: the slot of the hourly limit, held by this event.
    let slot: Slot;
    try {
      slot = await takeSlot(this.clients.ddb, this.slotRef(), this.maxPerHour);
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
        decided: { kind: 'rate-limited', plan, maxPerHour: this.maxPerHour },
      });
    }

    // Round 3.
    let updated: Service | undefined;
    try {
      updated = await updateService(this.clients.ecs, config.ecsCluster, decision, target);
    } catch (error) {
      const failure = this.callFailure('UpdateService', decision.service, error);
      // Nothing was changed, so the slot goes back (the engine refunds only a slot we hold).
      return this.fail({ ...context, before, refundSlot: true }, failure, error);
    }
    const after: Partial<ServiceSnapshot> =
      updated === undefined ? { desiredCount: target } : snapshot(updated);
    const did = didSentence(plan);
    // Recorded for the repeat guard; its effect read back later (core/automation). Never rejects.
    const checks = remediationChecks(config, incident.alarmName, decision, before.deploymentId, target);
    const recorded = await recordAction(
      this.clients,
      config.automation,
      { ...remediationIntent(this.action, incident, did), did, checks },
      { now: this.run.now },
    );
    return this.end({
      ...context,
      before,
      after,
      slot: slot.count,
      outcome: 'remediated',
      decided: { kind: 'remediated', plan, recorded },
    });
  }

  private claim(): Promise<Claim> {
    const { incident, run } = this;
    const request = {
      eventId: incident.eventId,
      alarmName: incident.alarmName,
      action: this.action,
      now: run.now,
      leaseMs: run.leaseMs,
    };
    return claimEvent(this.clients.ddb, this.config.opsTableName, request);
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

  // --- The ending ------------------------------------------------------------------------------

  private async duplicate(claim: { previousStatus?: string }): Promise<DuplicateResult> {
    const { incident } = this;
    const reason = duplicateReason(incident.eventId, claim.previousStatus);
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
      decided: { kind: 'failed', failure },
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
    const { auditSk, summary, failures } = await this.finish(ending);
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
      summary,
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
   * slot, in parallel. Returns the audit sort key, the summary and the report/audit calls that
   * failed (a failed marker or refund update is only logged).
   */
  private async finish(
    ending: Ending,
  ): Promise<{ auditSk: string; summary: string; failures: CallFailure[] }> {
    const { incident, config, run } = this;
    const auditId = shortId();
    const auditSk = auditKey(run.now, auditId).sk;
    const outcome: AuditOutcome =
      ending.outcome === 'remediated' ? 'ok' : ending.outcome === 'failed' ? 'failed' : 'skipped';
    const summary = summaryOf(ending.decided, incident, this.action);
    const topicArn = ending.topicArn ?? this.topicArn;
    const message = reportMessage(ending, summary, {
      incident,
      config,
      action: this.action,
      maxPerHour: this.maxPerHour,
      dryRun: this.dryRun,
      auditSk,
    });
    const entry = auditEntry(
      { incident, ending, summary, outcome, action: this.action, dryRun: this.dryRun },
      config,
    );
    const audit = () =>
      recordAudit(this.clients.ddb, config.opsTableName, entry, {
        now: run.now,
        id: auditId,
      });
    const subject = ending.subject ?? reportSubject(ending, incident, this.action, config.environment);
    const report = () => publish(this.clients.sns, topicArn, subject, message);
    const mark = async () => {
      if (!this.claimed) return;
      const status = ending.outcome === 'failed' ? 'failed' : 'done';
      const at = { status, outcome: ending.outcome, now: run.now } as const;
      await markEvent(this.clients.ddb, config.opsTableName, incident.eventId, at);
    };
    // The refund never rejects.
    const refund = async () => (ending.refundSlot ? this.refundSlot() : undefined);
    const actions = [
      { run: audit, failure: { call: 'PutItem', target: `${config.opsTableName} (audit)` } },
      { run: report, failure: { call: 'Publish', target: topicArn } },
      { run: mark, failure: undefined },
      { run: refund, failure: undefined },
    ];
    const { failed } = await runInParallel(actions, (action): Promise<unknown> => action.run());
    const failures: CallFailure[] = [];
    for (const { action, error } of failed) {
      if (action.failure !== undefined) {
        failures.push(this.callFailure(action.failure.call, action.failure.target, error));
      } else {
        run.logger.warn('Could not record the event marker status', {
          eventId: incident.eventId,
          error: describeError(error),
        });
      }
    }
    if (failures.length > 0) run.logger.error('Remediation report failed', { failures });
    return { auditSk, summary, failures };
  }

  /** Gives back this event's slot after a failed action; never rejects. */
  private async refundSlot(): Promise<void> {
    try {
      const refunded = await refundSlot(this.clients.ddb, this.slotRef());
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

  private callFailure(call: string, target: string, error: unknown): CallFailure {
    return { call, target, error: describeError(error) };
  }
}
