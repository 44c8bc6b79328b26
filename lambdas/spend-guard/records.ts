/**
 * The spend guard's items in the ops table:
 * - `SPEND_ALERT` / `<YYYY-MM>#<budget>#<percent|forecast>`: one per threshold per budget per
 *   month, written with the kill switch's single-item protocol: claimed incomplete (conditional:
 *   never claimed, or left incomplete by an attempt that failed), the action taken, then marked
 *   complete by the claiming attempt only. A threshold recorded complete is never acted on again
 *   that month; an incomplete one is redone by the next run.
 * - `SPEND_GUARD` / `SPEND_UNKNOWN`: the "spend unknown" page last sent (which figures, when), so
 *   that it pages once per problem, reminds while it lasts and says when it cleared.
 */

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { conditionally, parseOpsItem, singleOpsItem } from '../../core/ops-table/items';
import { SPEND_ALERT_PK, SPEND_GUARD_PK, SPEND_UNKNOWN_SK } from '../../core/ops-table/keys';
import type { SpendBudgetId } from '../../core/spend/budgets';

/** Items are kept about 13 months, as the audit trail: a year-on-year look at what fired. */
const RETENTION_DAYS = 400;

/** A threshold of a budget in a month: a percentage, or the month-end projection. */
export type LevelKey = number | 'forecast';

/** The sort key of a threshold record. */
export function levelSk(month: string, budget: SpendBudgetId, level: LevelKey): string {
  return `${month}#${budget}#${level}`;
}

const levelRecordSchema = z.object({
  sk: z.string(),
  complete: z.boolean(),
  attemptId: z.string().optional(),
});

/** The thresholds recorded for `month`: sort key -> complete. */
export async function readLevelRecords(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  month: string,
): Promise<Map<string, boolean>> {
  const records = new Map<string, boolean>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :month)',
        ExpressionAttributeValues: { ':pk': SPEND_ALERT_PK, ':month': `${month}#` },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const record = parseOpsItem(levelRecordSchema, 'spend threshold', item);
      if (record) records.set(record.sk, record.complete);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return records;
}

/** What a claim records about the threshold, for the table's reader and the audit. */
export interface LevelClaim {
  readonly month: string;
  readonly budget: SpendBudgetId;
  readonly level: LevelKey;
  readonly action: string;
  readonly spentUsd: number;
  readonly limitUsd: number;
  /** The figures the spend was computed from. */
  readonly figures: string;
}

/**
 * Claims a threshold for `attemptId`: true when this attempt may act on it, false when another
 * attempt recorded it complete meanwhile.
 */
export async function claimLevel(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  claim: LevelClaim,
  attempt: { readonly id: string; readonly at: Date },
): Promise<boolean> {
  return conditionally(
    ddb.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: SPEND_ALERT_PK,
          sk: levelSk(claim.month, claim.budget, claim.level),
          ...claim,
          level: String(claim.level),
          complete: false,
          attemptId: attempt.id,
          claimedAt: attempt.at.toISOString(),
          expiresAt: Math.floor(attempt.at.getTime() / 1000) + RETENTION_DAYS * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #complete = :false',
        ExpressionAttributeNames: { '#complete': 'complete' },
        ExpressionAttributeValues: { ':false': false },
      }),
    ),
  );
}

/** Marks this attempt's claim complete with its outcome; false when the claim is no longer this attempt's. */
export async function completeLevel(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  claim: Pick<LevelClaim, 'month' | 'budget' | 'level'>,
  attempt: { readonly id: string; readonly at: Date },
  outcome: string,
): Promise<boolean> {
  return conditionally(
    ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: SPEND_ALERT_PK, sk: levelSk(claim.month, claim.budget, claim.level) },
        UpdateExpression: 'SET #complete = :true, #completedAt = :at, #outcome = :outcome',
        ConditionExpression: '#attemptId = :attemptId',
        ExpressionAttributeNames: {
          '#complete': 'complete',
          '#completedAt': 'completedAt',
          '#outcome': 'outcome',
          '#attemptId': 'attemptId',
        },
        ExpressionAttributeValues: {
          ':true': true,
          ':at': attempt.at.toISOString(),
          ':outcome': outcome,
          ':attemptId': attempt.id,
        },
      }),
    ),
  );
}

const unknownStateSchema = z.object({
  /** The figures that could not be read (or were in doubt), sorted: what the page was about. */
  figures: z.array(z.string()),
  since: z.string(),
  lastSentAt: z.string(),
  problems: z.array(z.string()).default([]),
});

/** The "spend unknown" page last sent. */
export type UnknownState = z.infer<typeof unknownStateSchema>;

const unknownKey = { pk: SPEND_GUARD_PK, sk: SPEND_UNKNOWN_SK };

/** The "spend unknown" page last sent, or undefined when none is outstanding. */
export const readUnknownState = singleOpsItem(unknownKey, unknownStateSchema, 'spend unknown state').read;

/** Records the "spend unknown" page just sent (expiring a day after it, like the health check's). */
export async function writeUnknownState(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  state: UnknownState,
): Promise<void> {
  await ddb.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        ...unknownKey,
        ...state,
        expiresAt: Math.floor(Date.parse(state.lastSentAt) / 1000) + 86_400,
      },
    }),
  );
}

/** Forgets the "spend unknown" page (the spend is readable again). */
export async function clearUnknownState(ddb: DynamoDBDocumentClient, tableName: string): Promise<void> {
  await ddb.send(new DeleteCommand({ TableName: tableName, Key: unknownKey }));
}
