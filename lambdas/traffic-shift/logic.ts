/**
 * The steps of a traffic shift, one per action of the shift state machine's task Lambda:
 * begin (lock, read, plan, record), checkAlarms (the gate), setWeights, rollback (an alarm
 * fired: restore the weights the shift started from), finish, and abort (the catch-all).
 *
 * Every weights change goes through core/traffic (listener AND SSM parameter).
 * Audit entries and notifications are best effort: a failed audit write or SNS publish is
 * logged but never fails a step (failing would roll back a healthy shift).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { type AutomationSettings, recordAction, recordedLine } from '../../core/automation';
import { AutomationError, describeIssues, InvalidInputError } from '../../core/errors';
import { type AuditOutcome, recordAudit } from '../../core/ops-table/items';
import { type RetryOptions, withRetry } from '../../core/retry';
import {
  acquireShiftLock,
  COLOURS,
  describeCause,
  describeError,
  formatWeights,
  InvalidWeightsError,
  isConditionFailure,
  type LastShift,
  lastShiftKey,
  markRolledBack,
  planShift,
  readLastShift,
  readLiveWeights,
  releaseShiftLock,
  rollbackRecordPut,
  snsSubject,
  type TrafficFunctionConfig,
  validateSteps,
  validateWeights,
  type Weights,
  weightsEqual,
  writeWeights,
} from '../../core/traffic';

/** The clients of the shift steps. */
export interface ShiftClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sns: SNSClient;
  /** Schedules the verification of a rollback (core/automation). @default none: not verified */
  readonly scheduler?: SchedulerClient;
}

/** Injectable time, retries and logging. */
export interface ShiftOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
  readonly retry?: RetryOptions;
  /** @default a Powertools logger of service 'traffic-shift' */
  readonly logger?: Logger;
  /**
   * The AUTOMATION variable: a rollback on alarm is recorded and its weights and alarms read
   * back (core/automation). Not held by the pause or the repeat guard: it undoes a shift a human
   * started, to the weights known good before it. @default none: not verified
   */
  readonly automation?: AutomationSettings;
}

// ---------------------------------------------------------------------------------------------
// The events (the state machine's task inputs)

const executionArn = z.string().startsWith('arn:', 'must be an execution ARN');
const weights = z.object({ blue: z.number(), green: z.number() });

const beginSchema = z.object({
  action: z.literal('begin'),
  executionArn,
  to: z.enum(COLOURS),
  steps: z.array(z.number()).min(1),
  bakeSeconds: z.number().int().min(0),
  requestedBy: z.string().nullish(),
});
const checkAlarmsSchema = z.object({
  action: z.literal('checkAlarms'),
  alarmNames: z.array(z.string().min(1)).min(1).max(100),
});
const setWeightsSchema = z.object({ action: z.literal('setWeights'), executionArn, weights });
const rollbackSchema = z.object({
  action: z.literal('rollback'),
  executionArn,
  from: weights,
  reason: z.string().nullish(),
  firing: z.array(z.string()).nullish(),
});
const finishSchema = z.object({ action: z.literal('finish'), executionArn, weights });
const abortSchema = z.object({
  action: z.literal('abort'),
  executionArn,
  error: z.string().nullish(),
  cause: z.string().nullish(),
});

const shiftEventSchema = z.discriminatedUnion('action', [
  beginSchema,
  checkAlarmsSchema,
  setWeightsSchema,
  rollbackSchema,
  finishSchema,
  abortSchema,
]);

export type BeginInput = z.infer<typeof beginSchema>;
export type CheckAlarmsInput = z.infer<typeof checkAlarmsSchema>;
export type SetWeightsInput = z.infer<typeof setWeightsSchema>;
export type RollbackInput = z.infer<typeof rollbackSchema>;
export type FinishInput = z.infer<typeof finishSchema>;
export type AbortInput = z.infer<typeof abortSchema>;
/** One task input of the shift state machine. */
export type ShiftEvent = z.infer<typeof shiftEventSchema>;

