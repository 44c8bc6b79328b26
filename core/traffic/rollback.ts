/**
 * The rollback to the last known-good weights (the last shift's `from`): the one rollback of
 * the automatic rollback Lambda, the shift's own rollback step, the CLI and remediation.
 */

import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_PK,
  type AuditOutcome,
  type AuditSource,
  auditItem,
  getOpsItem,
  isConditionFailure,
} from '../ops-table/items';
import { runInParallel, settle } from '../parallel';
import {
  describeError,
  fallbackLogger,
  type TrafficClients,
  type TrafficConfig,
  type TrafficOptions,
  type Weights,
  WeightsPartiallyWrittenError,
  withoutUndefined,
} from './common';
import {
  type LastShift,
  lastShiftKey,
  markRolledBack,
  parseLastShift,
  parseRollbackRecord,
  type RollbackRecord,
  releaseShiftLock,
  rollbackKey,
  rollbackRecordPut,
} from './items';
import { formatWeights, readLiveWeights, readStoredWeights, weightsEqual, writeWeights } from './weights';

// ---------------------------------------------------------------------------------------------
// Rollback

/** Who rolls back, why, and under which conditions. */
export interface RollbackRequest {
  /** The human (IAM principal, user name) or automation rolling back. */
  readonly actor: string;
  readonly reason: string;
  readonly source: AuditSource;
  readonly now: Date;
  /**
   * Only roll back a shift in progress or one that ended at most this many minutes ago (the
   * automatic rollback: a P0 long after a shift is not the shift's fault). @default no limit
   */
  readonly requireRecentShiftWithin?: number;
  /**
   * When the alarm calling for the rollback changed state. The window is measured from it, not
   * from `now`: a late or replayed event (Lambda retries for up to 6 h, a dead-letter redrive)
   * must not judge a shift by when the event was processed. A shift started after it is not its
   * cause and is left alone ('outside-window'). Only read with requireRecentShiftWithin.
   * @default now
   */
  readonly alarmAt?: Date;
  /** No rollback within this many minutes of the last one (never flap). @default none */
  readonly cooldownMinutes?: number;
}

/** Why a rollback did or did not change the weights. */
export type RollbackOutcome =
  | 'rolled-back'
  | 'no-shift-recorded'
  | 'already-rolled-back'
  | 'cooldown'
  | 'outside-window';

/** What {@link rollbackToLastKnownGood} found and did. */
export interface RollbackResult {
  /** Whether weights were written. */
  readonly changed: boolean;
  readonly outcome: RollbackOutcome;
  /** A sentence for humans: what changed, or why nothing did. */
  readonly reason: string;
  /** The weights written (the last shift's `from`). */
  readonly restored?: Weights;
  /** The live weights before the rollback. */
  readonly previous?: Weights;
  /** The stored weights before the rollback; undefined when they could not be read. */
  readonly previousStored?: Weights;
  readonly lastShift?: LastShift;
  /** The shift execution stopped because it was still running. */
  readonly stoppedExecution?: string;
  /** Secondary actions that failed (records, stopping the execution): the weights were restored. */
  readonly problems: readonly string[];
}

/**
 * Restores the weights the last shift started from (its `from`, the last known-good), on the
 * listener and in SSM, and records it; the one rollback of the auto-rollback Lambda, the CLI
 * and the remediation Lambda.
 *
 * Round 1 (parallel): LAST_SHIFT, ROLLBACK, the listener and the parameter. Nothing changes
 * when no shift is recorded, when listener and parameter already hold `from`, within
 * `cooldownMinutes` of the last rollback, or when `requireRecentShiftWithin` is set and the
 * shift ended longer ago. Otherwise round 2 (parallel): write the weights (listener and
 * parameter), mark LAST_SHIFT 'rolled-back', put ROLLBACK, record the audit entry, and, when
 * the shift is still in progress, stop its execution and release its lock. Two round trips.
 *
 * When the weights write fails, round 3 takes the ROLLBACK record back (so the retry is not
 * held off by its own cool-down), marks the audit entry failed and the write error
 * (WeightsPartiallyWrittenError / WeightsNotWrittenError) is rethrown. A failure of a
 * secondary action is reported in `problems` only.
 */
