/**
 * The operations table: one DynamoDB table (string keys `pk`/`sk`, TTL attribute `expiresAt`)
 * holding the kill switch state, the audit trail of operational actions and the batch runs.
 *
 * Item collections:
 * - `KILL_SWITCH` / `STATE`: the single kill switch state item ({@link KillSwitchState}).
 * - `AUDIT` / `<ISO timestamp>#<id>`: one item per action ({@link AuditRecord}), expiring.
 * - `BATCH_RUN` / `<startedAt>#<executionName>`: written by the batch state machine
 *   ({@link BatchRun}); read here only.
 * - `HEALTH` / `LIGHT_ALERT`: the problem the light health check last sent (see
 *   health-check/alerting.ts), expiring a day after its last notice.
 */

import { randomBytes } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type TranslateConfig,
} from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { AutomationError } from '../errors';
import { AUDIT_PK, BATCH_RUN_PK, KILL_SWITCH_PK, KILL_SWITCH_SK, OPS_TABLE_KEYS } from './keys';

export { AUDIT_PK, BATCH_RUN_PK, KILL_SWITCH_PK, KILL_SWITCH_SK, OPS_TABLE_KEYS };
/** How long audit items are kept before DynamoDB's TTL removes them: 13 months covers a year-on-year look. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 400;

/**
 * The document client translation the helpers expect: optional attributes left undefined are
 * dropped instead of failing the marshalling.
 */
export const OPS_TABLE_TRANSLATE_CONFIG: TranslateConfig = {
  marshallOptions: { removeUndefinedValues: true },
};

/** The primary key of an item of the operations table. */
export interface OpsKey {
  readonly pk: string;
  readonly sk: string;
}

/** The key of the kill switch state item. */
export function killSwitchKey(): OpsKey {
  return { pk: KILL_SWITCH_PK, sk: KILL_SWITCH_SK };
}

/** The key of an audit item: sorted by time, the id breaks ties. */
export function auditKey(at: Date | string, id: string): OpsKey {
  return { pk: AUDIT_PK, sk: `${typeof at === 'string' ? at : at.toISOString()}#${id}` };
}

/** The key of a batch run record. */
export function batchRunKey(startedAt: string, executionName: string): OpsKey {
  return { pk: BATCH_RUN_PK, sk: `${startedAt}#${executionName}` };
}

/** A short random id (8 hex characters) for audit keys. */
export function shortId(): string {
  return randomBytes(4).toString('hex');
}

/** An item of the table that does not have the shape its collection requires. */
export class OpsTableItemError extends AutomationError {}

/**
 * `item` validated by `schema`, or undefined when there is no item; throws OpsTableItemError
 * naming `what` when it is malformed.
 */
