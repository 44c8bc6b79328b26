/**
 * The steps of a traffic shift, one per action of the shift state machine's task Lambda:
 * begin (lock, read, plan, record), checkAlarms (the gate), setWeights, rollback (an alarm
 * fired: restore the weights the shift started from), finish, and abort (the catch-all).
 *
 * Every weights change goes through core/traffic (listener AND SSM parameter).
 * Audit entries and notifications are best effort: a failed audit write or SNS publish is
 * logged but never fails a step (failing would roll back a healthy shift).
 */

import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditOutcome } from '../../core/ops-table/items';
import {
  acquireShiftLock,
  describeError,
  formatWeights,
  InvalidWeightsError,
  type LastShift,
  lastShiftKey,
  planShift,
  readLastShift,
  readLiveWeights,
  releaseShiftLock,
  type TrafficFunctionConfig,
  validateSteps,
  validateWeights,
  type Weights,
  writeWeights,
} from '../../core/traffic';
import { audit, resolve } from './effects';
import { abortShift, finishShift, rollbackShift } from './end';
import type {
  BeginInput,
  BeginResult,
  CheckAlarmsResult,
  SetWeightsInput,
  ShiftActionResult,
  ShiftClients,
  ShiftEvent,
  ShiftOptions,
} from './types';
import { AlarmNotFoundError, ShiftNotActiveError } from './types';

export { abortShift, finishShift, rollbackShift } from './end';
export * from './types';

// ---------------------------------------------------------------------------------------------
// Actions

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
      return checkAlarms(clients, event.alarmNames);
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
  const { logger, now } = resolve(options);
  const { traffic } = config;
  const steps = validateSteps(input.steps);
  const at = now();
  const requestedBy = input.requestedBy ?? 'unknown';

  const [lock, live] = await Promise.allSettled([
    acquireShiftLock(clients.ddb, traffic.opsTable, {
      executionArn: input.executionArn,
      to: input.to,
      now: at,
    }),
    readLiveWeights(clients.elbv2, traffic.listenerArn, traffic.targetGroups),
  ]);
  if (lock.status === 'rejected') throw lock.reason;
  const release = () =>
    releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn).catch((error: unknown) =>
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
      audit(clients, traffic.opsTable, logger, at, {
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
    clients.ddb.send(
      new PutCommand({ TableName: traffic.opsTable, Item: { ...lastShiftKey(), ...lastShift } }),
    ),
    audit(clients, traffic.opsTable, logger, at, {
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
): Promise<CheckAlarmsResult> {
  const states = new Map<string, string | undefined>();
  let nextToken: string | undefined;
  do {
    const page = await clients.cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNames: [...alarmNames],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
        NextToken: nextToken,
      }),
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
  const { logger, now } = resolve(options);
  const { traffic } = config;
  const target = validateWeights(input.weights);
  const lastShift = await readLastShift(clients.ddb, traffic.opsTable);
  assertActive(lastShift, input.executionArn);
  let outcome: AuditOutcome = 'ok';
  let error: unknown;
  try {
    await writeWeights(clients, traffic, target);
  } catch (e) {
    error = e;
    outcome = 'failed';
  }
  await audit(clients, traffic.opsTable, logger, now(), {
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