export async function rollbackToLastKnownGood(
  clients: TrafficClients,
  config: TrafficConfig,
  request: RollbackRequest,
  options: TrafficOptions = {},
): Promise<RollbackResult> {
  const logger = options.logger ?? fallbackLogger();
  const { now } = request;

  // Round 1.
  const [lastShiftItem, rollbackItem, live, stored] = await Promise.all([
    getOpsItem(clients.ddb, config.opsTable, lastShiftKey()),
    getOpsItem(clients.ddb, config.opsTable, rollbackKey()),
    readLiveWeights(clients.elbv2, config.listenerArn, config.targetGroups),
    // The stored weights only tell whether the parameter needs repairing: unreadable, it is
    // rewritten anyway.
    readStoredWeights(clients.ssm, config.weightsParameter).catch((error: unknown) => {
      logger.warn('Cannot read the stored weights', { error: describeError(error) });
      return undefined;
    }),
  ]);
  const lastShift = parseLastShift(lastShiftItem);
  const lastRollback = parseRollbackRecord(rollbackItem);
  const base = { previous: live, previousStored: stored, lastShift, problems: [] as string[] };

  if (lastShift === undefined) {
    return {
      ...base,
      changed: false,
      outcome: 'no-shift-recorded',
      reason: `No traffic shift is recorded: nothing to roll back (live weights ${formatWeights(live)})`,
    };
  }
  const target = lastShift.from;
  const shiftText = `the shift to ${lastShift.to} started ${lastShift.startedAt} (${lastShift.status})`;
  if (weightsEqual(live, target) && stored !== undefined && weightsEqual(stored, target)) {
    return {
      ...base,
      changed: false,
      outcome: 'already-rolled-back',
      reason:
        `Already rolled back: listener and parameter hold the last known-good weights ${formatWeights(target)} ` +
        `from before ${shiftText}`,
    };
  }
  if (request.cooldownMinutes !== undefined && lastRollback !== undefined) {
    const sinceMs = now.getTime() - Date.parse(lastRollback.at);
    if (sinceMs < request.cooldownMinutes * 60_000) {
      return {
        ...base,
        changed: false,
        outcome: 'cooldown',
        reason:
          `Within the ${request.cooldownMinutes}-minute cool-down: the last rollback was at ${lastRollback.at} ` +
          `by ${lastRollback.by} (${lastRollback.reason}); weights left at ${formatWeights(live)}`,
      };
    }
  }
  const alarmAt = request.alarmAt ?? now;
  const alarmText = request.alarmAt === undefined ? 'ago' : `before the alarm at ${alarmAt.toISOString()}`;
  if (request.requireRecentShiftWithin !== undefined && Date.parse(lastShift.startedAt) > alarmAt.getTime()) {
    return {
      ...base,
      changed: false,
      outcome: 'outside-window',
      reason:
        `The last shift (to ${lastShift.to}) started at ${lastShift.startedAt}, after the alarm at ` +
        `${alarmAt.toISOString()}: not its cause, not rolled back automatically; weights left at ${formatWeights(live)}`,
    };
  }
  if (request.requireRecentShiftWithin !== undefined && lastShift.status !== 'in-progress') {
    const endedAt = lastShift.completedAt ?? lastShift.rolledBackAt ?? lastShift.startedAt;
    const agoMs = alarmAt.getTime() - Date.parse(endedAt);
    if (agoMs > request.requireRecentShiftWithin * 60_000) {
      return {
        ...base,
        changed: false,
        outcome: 'outside-window',
        reason:
          `The last shift (to ${lastShift.to}) ended at ${endedAt}, ${Math.round(agoMs / 60_000)} minutes ${alarmText}, ` +
          `outside the ${request.requireRecentShiftWithin}-minute window: not rolled back automatically; ` +
          `weights left at ${formatWeights(live)}`,
      };
    }
  }

  // Round 2.
  const running = lastShift.status === 'in-progress';
  const stopExecution = running && clients.sfn !== undefined;
  const record: RollbackRecord = {
    at: now.toISOString(),
    by: request.actor,
    reason: request.reason,
    restored: target,
    source: request.source,
    executionArn: lastShift.executionArn,
  };
  const audit = auditItem(
    {
      action: 'traffic-rollback',
      actor: request.actor,
      reason: request.reason,
      source: request.source,
      outcome: 'ok',
      environment: config.environment,
      details: {
        executionArn: lastShift.executionArn,
        to: lastShift.to,
        shiftStatus: lastShift.status,
        restored: target,
        previous: live,
        previousStored: stored,
        stoppedExecution: stopExecution ? lastShift.executionArn : undefined,
      },
    },
    now,
  );
  const secondary: Array<{ what: string; run: () => Promise<unknown> }> = [
    {
      what: 'mark LAST_SHIFT rolled-back',
      run: () =>
        clients.ddb.send(
          markRolledBack(config.opsTable, lastShift.executionArn, {
            at: now,
            by: request.actor,
            reason: request.reason,
          }),
        ),
    },
    {
      what: 'record ROLLBACK',
      run: () => clients.ddb.send(rollbackRecordPut(config.opsTable, record)),
    },
    {
      what: 'record the audit entry',
      run: () =>
        clients.ddb.send(
          new PutCommand({
            TableName: config.opsTable,
            Item: audit,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
    },
  ];
  if (running) {
    const sfn = clients.sfn;
    if (sfn !== undefined) {
      secondary.push({
        what: `stop the shift execution ${lastShift.executionArn}`,
        run: () =>
          sfn
            .send(
              new StopExecutionCommand({
                executionArn: lastShift.executionArn,
                error: 'TrafficRolledBack',
                cause: `Rolled back by ${request.actor}: ${request.reason}`.slice(0, 32_768),
              }),
            )
            .catch((error: unknown) => {
              // Already gone: nothing to stop.
              if ((error as { name?: unknown }).name === 'ExecutionDoesNotExist') return undefined;
              throw error;
            }),
      });
    }
    secondary.push({
      what: 'release the shift lock',
      run: () => releaseShiftLock(clients.ddb, config.opsTable, lastShift.executionArn),
    });
  }
  const [written, { failed }] = await Promise.all([
    settle(writeWeights(clients, config, target)),
    runInParallel(secondary, (action) => action.run()),
  ]);
  const problems = failed.map(({ action, error }) =>
    isConditionFailure(error) && action.what.startsWith('mark LAST_SHIFT')
      ? 'LAST_SHIFT not marked rolled-back: a new shift was recorded meanwhile'
      : `${action.what}: ${describeError(error)}`,
  );

  if (!written.ok) {
    // Round 3, only after a failure: the retry must not be held off by this attempt's cool-down,
    // and LAST_SHIFT must not say rolled back while the shift's weights are still in effect.
    logger.error('Rollback: writing the weights failed', { error: describeError(written.error), problems });
    const writeError = written.error;
    const outcome: AuditOutcome = writeError instanceof WeightsPartiallyWrittenError ? 'partial' : 'failed';
    const undo: Promise<unknown>[] = [
      // Back to the item read in round 1, if the mark is still ours (not a newer shift's record
      // or another rollback's mark).
      clients.ddb
        .send(
          new PutCommand({
            TableName: config.opsTable,
            Item: lastShiftItem as Record<string, unknown>,
            ConditionExpression: '#executionArn = :executionArn AND #rolledBackAt = :at',
            ExpressionAttributeNames: { '#executionArn': 'executionArn', '#rolledBackAt': 'rolledBackAt' },
            ExpressionAttributeValues: { ':executionArn': lastShift.executionArn, ':at': record.at },
          }),
        )
        .catch((error: unknown) => {
          // Not marked by this attempt (its mark failed, or another writer came since): nothing to undo.
          if (!isConditionFailure(error)) throw error;
        }),
      ((): Promise<unknown> => {
        const ours = {
          TableName: config.opsTable,
          ConditionExpression: '#at = :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': record.at },
        };
        return lastRollback === undefined
          ? clients.ddb.send(new DeleteCommand({ ...ours, Key: rollbackKey() }))
          : clients.ddb.send(
              new PutCommand({ ...ours, Item: { ...rollbackKey(), ...withoutUndefined(lastRollback) } }),
            );
      })(),
      clients.ddb.send(
        new UpdateCommand({
          TableName: config.opsTable,
          Key: { pk: AUDIT_PK, sk: audit.sk },
          UpdateExpression: 'SET #outcome = :outcome, #details.#error = :error',
          ExpressionAttributeNames: { '#outcome': 'outcome', '#details': 'details', '#error': 'error' },
          ExpressionAttributeValues: { ':outcome': outcome, ':error': describeError(writeError) },
        }),
      ),
    ];
    const { failed: notUndone } = await runInParallel(undo, (started) => started);
    for (const { error } of notUndone) {
      logger.error('Cannot undo the rollback records', { error: describeError(error) });
    }
    throw writeError;
  }

  if (problems.length > 0) logger.error('Rollback done, but secondary actions failed', { problems });
  logger.info('Rolled back to the last known-good weights', {
    restored: target,
    previous: live,
    executionArn: lastShift.executionArn,
  });
  const stopped = stopExecution && !problems.some((p) => p.startsWith('stop the shift execution'));
  return {
    ...base,
    problems,
    changed: true,
    outcome: 'rolled-back',
    restored: target,
    stoppedExecution: stopped ? lastShift.executionArn : undefined,
    reason:
      `Rolled back to ${formatWeights(target)} (was ${formatWeights(live)}${
        stored !== undefined && !weightsEqual(stored, live) ? `, stored ${formatWeights(stored)}` : ''
      }), the weights from before ${shiftText}` +
      `${stopped ? '; the running shift was stopped' : running && !stopExecution ? '; the shift was still marked in progress' : ''}`,
  };
}
