/**
 * The hourly limit of a remediation action: one counter item per action and UTC hour whose
 * `holders` string set names the events holding a slot. Taking and giving back are single
 * conditional updates, so the engine, not the caller's memory, decides whether an event holds
 * a slot: a retried take never takes a second slot, a retried refund never gives back twice.
 */

import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionally, isConditionFailure } from '../../core/ops-table/items';

/** Where the counter is and who takes the slot. */
export interface SlotRef {
  readonly tableName: string;
  readonly key: { readonly pk: string; readonly sk: string };
  /** The event id. */
  readonly holder: string;
  /** Epoch seconds: the counter's TTL, set by its first slot. */
  readonly expiresAt: number;
}

/** A slot taken (or already held by this event), with the hour's count; or the limit reached. */
export type Slot = { readonly taken: true; readonly count: number } | { readonly taken: false };

/** Takes a slot for `ref.holder` when the hour has fewer than `max` and it holds none yet. */
export async function takeSlot(ddb: DynamoDBDocumentClient, ref: SlotRef, max: number): Promise<Slot> {
  try {
    const result = await ddb.send(
      new UpdateCommand({
        TableName: ref.tableName,
        Key: ref.key,
        UpdateExpression:
          'SET #expiresAt = if_not_exists(#expiresAt, :expiresAt) ADD #count :one, #holders :holder',
        ConditionExpression:
          '(attribute_not_exists(#count) OR #count < :max) AND NOT contains(#holders, :id)',
        ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt', '#holders': 'holders' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':max': max,
          ':expiresAt': ref.expiresAt,
          ':holder': new Set([ref.holder]),
          ':id': ref.holder,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const count = result.Attributes?.count;
    return { taken: true, count: typeof count === 'number' ? count : 1 };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  // The limit, or a slot this event already holds (a retry after a crash, or after a take
  // whose answer was lost): only the item tells which.
  const { Item } = await ddb.send(
    new GetCommand({ TableName: ref.tableName, Key: ref.key, ConsistentRead: true }),
  );
  const holders = Item?.holders;
  if (holders instanceof Set && holders.has(ref.holder)) {
    const count = Item?.count;
    return { taken: true, count: typeof count === 'number' ? count : 1 };
  }
  return { taken: false };
}

/** Gives back `ref.holder`'s slot; false when it holds none (already given back). */
export async function refundSlot(ddb: DynamoDBDocumentClient, ref: SlotRef): Promise<boolean> {
  return conditionally(
    ddb.send(
      new UpdateCommand({
        TableName: ref.tableName,
        Key: ref.key,
        UpdateExpression: 'ADD #count :minusOne DELETE #holders :holder',
        ConditionExpression: 'contains(#holders, :id)',
        ExpressionAttributeNames: { '#count': 'count', '#holders': 'holders' },
        ExpressionAttributeValues: {
          ':minusOne': -1,
          ':holder': new Set([ref.holder]),
          ':id': ref.holder,
        },
      }),
    ),
  );
}
