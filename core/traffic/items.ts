/**
 * The traffic items of the ops table (pk `TRAFFIC`): the shift lock, the last shift and the
 * last rollback, their conditional writes (see ../traffic.ts for the scheme).
 */

import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import {
  conditionally,
  fromAttributeValues,
  getOpsItem,
  isConditionFailure,
  singleOpsItem,
} from '../ops-table/items';
import { LAST_SHIFT_SK, ROLLBACK_SK, SHIFT_LOCK_SK, TRAFFIC_PK } from '../ops-table/keys';
import { COLOURS, type Colour, ShiftInProgressError, withoutUndefined } from './common';

// ---------------------------------------------------------------------------------------------
// Ops table items

export { LAST_SHIFT_SK, ROLLBACK_SK, SHIFT_LOCK_SK, TRAFFIC_PK };
/** How long a lock outlives a shift that died without releasing it: the state machine's timeout. */
export const SHIFT_LOCK_TTL_SECONDS = 6 * 3600;

export function shiftLockKey() {
  return { pk: TRAFFIC_PK, sk: SHIFT_LOCK_SK };
}
export function lastShiftKey() {
  return { pk: TRAFFIC_PK, sk: LAST_SHIFT_SK };
}
export function rollbackKey() {
  return { pk: TRAFFIC_PK, sk: ROLLBACK_SK };
}

const weightsSchema = z.object({ blue: z.number(), green: z.number() });
const colourSchema = z.enum(COLOURS);

const shiftLockSchema = z.object({
  executionArn: z.string(),
  to: colourSchema,
  acquiredAt: z.string(),
  /** Epoch seconds. */
  expiresAt: z.number(),
});

/** The shift lock (pk `TRAFFIC`, sk `SHIFT_LOCK`). */
export type ShiftLock = z.infer<typeof shiftLockSchema>;

export const SHIFT_STATUSES = ['in-progress', 'completed', 'rolled-back', 'aborted'] as const;
export type ShiftStatus = (typeof SHIFT_STATUSES)[number];

const lastShiftSchema = z.object({
  executionArn: z.string(),
  to: colourSchema,
  /** The weights before the shift: the last known-good a rollback restores. */
  from: weightsSchema,
  /** The weights the shift ended with (set when completed). */
  final: weightsSchema.optional(),
  /** The planned steps' weights. */
  plan: z.array(weightsSchema).optional(),
  startedAt: z.string(),
  completedAt: z.string().optional(),
  status: z.enum(SHIFT_STATUSES),
  requestedBy: z.string().optional(),
  rolledBackAt: z.string().optional(),
  rolledBackBy: z.string().optional(),
  rollbackReason: z.string().optional(),
});

/** The last shift (pk `TRAFFIC`, sk `LAST_SHIFT`). */
export type LastShift = z.infer<typeof lastShiftSchema>;

const rollbackRecordSchema = z.object({
  at: z.string(),
  by: z.string(),
  reason: z.string(),
  restored: weightsSchema,
  source: z.string().optional(),
  executionArn: z.string().optional(),
});

/** The last rollback (pk `TRAFFIC`, sk `ROLLBACK`): the automatic rollbacks' cool-down. */
export type RollbackRecord = z.infer<typeof rollbackRecordSchema>;

const shiftLockItem = singleOpsItem(shiftLockKey(), shiftLockSchema, 'shift lock');
const lastShiftItem = singleOpsItem(lastShiftKey(), lastShiftSchema, 'last shift');
const rollbackItem = singleOpsItem(rollbackKey(), rollbackRecordSchema, 'rollback');

export const parseShiftLock = shiftLockItem.parse;
export const parseLastShift = lastShiftItem.parse;
export const parseRollbackRecord = rollbackItem.parse;

/** The last shift, or undefined if none was ever recorded (strongly consistent). */
export const readLastShift = lastShiftItem.read;