/** The event as a {@link ShiftEvent}; InvalidInputError naming every problem otherwise. */
export function parseShiftEvent(event: unknown): ShiftEvent {
  const parsed = shiftEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(`Invalid traffic shift task input: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Results and errors

export interface BeginResult {
  /** True when the target colour already has all the traffic: nothing to shift (lock released). */
  readonly noop: boolean;
  /** The live weights before the shift: what a rollback restores. */
  readonly from: Weights;
  /** The weights of each step, in order. */
  readonly plan: readonly Weights[];
  /** The gate's alarms: the target colour's and the P0. */
  readonly alarmNames: readonly string[];
}

export interface CheckAlarmsResult {
  readonly healthy: boolean;
  /** Names of the alarms in ALARM. */
  readonly firing: readonly string[];
}

export interface RollbackShiftResult {
  /** The weights written back; null when the shift was no longer the recorded one (nothing written). */
  readonly restored: Weights | null;
}

export interface AbortResult {
  /** The weights written back, or null when nothing needed restoring. */
  readonly restored: Weights | null;
  readonly lockReleased: boolean;
}

/** The result of any action. */
export type ShiftActionResult =
  | BeginResult
  | CheckAlarmsResult
  | Weights
  | RollbackShiftResult
  | AbortResult
  | Record<string, never>;

/** An alarm of the gate does not exist: a gate that cannot see its alarm must not pass. */
export class AlarmNotFoundError extends AutomationError {}

/** The shift is no longer the recorded, in-progress one (rolled back, or replaced): the step is refused. */
export class ShiftNotActiveError extends AutomationError {}

// ---------------------------------------------------------------------------------------------
// Actions

let defaultLogger: Logger | undefined;

function resolve(options: ShiftOptions) {
  if (options.logger === undefined && defaultLogger === undefined) {
    defaultLogger = new Logger({ serviceName: 'traffic-shift' });
  }
  const logger = options.logger ?? (defaultLogger as Logger);
  return { logger, now: options.now ?? (() => new Date()), retry: options.retry };
}

/** Runs one parsed action. */
export function runShiftAction(
  clients: ShiftClients,
  config: TrafficFunctionConfig,
  event: ShiftEvent,
  options: ShiftOptions = {},
): Promise<ShiftActionResult> {
  switch (event.action) {
    case 'begin':
      return beginShift(clients, config, event, options);
    case 'checkAlarms':
      return checkAlarms(clients, event.alarmNames, options);
    case 'setWeights':
      return setShiftWeights(clients, config, event, options);
    case 'rollback':
      return rollbackShift(clients, config, event, options);
    case 'finish':
      return finishShift(clients, config, event, options);
    case 'abort':
      return abortShift(clients, config, event, options);
  }
}

/**
 * Starts a shift: takes the lock (ShiftInProgressError when another execution holds it), reads
 * the live weights and plans the steps. A target colour already at 100 releases the lock and
 * returns `noop`. Otherwise records LAST_SHIFT (status 'in-progress', `from` = the live
 * weights) and returns the plan and the gate's alarms.
 */
export async function beginShift(
  clients: ShiftClients,
  config: TrafficFunctionConfig,
  input: BeginInput,
  options: ShiftOptions = {},
): Promise<BeginResult> {
  const { logger, now, retry } = resolve(options);
  const { traffic } = config;
  const steps = validateSteps(input.steps);
  const at = now();
  const requestedBy = input.requestedBy ?? 'unknown';

  const [lock, live] = await Promise.allSettled([
    acquireShiftLock(
      clients.ddb,
      traffic.opsTable,
      { executionArn: input.executionArn, to: input.to, now: at },
      retry,
    ),
    readLiveWeights(clients.elbv2, traffic.listenerArn, traffic.targetGroups, retry),
  ]);
  if (lock.status === 'rejected') throw lock.reason;
  const release = () =>
    releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn, retry).catch((error: unknown) =>
      logger.error('Cannot release the shift lock', { error: describeError(error) }),
    );
  let from: Weights;
  try {
    if (live.status === 'rejected') throw live.reason;
    try {
      from = validateWeights(live.value);
    } catch (error) {
      throw new InvalidWeightsError(
        `The live weights (${formatWeights(live.value)}) are not percentages summing to 100: ` +
          `fix the listener before shifting (${(error as Error).message})`,
        { cause: error },
      );
    }
  } catch (error) {
    await release();
    throw error;
  }

  const plan = planShift(from, input.to, steps);
  const alarmNames = [...config.alarms[input.to], config.alarms.p0];
  const auditBase = {
    actor: requestedBy,
    source: 'traffic-shift',
    environment: traffic.environment,
  } as const;
  if (plan.length === 0) {
    logger.info('Nothing to shift: the target colour already has all the traffic', { from, to: input.to });
    await Promise.all([
      release(),
      audit(clients, traffic.opsTable, logger, retry, at, {
        ...auditBase,
        action: 'traffic-shift-start',
        reason: `Shift to ${input.to}: ${input.to} already at 100 (${formatWeights(from)}), nothing to do`,
        outcome: 'skipped',
        details: { executionArn: input.executionArn, from, steps },
      }),
    ]);
    return { noop: true, from, plan: [], alarmNames };
  }

  const lastShift: LastShift = {
    executionArn: input.executionArn,
    to: input.to,
    from,
    plan,
    startedAt: at.toISOString(),
    status: 'in-progress',
    requestedBy,
  };
  const [recorded] = await Promise.allSettled([
    withRetry(
      () =>
        clients.ddb.send(
          new PutCommand({ TableName: traffic.opsTable, Item: { ...lastShiftKey(), ...lastShift } }),
        ),
      retry,
    ),
    audit(clients, traffic.opsTable, logger, retry, at, {
      ...auditBase,
      action: 'traffic-shift-start',
      reason: `Shift to ${input.to} in steps ${steps.join(',')}, ${input.bakeSeconds} s bake each`,
      outcome: 'ok',
      details: { executionArn: input.executionArn, from, plan, steps, bakeSeconds: input.bakeSeconds },
    }),
  ]);
  if (recorded.status === 'rejected') {
    await release();
    throw recorded.reason;
  }
  logger.info('Shift begun', { to: input.to, from, plan });
  return { noop: false, from, plan, alarmNames };
}

/**
 * The gate: the states of `alarmNames` (metric and composite alarms). INSUFFICIENT_DATA counts
 * as healthy; an alarm that does not exist throws AlarmNotFoundError.
 */
export async function checkAlarms(
  clients: Pick<ShiftClients, 'cloudwatch'>,
  alarmNames: readonly string[],
  options: ShiftOptions = {},
): Promise<CheckAlarmsResult> {
  const { retry } = resolve(options);
  const states = new Map<string, string | undefined>();
  let nextToken: string | undefined;
  do {
    const page = await withRetry(
      () =>
        clients.cloudwatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: [...alarmNames],
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: 100,
            NextToken: nextToken,
          }),
        ),
      retry,
    );
    for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
      if (alarm.AlarmName !== undefined) states.set(alarm.AlarmName, alarm.StateValue);
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  const missing = [...new Set(alarmNames)].filter((name) => !states.has(name));
  if (missing.length > 0) {
    throw new AlarmNotFoundError(
      `Alarm(s) not found: ${missing.join(', ')}; the gate cannot pass without them`,
    );
  }
  const firing = [...new Set(alarmNames)].filter((name) => states.get(name) === 'ALARM');
  return { healthy: firing.length === 0, firing };
}

/**
 * One step: writes `weights` (listener and parameter) if the shift is still the recorded,
 * in-progress one (ShiftNotActiveError otherwise: a rollback happened meanwhile and must not be
 * undone).
 */
export async function setShiftWeights(
  clients: ShiftClients,
  config: TrafficFunctionConfig,
  input: SetWeightsInput,
  options: ShiftOptions = {},
): Promise<Weights> {
  const { logger, now, retry } = resolve(options);
  const { traffic } = config;
  const target = validateWeights(input.weights);
  const lastShift = await readLastShift(clients.ddb, traffic.opsTable, retry);
  assertActive(lastShift, input.executionArn);
  let outcome: AuditOutcome = 'ok';
  let error: unknown;
  try {
    await writeWeights(clients, traffic, target, { retry });
  } catch (e) {
    error = e;
    outcome = 'failed';
  }
  await audit(clients, traffic.opsTable, logger, retry, now(), {
    action: 'traffic-weights-set',
    actor: lastShift.requestedBy ?? 'traffic-shift',
    reason: `Shift to ${lastShift.to}: step ${formatWeights(target)}`,
    source: 'traffic-shift',
    outcome,
    environment: traffic.environment,
    details: { executionArn: input.executionArn, weights: target, error: error && describeError(error) },
  });
  if (error !== undefined) throw error;
  logger.info('Weights set', { weights: target });
  return target;
}

/**
 * An alarm fired (or a step failed): writes back `from`, marks LAST_SHIFT 'rolled-back',
 * records the ROLLBACK (the automatic rollbacks' cool-down), releases the lock, audits and
 * notifies. Writes nothing when LAST_SHIFT is another execution's (a newer shift). Rethrows a
 * failed weights write after notifying.
 */
export async function rollbackShift(
  clients: ShiftClients,
  config: TrafficFunctionConfig,
  input: RollbackInput,
  options: ShiftOptions = {},
): Promise<RollbackShiftResult> {
  const { logger, now, retry } = resolve(options);
  const { traffic } = config;
  const from = validateWeights(input.from);
  const at = now();
  const why = rollbackReason(input);
  const lastShift = await readLastShift(clients.ddb, traffic.opsTable, retry);

  if (lastShift?.executionArn !== input.executionArn) {
    logger.warn('Not rolling back: the last recorded shift is another execution', {
      recorded: lastShift?.executionArn,
    });
    await Promise.all([
      releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn, retry).catch(() => false),
      audit(clients, traffic.opsTable, logger, retry, at, {
        action: 'traffic-shift-rollback',
        actor: 'traffic-shift',
        reason: why,
        source: 'traffic-shift',
        outcome: 'skipped',
        environment: traffic.environment,
        details: { executionArn: input.executionArn, recordedShift: lastShift?.executionArn },
      }),
    ]);
    return { restored: null };
  }
  if (!weightsEqual(lastShift.from, from)) {
    logger.warn('The rollback input differs from the recorded last known-good weights; using the input', {
      input: from,
      recorded: lastShift.from,
    });
  }

  const [written, ...secondary] = await Promise.allSettled([
    writeWeights(clients, traffic, from, { retry }),
    withRetry(
      () =>
        clients.ddb.send(
          markRolledBack(traffic.opsTable, input.executionArn, { at, by: 'traffic-shift', reason: why }),
        ),
      retry,
    ),
    withRetry(
      () =>
        clients.ddb.send(
          rollbackRecordPut(traffic.opsTable, {
            at: at.toISOString(),
            by: 'traffic-shift',
            reason: why,
            restored: from,
            source: 'traffic-shift',
            executionArn: input.executionArn,
          }),
        ),
      retry,
    ),
    releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn, retry),
  ]);
  const problems = secondary
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => describeError(r.reason));
  const ok = written.status === 'fulfilled';
  const verification = ok
    ? await recordShiftRollback(clients, traffic, input, from, why, at, options)
    : undefined;
  await Promise.all([
    audit(clients, traffic.opsTable, logger, retry, at, {
      action: 'traffic-shift-rollback',
      actor: 'traffic-shift',
      reason: why,
      source: 'traffic-shift',
      outcome: ok ? (problems.length > 0 ? 'partial' : 'ok') : 'failed',
      environment: traffic.environment,
      details: {
        executionArn: input.executionArn,
        to: lastShift.to,
        restored: from,
        firing: input.firing ?? undefined,
        error: ok ? undefined : describeError(written.reason),
        problems: problems.length > 0 ? problems : undefined,
      },
    }),
    notify(clients, traffic, logger, retry, {
      subject: ok
        ? `[${traffic.environment}] Traffic shift to ${lastShift.to} ROLLED BACK`
        : `[${traffic.environment}] Traffic shift to ${lastShift.to}: ROLLBACK FAILED`,
      lines: [
        ok
          ? `Shift to ${lastShift.to} rolled back (${traffic.environment}): ${why}.`
          : `Shift to ${lastShift.to} (${traffic.environment}) had to be rolled back (${why}), but writing the weights FAILED: ${describeError(written.reason)}`,
        '',
        `Weights ${ok ? 'restored to' : 'to restore'}: ${formatWeights(from)} (listener and ${traffic.weightsParameter}).`,
        `Execution: ${input.executionArn}`,
        ...(problems.length > 0 ? ['', 'Also failed:', ...problems.map((p) => `- ${p}`)] : []),
        ...(verification === undefined ? [] : ['', verification]),
        '',
        ok
          ? 'Check with `npm run ops -- weights`.'
          : 'Run `npm run ops -- rollback` now, then check with `npm run ops -- weights`.',
      ],
    }),
  ]);
  if (written.status === 'rejected') throw written.reason;
  logger.warn('Shift rolled back', { to: lastShift.to, restored: from, reason: why, problems });
  return { restored: from };
}

/** Records a rollback on alarm and schedules its read-back; the line for the notice, if verified. */
async function recordShiftRollback(
  clients: ShiftClients,
  traffic: TrafficFunctionConfig['traffic'],
  input: RollbackInput,
  from: Weights,
  why: string,
  at: Date,
  options: ShiftOptions,
): Promise<string | undefined> {
  const { automation } = options;
  if (automation === undefined || clients.scheduler === undefined) return undefined;
  const recorded = await recordAction(
    { ddb: clients.ddb, scheduler: clients.scheduler },
    automation,
    {
      action: 'traffic-shift-rollback',
      trigger: input.executionArn,
      severity: 'P1',
      source: 'traffic-shift',
      did: `Rolled the shift ${input.executionArn} back to ${formatWeights(from)}: ${why}.`,
      checks: [
        {
          kind: 'weights',
          listenerArn: traffic.listenerArn,
          targetGroups: traffic.targetGroups,
          weightsParameter: traffic.weightsParameter,
          expected: from,
        },
        ...(input.firing ?? []).map((alarmName) => ({ kind: 'alarm-ok' as const, alarmName })),
      ],
    },
    { now: at, retry: options.retry },
  );
  return recordedLine(recorded);
}

/**
 * The last step succeeded: marks LAST_SHIFT 'completed' with the final weights (only if still
 * this execution's and in progress: ShiftNotActiveError otherwise), releases the lock, audits
 * and notifies.
 */
export async function finishShift(
  clients: ShiftClients,
  config: TrafficFunctionConfig,
  input: FinishInput,
  options: ShiftOptions = {},
): Promise<Record<string, never>> {
  const { logger, now, retry } = resolve(options);
  const { traffic } = config;
  const final = validateWeights(input.weights);
  const at = now();
  let updated: Record<string, unknown> | undefined;
  try {
    const result = await withRetry(
      () =>
        clients.ddb.send(
          new UpdateCommand({
            TableName: traffic.opsTable,
            Key: lastShiftKey(),
            UpdateExpression: 'SET #status = :completed, #completedAt = :at, #final = :final',
            ConditionExpression: '#executionArn = :executionArn AND #status = :inProgress',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#completedAt': 'completedAt',
              '#final': 'final',
              '#executionArn': 'executionArn',
            },
            ExpressionAttributeValues: {
              ':completed': 'completed',
              ':inProgress': 'in-progress',
              ':at': at.toISOString(),
              ':final': final,
              ':executionArn': input.executionArn,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      retry,
    );
    updated = result.Attributes;
  } catch (error) {
    if (isConditionFailure(error)) {
      throw new ShiftNotActiveError(
        `Cannot complete shift ${input.executionArn}: it is no longer the in-progress shift (rolled back meanwhile?)`,
        { cause: error },
      );
    }
    throw error;
  }
  const to = typeof updated?.to === 'string' ? updated.to : final.green === 100 ? 'green' : 'blue';
  const fromText =
    typeof updated?.from === 'object' && updated.from !== null
      ? formatWeights(updated.from as Weights)
      : 'unknown';
  const requestedBy = typeof updated?.requestedBy === 'string' ? updated.requestedBy : 'traffic-shift';
  const [released] = await Promise.all([
    releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn, retry).catch((error: unknown) => {
      logger.error('Cannot release the shift lock', { error: describeError(error) });
      return false;
    }),
    audit(clients, traffic.opsTable, logger, retry, at, {
      action: 'traffic-shift-complete',
      actor: requestedBy,
      reason: `Shift to ${to} completed: ${formatWeights(final)}`,
      source: 'traffic-shift',
      outcome: 'ok',
      environment: traffic.environment,
      details: { executionArn: input.executionArn, final },
    }),
    notify(clients, traffic, logger, retry, {
      subject: `[${traffic.environment}] Traffic shift to ${to} completed`,
      lines: [
        `Shift to ${to} completed (${traffic.environment}), requested by ${requestedBy}.`,
        '',
        `Weights: ${fromText} -> ${formatWeights(final)}.`,
        `Execution: ${input.executionArn}`,
        '',
        `Within the automatic rollback window, a P0 alarm restores ${fromText}.`,
      ],
    }),
  ]);
  logger.info('Shift completed', { to, final, lockReleased: released });
  return {};
}

/**
 * The catch-all: if LAST_SHIFT is this in-progress execution and the live weights differ from
 * its `from`, writes `from` back (status 'rolled-back'; 'aborted' when nothing needed
 * restoring); always releases this execution's lock; audits and notifies. Rethrows a failed
 * weights write after notifying.
 */
export async function abortShift(
  clients: ShiftClients,
  config: TrafficFunctionConfig,
  input: AbortInput,
  options: ShiftOptions = {},
): Promise<AbortResult> {
  const { logger, now, retry } = resolve(options);
  const { traffic } = config;
  const at = now();
  const why = `aborted: ${describeCause(input.error, input.cause)}`;
  const [recorded, live] = await Promise.allSettled([
    readLastShift(clients.ddb, traffic.opsTable, retry),
    readLiveWeights(clients.elbv2, traffic.listenerArn, traffic.targetGroups, retry),
  ]);
  if (recorded.status === 'rejected') {
    // Without LAST_SHIFT we cannot tell what to restore: free the lock at least.
    await releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn, retry).catch(() => false);
    throw recorded.reason;
  }
  const lastShift = recorded.value;
  const ours = lastShift?.executionArn === input.executionArn && lastShift.status === 'in-progress';
  const restore =
    ours &&
    lastShift !== undefined &&
    (live.status === 'rejected' || !weightsEqual(live.value, lastShift.from))
      ? lastShift.from
      : null;

  const [written, released, marked] = await Promise.allSettled([
    restore ? writeWeights(clients, traffic, restore, { retry }) : Promise.resolve(null),
    releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn, retry),
    ours
      ? withRetry(
          () =>
            clients.ddb.send(
              markRolledBack(traffic.opsTable, input.executionArn, {
                at,
                by: 'traffic-shift',
                reason: why,
                status: restore ? 'rolled-back' : 'aborted',
              }),
            ),
          retry,
        )
      : Promise.resolve(null),
  ]);
  const lockReleased = released.status === 'fulfilled' && released.value;
  const to = lastShift?.to ?? 'unknown';
  const failures = [written, released, marked]
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => describeError(r.reason));
  await Promise.all([
    audit(clients, traffic.opsTable, logger, retry, at, {
      action: 'traffic-shift-abort',
      actor: 'traffic-shift',
      reason: why,
      source: 'traffic-shift',
      outcome: failures.length > 0 ? 'partial' : ours ? 'ok' : 'skipped',
      environment: traffic.environment,
      details: {
        executionArn: input.executionArn,
        to,
        restored: restore ?? undefined,
        live: live.status === 'fulfilled' ? live.value : describeError(live.reason),
        failures: failures.length > 0 ? failures : undefined,
      },
    }),
    notify(clients, traffic, logger, retry, {
      subject: `[${traffic.environment}] Traffic shift to ${to} ABORTED${written.status === 'rejected' ? ': weights NOT restored' : ''}`,
      lines: [
        `Shift to ${to} (${traffic.environment}) ${why}.`,
        '',
        restore
          ? written.status === 'fulfilled'
            ? `Weights restored to ${formatWeights(restore)} (listener and ${traffic.weightsParameter}).`
            : `Restoring ${formatWeights(restore)} FAILED: ${describeError(written.reason)}. Run \`npm run ops -- rollback\`.`
          : `No weights restored (${ours ? 'the live weights are the ones the shift started from' : 'this execution is not the recorded in-progress shift'}).`,
        `Execution: ${input.executionArn}`,
        ...(failures.length > 0 ? ['', 'Failed:', ...failures.map((f) => `- ${f}`)] : []),
      ],
    }),
  ]);
  if (written.status === 'rejected') throw written.reason;
  logger.warn('Shift aborted', { reason: why, restored: restore, lockReleased });
  return { restored: restore, lockReleased };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function assertActive(
  lastShift: LastShift | undefined,
  executionArn: string,
): asserts lastShift is LastShift {
  if (lastShift?.executionArn !== executionArn || lastShift.status !== 'in-progress') {
    throw new ShiftNotActiveError(
      lastShift?.executionArn === executionArn
        ? `Shift ${executionArn} is ${lastShift.status}${lastShift.rolledBackBy ? ` (by ${lastShift.rolledBackBy}: ${lastShift.rollbackReason ?? ''})` : ''}: weights not set`
        : `Shift ${executionArn} is not the recorded shift (${lastShift?.executionArn ?? 'none recorded'}): weights not set`,
    );
  }
}