export function parseOpsItem<T>(
  schema: z.ZodType<T>,
  what: string,
  item: Record<string, unknown> | undefined,
): T | undefined {
  if (item === undefined) return undefined;
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    throw new OpsTableItemError(`Malformed ${what} item: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** One item of the table by key (strongly consistent), undefined when absent. */
export async function getOpsItem(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  key: OpsKey,
): Promise<Record<string, unknown> | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return result.Item;
}

/** An item kept under one fixed key (the kill switch state, the shift lock, the pause...). */
export interface SingleOpsItem<T> {
  /** The item validated, undefined when there is none; throws OpsTableItemError when malformed. */
  parse(item: Record<string, unknown> | undefined): T | undefined;
  /** The item read (strongly consistent) and parsed as `parse` does. */
  read(ddb: DynamoDBDocumentClient, tableName: string): Promise<T | undefined>;
}

/** The item at `key` of shape `schema`, named `what` in the error of a malformed one. */
export function singleOpsItem<T>(key: OpsKey, schema: z.ZodType<T>, what: string): SingleOpsItem<T> {
  const parse = (item: Record<string, unknown> | undefined) => parseOpsItem(schema, what, item);
  return { parse, read: async (ddb, tableName) => parse(await getOpsItem(ddb, tableName, key)) };
}

/** Whether `error` is a failed DynamoDB condition (plain write). */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * Awaits a conditional write: true when it landed, false when its condition failed (the item
 * is not as the writer expected, and what is there wins); any other failure is thrown.
 */
export async function conditionally(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Kill switch state

const killSwitchStateSchema = z.object({
  engaged: z.boolean(),
  /**
   * False when some action of the last engagement is known to have failed: the engagement
   * condition then lets a retry engage again (and redo the actions).
   */
  complete: z.boolean(),
  engagedAt: z.string(),
  engagedBy: z.string(),
  reason: z.string(),
  /** 'budget-guard', 'cli', ... */
  source: z.string().optional(),
  budgetName: z.string().optional(),
  actualAmount: z.number().optional(),
  budgetedAmount: z.number().optional(),
  /** The SNS message that engaged it, when a notification did. */
  messageId: z.string().optional(),
  /** The invocation that wrote the item: tells our own landed write from another's. */
  attemptId: z.string().optional(),
  releasedAt: z.string().optional(),
  releasedBy: z.string().optional(),
  releaseReason: z.string().optional(),
});

/** The kill switch state (pk `KILL_SWITCH`, sk `STATE`). */
export type KillSwitchState = z.infer<typeof killSwitchStateSchema>;

/** The item storing `state`. */
export function killSwitchStateItem(state: KillSwitchState): Record<string, unknown> {
  return { ...killSwitchKey(), ...withoutUndefined(state) };
}

/**
 * The condition under which an automatic engagement may write the state item: never written,
 * released, or left incomplete by a failed attempt.
 */
export const KILL_SWITCH_ENGAGE_CONDITION = {
  ConditionExpression: 'attribute_not_exists(pk) OR #engaged = :false OR #complete = :false',
  ExpressionAttributeNames: { '#engaged': 'engaged', '#complete': 'complete' },
  ExpressionAttributeValues: { ':false': false },
};

const killSwitchState = singleOpsItem(killSwitchKey(), killSwitchStateSchema, 'kill switch state');

/** The state stored in `item`, or undefined when there is no item; throws OpsTableItemError when malformed. */
export const parseKillSwitchState = killSwitchState.parse;

/** Reads the kill switch state (strongly consistent); undefined if it was never engaged. */
export const readKillSwitchState = killSwitchState.read;

// ---------------------------------------------------------------------------------------------
// Audit trail

/** Who or what wrote an audit entry. */
export type AuditSource = 'budget-guard' | 'cli' | 'remediation' | (string & {});

/** How the audited action ended. */
export type AuditOutcome = 'ok' | 'partial' | 'failed' | 'skipped';

/** An audit entry, as its writer describes it. */
export interface AuditEntry {
  /** What was done, e.g. 'kill-switch-engage', 'batch-enable', 'batch-disable'. */
  readonly action: string;
  /** The human (IAM principal, user name) or automation that did it. */
  readonly actor: string;
  readonly reason: string;
  readonly source: AuditSource;
  readonly outcome: AuditOutcome;
  /** Free-form figures and identifiers; undefined values are dropped. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly environment: string;
}

/** An audit item as stored (pk `AUDIT`). */
export interface AuditRecord extends AuditEntry {
  readonly pk: typeof AUDIT_PK;
  readonly sk: string;
  /** ISO timestamp of the action. */
  readonly at: string;
  readonly id: string;
  /** Epoch seconds after which DynamoDB's TTL deletes the item. */
  readonly expiresAt: number;
  readonly details: Readonly<Record<string, unknown>>;
}

/** How {@link auditItem} builds its key and expiry. */
export interface AuditItemOptions {
  /** @default a fresh shortId() */
  readonly id?: string;
  /** @default DEFAULT_AUDIT_RETENTION_DAYS */
  readonly retentionDays?: number;
}

/** The stored form of `entry`, timestamped `now`. */
export function auditItem(entry: AuditEntry, now: Date, options: AuditItemOptions = {}): AuditRecord {
  const id = options.id ?? shortId();
  const at = now.toISOString();
  const retentionDays = options.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  return {
    ...auditKey(at, id),
    pk: AUDIT_PK,
    at,
    id,
    action: entry.action,
    actor: entry.actor,
    reason: entry.reason,
    source: entry.source,
    outcome: entry.outcome,
    environment: entry.environment,
    details: withoutUndefined(entry.details ?? {}),
    expiresAt: Math.floor(now.getTime() / 1000) + retentionDays * 86_400,
  };
}

/** Writes one audit entry (never overwriting another) and returns the stored item. */
export async function recordAudit(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  entry: AuditEntry,
  options: AuditItemOptions & { readonly now?: Date } = {},
): Promise<AuditRecord> {
  const item = auditItem(entry, options.now ?? new Date(), options);
  await ddb.send(
    new PutCommand({
      TableName: tableName,
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return item;
}

const auditRecordSchema = z.object({
  pk: z.literal(AUDIT_PK),
  sk: z.string(),
  at: z.string(),
  id: z.string(),
  action: z.string(),
  actor: z.string(),
  reason: z.string(),
  source: z.string(),
  outcome: z.enum(['ok', 'partial', 'failed', 'skipped']),
  details: z.record(z.string(), z.unknown()).default({}),
  environment: z.string(),
  expiresAt: z.number(),
});

/** What {@link listAudit} and {@link listBatchRuns} return and from when. */
export interface ListOptions {
  /** The most items returned (newest first). */
  readonly limit: number;
  /** Only items at or after this time. */
  readonly since?: Date;
}

/** Lists the items of a partition newest first, each validated. */
export type OpsPartitionLister<T> = (
  ddb: DynamoDBDocumentClient,
  tableName: string,
  options: ListOptions,
) => Promise<T[]>;

/** The newest audit entries first; throws OpsTableItemError on an item of another shape. */
export const listAudit: OpsPartitionLister<AuditRecord> = partitionLister(
  AUDIT_PK,
  auditRecordSchema,
  'audit',
);

// ---------------------------------------------------------------------------------------------
// Batch runs (written by the batch state machine)

/** What every batch run record holds; each reader adds the attributes it reads of the rest. */
export const BATCH_RUN_FIELDS = {
  sk: z.string(),
  status: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
};

// Lenient: another system writes these, and a reader must not break on an extra attribute.
const batchRunSchema = z.object({
  ...BATCH_RUN_FIELDS,
  trigger: z.string().optional(),
  executionArn: z.string(),
  stocksProcessed: z.number().optional(),
});

/** A batch run record (pk `BATCH_RUN`, sk `<startedAt>#<executionName>`). */
export type BatchRun = z.infer<typeof batchRunSchema>;

/** The newest batch runs first; throws OpsTableItemError on an item missing a required attribute. */
export const listBatchRuns: OpsPartitionLister<BatchRun> = partitionLister(
  BATCH_RUN_PK,
  batchRunSchema,
  'batch run',
);

/** The lister of partition `pk`, each item of shape `schema`; OpsTableItemError naming `what` otherwise. */
function partitionLister<T>(pk: string, schema: z.ZodType<T>, what: string): OpsPartitionLister<T> {
  return async (ddb, tableName, options) => {
    const items: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: options.since === undefined ? 'pk = :pk' : 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: {
            ':pk': pk,
            ...(options.since === undefined ? {} : { ':since': options.since.toISOString() }),
          },
          ScanIndexForward: false,
          Limit: options.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && items.length < options.limit);
    return items.slice(0, options.limit).map((item) => {
      const parsed = schema.safeParse(item);
      if (!parsed.success) {
        throw new OpsTableItemError(
          `Malformed ${what} item ${String(item.sk)}: ${z.prettifyError(parsed.error)}`,
        );
      }
      return parsed.data;
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * A plain object of a low-level DynamoDB item (`{ engaged: { BOOL: true } }`), as found in a
 * TransactionCanceledException's cancellation reasons, which the document client does not
 * translate. Values already plain are kept as they are.
 */
export function fromAttributeValues(
  item: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (item === undefined) return undefined;
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, fromAttributeValue(value)]));
}

function fromAttributeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  const [tag, ...rest] = Object.keys(v);
  if (tag === undefined || rest.length > 0) return value;
  const inner = v[tag];
  switch (tag) {
    case 'S':
    case 'BOOL':
      return inner;
    case 'N':
      return Number(inner);
    case 'NULL':
      return null;
    case 'SS':
      return new Set(inner as string[]);
    case 'NS':
      return new Set((inner as string[]).map(Number));
    case 'L':
      return (inner as unknown[]).map(fromAttributeValue);
    case 'M':
      return fromAttributeValues(inner as Record<string, unknown>);
    default:
      return value;
  }
}

/** A copy of `record` without undefined values, recursively in plain objects. */
function withoutUndefined<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    out[key] =
      typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
        ? withoutUndefined(value)
        : value;
  }
  return out as T;
}