/** The last rollback, or undefined. */
export const readRollbackRecord = rollbackItem.read;

/** The shift lock, or undefined when free; an expired lock (TTL not yet applied) counts as free. */
export async function readShiftLock(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  now: Date,
): Promise<ShiftLock | undefined> {
  const lock = await shiftLockItem.read(ddb, tableName);
  return lock && lock.expiresAt * 1000 > now.getTime() ? lock : undefined;
}

/**
 * Takes the shift lock for `executionArn` (or keeps it, if that execution already holds it:
 * a retried task). Throws ShiftInProgressError naming the holder when another execution
 * holds an unexpired lock.
 */
export async function acquireShiftLock(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  lock: { readonly executionArn: string; readonly to: Colour; readonly now: Date },
): Promise<ShiftLock> {
  const item: ShiftLock = {
    executionArn: lock.executionArn,
    to: lock.to,
    acquiredAt: lock.now.toISOString(),
    expiresAt: Math.floor(lock.now.getTime() / 1000) + SHIFT_LOCK_TTL_SECONDS,
  };
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...shiftLockKey(), ...item },
        ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now OR #executionArn = :executionArn',
        ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#executionArn': 'executionArn' },
        ExpressionAttributeValues: {
          ':now': Math.floor(lock.now.getTime() / 1000),
          ':executionArn': lock.executionArn,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      // The holder comes with the failure (ALL_OLD); an engine that leaves it out is asked.
      const old =
        fromAttributeValues((error as { Item?: Record<string, unknown> }).Item) ??
        (await getOpsItem(ddb, tableName, shiftLockKey()).catch(() => undefined));
      throw new ShiftInProgressError(
        typeof old?.executionArn === 'string' ? old.executionArn : undefined,
        typeof old?.acquiredAt === 'string' ? old.acquiredAt : undefined,
      );
    }
    throw error;
  }
  return item;
}

/** Deletes the lock if `executionArn` holds it; false when it did not (already released or another's). */
export async function releaseShiftLock(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  executionArn: string,
): Promise<boolean> {
  return conditionally(
    ddb.send(
      new DeleteCommand({
        TableName: tableName,
        Key: shiftLockKey(),
        ConditionExpression: '#executionArn = :executionArn',
        ExpressionAttributeNames: { '#executionArn': 'executionArn' },
        ExpressionAttributeValues: { ':executionArn': executionArn },
      }),
    ),
  );
}

/**
 * The update marking the shift of `executionArn` rolled back (only if LAST_SHIFT is still that
 * shift: a new shift's record is never overwritten).
 */
export function markRolledBack(
  tableName: string,
  executionArn: string,
  rollback: {
    readonly at: Date;
    readonly by: string;
    readonly reason: string;
    readonly status?: ShiftStatus;
  },
): UpdateCommand {
  return new UpdateCommand({
    TableName: tableName,
    Key: lastShiftKey(),
    UpdateExpression:
      'SET #status = :status, #rolledBackAt = :at, #rolledBackBy = :by, #rollbackReason = :reason',
    ConditionExpression: '#executionArn = :executionArn',
    ExpressionAttributeNames: {
      '#status': 'status',
      '#rolledBackAt': 'rolledBackAt',
      '#rolledBackBy': 'rolledBackBy',
      '#rollbackReason': 'rollbackReason',
      '#executionArn': 'executionArn',
    },
    ExpressionAttributeValues: {
      ':status': rollback.status ?? 'rolled-back',
      ':at': rollback.at.toISOString(),
      ':by': rollback.by,
      ':reason': rollback.reason,
      ':executionArn': executionArn,
    },
  });
}

/** The put of the ROLLBACK record (the cool-down of automatic rollbacks). */
export function rollbackRecordPut(tableName: string, record: RollbackRecord): PutCommand {
  return new PutCommand({ TableName: tableName, Item: { ...rollbackKey(), ...withoutUndefined(record) } });
}
