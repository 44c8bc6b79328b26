import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { recordAction, recordedLine } from '../../core/automation';
import { isConditionFailure } from '../../core/ops-table/items';
import { runInParallel, settle } from '../../core/parallel';
import {
  describeCause,
  describeError,
  formatWeights,
  lastShiftKey,
  markRolledBack,
  readLastShift,
  readLiveWeights,
  releaseShiftLock,
  rollbackRecordPut,
  type TrafficFunctionConfig,
  validateWeights,
  type Weights,
  weightsEqual,
  writeWeights,
} from '../../core/traffic';
import { audit, notify, resolve } from './effects';
import { abortNotice, finishNotice, rollbackNotice } from './messages';
import type {
  AbortInput,
  AbortResult,
  FinishInput,
  RollbackInput,
  RollbackShiftResult,
  ShiftClients,
  ShiftOptions,
} from './types';
import { ShiftNotActiveError } from './types';

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
  const { logger, now } = resolve(options);
  const { traffic } = config;
  const from = validateWeights(input.from);
  const at = now();
  const why = rollbackReason(input);
  const lastShift = await readLastShift(clients.ddb, traffic.opsTable);

  if (lastShift?.executionArn !== input.executionArn) {
    logger.warn('Not rolling back: the last recorded shift is another execution', {
      recorded: lastShift?.executionArn,
    });
    await Promise.all([
      releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn).catch(() => false),
      audit(clients, traffic.opsTable, logger, at, {
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

  const bookkeeping: Array<() => Promise<unknown>> = [
    () =>
      clients.ddb.send(
        markRolledBack(traffic.opsTable, input.executionArn, { at, by: 'traffic-shift', reason: why }),
      ),
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
    () => releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn),
  ];
  const [written, secondary] = await Promise.all([
    settle(writeWeights(clients, traffic, from)),
    runInParallel(bookkeeping, (action) => action()),
  ]);
  const problems = secondary.failed.map(({ error }) => describeError(error));
  const ok = written.ok;
  const verification = ok
    ? await recordShiftRollback(clients, traffic, input, from, why, at, options)
    : undefined;
  await Promise.all([
    audit(clients, traffic.opsTable, logger, at, {
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
        error: written.ok ? undefined : describeError(written.error),
        problems: problems.length > 0 ? problems : undefined,
      },
    }),
    notify(
      clients,
      traffic,
      logger,
      rollbackNotice({
        environment: traffic.environment,
        to: lastShift.to,
        why,
        writeError: written.ok ? undefined : describeError(written.error),
        from,
        weightsParameter: traffic.weightsParameter,
        executionArn: input.executionArn,
        problems,
        verification,
      }),
    ),
  ]);
  if (!written.ok) throw written.error;
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
    { now: at },
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
  const { logger, now } = resolve(options);
  const { traffic } = config;
  const final = validateWeights(input.weights);
  const at = now();
  let updated: Record<string, unknown> | undefined;
  try {
    const result = await clients.ddb.send(
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
    releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn).catch((error: unknown) => {
      logger.error('Cannot release the shift lock', { error: describeError(error) });
      return false;
    }),
    audit(clients, traffic.opsTable, logger, at, {
      action: 'traffic-shift-complete',
      actor: requestedBy,
      reason: `Shift to ${to} completed: ${formatWeights(final)}`,
      source: 'traffic-shift',
      outcome: 'ok',
      environment: traffic.environment,
      details: { executionArn: input.executionArn, final },
    }),
    notify(
      clients,
      traffic,
      logger,
      finishNotice({
        environment: traffic.environment,
        to,
        requestedBy,
        fromText,
        final,
        executionArn: input.executionArn,
      }),
    ),
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
  const { logger, now } = resolve(options);
  const { traffic } = config;
  const at = now();
  const why = `aborted: ${describeCause(input.error, input.cause)}`;
  const [recorded, live] = await Promise.allSettled([
    readLastShift(clients.ddb, traffic.opsTable),
    readLiveWeights(clients.elbv2, traffic.listenerArn, traffic.targetGroups),
  ]);
  if (recorded.status === 'rejected') {
    // Without LAST_SHIFT we cannot tell what to restore: free the lock at least.
    await releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn).catch(() => false);
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

  const [written, released, marked] = await Promise.all([
    settle(restore ? writeWeights(clients, traffic, restore) : Promise.resolve(null)),
    settle(releaseShiftLock(clients.ddb, traffic.opsTable, input.executionArn)),
    settle(
      ours
        ? clients.ddb.send(
            markRolledBack(traffic.opsTable, input.executionArn, {
              at,
              by: 'traffic-shift',
              reason: why,
              status: restore ? 'rolled-back' : 'aborted',
            }),
          )
        : Promise.resolve(null),
    ),
  ]);
  const lockReleased = released.ok && released.value;
  const to = lastShift?.to ?? 'unknown';
  const failures = [written, released, marked].flatMap((r) => (r.ok ? [] : [describeError(r.error)]));
  await Promise.all([
    audit(clients, traffic.opsTable, logger, at, {
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
    notify(
      clients,
      traffic,
      logger,
      abortNotice({
        environment: traffic.environment,
        to,
        why,
        restore,
        writeError: written.ok ? undefined : describeError(written.error),
        weightsParameter: traffic.weightsParameter,
        ours,
        executionArn: input.executionArn,
        failures,
      }),
    ),
  ]);
  if (!written.ok) throw written.error;
  logger.warn('Shift aborted', { reason: why, restored: restore, lockReleased });
  return { restored: restore, lockReleased };
}

function rollbackReason(input: RollbackInput): string {
  if (input.firing && input.firing.length > 0) return `alarms ${input.firing.join(', ')} firing`;
  return input.reason ? describeCause(undefined, input.reason) : 'rollback requested by the state machine';
}