function rollbackReason(input: RollbackInput): string {
  if (input.firing && input.firing.length > 0) return `alarms ${input.firing.join(', ')} firing`;
  return input.reason ? describeCause(undefined, input.reason) : 'rollback requested by the state machine';
}

async function audit(
  clients: Pick<ShiftClients, 'ddb'>,
  tableName: string,
  logger: Logger,
  retry: RetryOptions | undefined,
  at: Date,
  entry: Parameters<typeof recordAudit>[2],
): Promise<void> {
  try {
    await recordAudit(clients.ddb, tableName, entry, { now: at, retry });
  } catch (error) {
    logger.error('Cannot record the audit entry', { action: entry.action, error: describeError(error) });
  }
}

async function notify(
  clients: Pick<ShiftClients, 'sns'>,
  traffic: TrafficFunctionConfig['traffic'],
  logger: Logger,
  retry: RetryOptions | undefined,
  message: { readonly subject: string; readonly lines: readonly string[] },
): Promise<void> {
  try {
    await withRetry(
      () =>
        clients.sns.send(
          new PublishCommand({
            TopicArn: traffic.alertTopicArn,
            Subject: snsSubject(message.subject),
            Message: message.lines.join('\n'),
          }),
        ),
      retry,
    );
  } catch (error) {
    logger.error('Cannot publish the notification', {
      subject: message.subject,
      error: describeError(error),
    });
  }
}
