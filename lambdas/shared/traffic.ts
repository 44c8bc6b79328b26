/**
 * The one implementation of the listener weights: reading them (listener and SSM), writing
 * them (both, in parallel), planning a shift and rolling back to the last known-good weights.
 * The traffic-shift and traffic-rollback Lambdas and the ops CLI all go through here.
 *
 * Weights have ONE source of truth: the SSM StringList `/fa-ai-system/<env>/traffic/weights`
 * ("<blue>,<green>"), which CloudFormation reads at every deploy. A live change therefore
 * writes the listener AND the parameter ({@link writeWeights}); writing only the listener
 * would be undone by the next deploy.
 *
 * Items of the ops table (pk `TRAFFIC`; string keys, TTL attribute `expiresAt`):
 * - sk `SHIFT_LOCK` ({@link ShiftLock}): `{ executionArn, to, acquiredAt, expiresAt }`. One
 *   shift at a time: put only when absent or expired (`attribute_not_exists(pk) OR expiresAt <
 *   :now`, or already held by the same execution, so a retried task is not refused). Removed
 *   by the shift's finish/rollback/abort and by a rollback that stops the shift; `expiresAt`
 *   (epoch seconds, {@link SHIFT_LOCK_TTL_SECONDS} ahead) is the safety net of a shift that
 *   died without cleaning up. The condition checks the expiry itself: TTL deletion is lazy.
 * - sk `LAST_SHIFT` ({@link LastShift}): `{ executionArn, to, from, final?, startedAt,
 *   completedAt?, status, rolledBackAt?, ... }`. `from` is the last known-good weights a
 *   rollback restores. Status 'in-progress' | 'completed' | 'rolled-back' | 'aborted' (an
 *   aborted shift whose weights needed no restoring). Never expires.
 * - sk `ROLLBACK` ({@link RollbackRecord}): `{ at, by, reason, restored, executionArn? }`, the
 *   last rollback: the cool-down of the automatic rollbacks. Never expires.
 * - audit entries (pk `AUDIT`, see ops-table.ts) with source 'traffic-shift' |
 *   'traffic-rollback' | 'cli' and actions 'traffic-shift-start', 'traffic-weights-set',
 *   'traffic-shift-complete', 'traffic-shift-rollback', 'traffic-shift-abort',
 *   'traffic-rollback'.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeListenersCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseFunctionEnv } from './env';
import { AutomationError, InvalidInputError } from './errors';
import { LAST_SHIFT_SK, ROLLBACK_SK, SHIFT_LOCK_SK, TRAFFIC_PK } from './ops-keys';
import {
  AUDIT_PK,
  type AuditOutcome,
  type AuditSource,
  auditItem,
  fromAttributeValues,
  getOpsItem,
  parseOpsItem,
} from './ops-table';
import { type RetryOptions, withRetry } from './retry';

// ---------------------------------------------------------------------------------------------
// Types and configuration

/** The two colours of the service. */
export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

/** Listener weights of the two target groups; percentages (integers 0..100 summing to 100). */
export interface Weights {
  readonly blue: number;
  readonly green: number;
}

/** What the traffic functions act on. */
export interface TrafficConfig {
  readonly listenerArn: string;
  readonly targetGroups: { readonly blue: string; readonly green: string };
  /** The SSM StringList "<blue>,<green>", the source of truth of the weights. */
  readonly weightsParameter: string;
  /** The ops table's name. */
  readonly opsTable: string;
  /** The shift state machine (the CLI starts it; a rollback stops its running execution). */
  readonly shiftStateMachineArn?: string;
  /** Where the Lambdas report; the CLI reports on the terminal. */
  readonly alertTopicArn?: string;
  /** e.g. 'prod'; shown in messages and audit items. */
  readonly environment: string;
}

/** The clients of the weights and the ops table; `sfn` only to stop a running shift. */
export interface TrafficClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  readonly sfn?: SFNClient;
}

/** Injectable retries and logging. */
export interface TrafficOptions {
  /** Retry policy of every AWS call (tests inject a no-op sleep). */
  readonly retry?: RetryOptions;
  /** @default a Powertools logger of service 'traffic' */
  readonly logger?: Logger;
}

/** Alarm names of the shift gates: the P0 composite and each colour's own. */
export interface AlarmNames {
  readonly p0: string;
  readonly blue: readonly string[];
  readonly green: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Weights that are not two integer percentages summing to 100. */
export class InvalidWeightsError extends InvalidInputError {}

/** The listener's default action is not a weighted forward to exactly the blue and green groups. */
export class ListenerNotWeightedError extends AutomationError {}

/** The weights parameter is missing or does not hold "<blue>,<green>". */
export class StoredWeightsInvalidError extends AutomationError {}

/** Another shift holds the lock; `executionArn` names it. */
export class ShiftInProgressError extends AutomationError {
  constructor(
    readonly executionArn: string | undefined,
    readonly acquiredAt: string | undefined,
  ) {
    super(
      `Another traffic shift is in progress: ${executionArn ?? 'an unknown execution'}` +
        `${acquiredAt ? ` (since ${acquiredAt})` : ''}; wait for it to finish or roll it back`,
    );
  }
}

/** What happened to each half of a weights write. */
export interface WriteOutcomes {
  /** 'written' or "ErrorName: message". */
  readonly listener: string;
  readonly parameter: string;
}

/** A weights write that failed; `outcomes` says which half, if any, landed. */
export class WeightsWriteError extends AutomationError {
  constructor(
    message: string,
    readonly weights: Weights,
    readonly outcomes: WriteOutcomes,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One of listener and parameter was written, the other not: they now disagree. */
export class WeightsPartiallyWrittenError extends WeightsWriteError {}

/** Neither the listener nor the parameter was written. */
export class WeightsNotWrittenError extends WeightsWriteError {}

// ---------------------------------------------------------------------------------------------
// Weights

/** "blue 90 / green 10". */
export function formatWeights(weights: Weights): string {
  return `blue ${weights.blue} / green ${weights.green}`;
}

export function weightsEqual(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

export function otherColour(colour: Colour): Colour {
  return colour === 'blue' ? 'green' : 'blue';
}

/**
 * `weights` if they are integers 0..100 summing to 100 (ALB takes 0..999, but percentages
 * are what the SSM parameter, the plans and humans use); InvalidWeightsError naming the value
 * otherwise.
 */
export function validateWeights(weights: Weights): Weights {
  for (const colour of COLOURS) {
    const value = weights[colour];
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      throw new InvalidWeightsError(
        `Invalid ${colour} weight ${String(value)}: weights are integer percentages 0..100`,
      );
    }
  }
  if (weights.blue + weights.green !== 100) {
    throw new InvalidWeightsError(
      `Invalid weights ${weights.blue},${weights.green}: blue + green must be 100 (got ${weights.blue + weights.green})`,
    );
  }
  return { blue: weights.blue, green: weights.green };
}

/** The weights of "<blue>,<green>" (e.g. "90,10"); StoredWeightsInvalidError unless exactly that. */
export function parseWeights(text: string): Weights {
  const match = /^(\d{1,3}),(\d{1,3})$/.exec(text);
  if (!match) {
    throw new StoredWeightsInvalidError(`Weights "${text}" are not "<blue>,<green>" (e.g. "90,10")`);
  }
  try {
    return validateWeights({ blue: Number(match[1]), green: Number(match[2]) });
  } catch (error) {
    throw new StoredWeightsInvalidError(`Weights "${text}": ${(error as Error).message}`, { cause: error });
  }
}

/** How the live weights differ from the stored ones, or undefined when they agree. */
export interface WeightsDrift {
  readonly live: Weights;
  readonly stored: Weights;
  /** "live blue 100 / green 0, stored (source of truth) blue 90 / green 10". */
  readonly description: string;
}

/** The drift between the listener (`live`) and the SSM parameter (`stored`), if any. */
export function weightsDrift(live: Weights, stored: Weights): WeightsDrift | undefined {
  if (weightsEqual(live, stored)) return undefined;
  return {
    live,
    stored,
    description: `live ${formatWeights(live)}, stored (source of truth) ${formatWeights(stored)}`,
  };
}

/** The listener's weights; ListenerNotWeightedError unless its default action is a weighted forward to exactly the two groups. */
export async function readLiveWeights(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
  targetGroups: TrafficConfig['targetGroups'],
  retry?: RetryOptions,
): Promise<Weights> {
  const result = await withRetry(
    () => elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] })),
    retry,
  );
  const listener = result.Listeners?.find((l) => l.ListenerArn === listenerArn) ?? result.Listeners?.[0];
  if (listener === undefined) {
    throw new ListenerNotWeightedError(`Listener ${listenerArn} not found`);
  }
  const forwards = (listener.DefaultActions ?? []).filter((a) => a.Type === 'forward');
  const forward = forwards[0];
  if (forwards.length !== 1 || forward === undefined) {
    throw new ListenerNotWeightedError(
      `Listener ${listenerArn}: the default actions hold ${forwards.length} forward actions, expected 1 ` +
        `(actions: ${(listener.DefaultActions ?? []).map((a) => a.Type).join(', ') || 'none'})`,
    );
  }
  const tuples = forward.ForwardConfig?.TargetGroups ?? [];
  const weightOf = (arn: string): number | undefined => tuples.find((t) => t.TargetGroupArn === arn)?.Weight;
  const blue = weightOf(targetGroups.blue);
  const green = weightOf(targetGroups.green);
  if (tuples.length !== 2 || blue === undefined || green === undefined) {
    const found = tuples.map((t) => `${t.TargetGroupArn ?? '?'}=${t.Weight ?? '?'}`).join(', ');
    throw new ListenerNotWeightedError(
      `Listener ${listenerArn} does not forward to exactly the blue and green target groups with weights ` +
        `(found: ${found || forward.TargetGroupArn || 'no target groups'})`,
    );
  }
  return { blue, green };
}

/** The weights stored in the SSM parameter (the source of truth). */
export async function readStoredWeights(
  ssm: SSMClient,
  parameterName: string,
  retry?: RetryOptions,
): Promise<Weights> {
  let value: string | undefined;
  try {
    const result = await withRetry(() => ssm.send(new GetParameterCommand({ Name: parameterName })), retry);
    value = result.Parameter?.Value;
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ParameterNotFound') {
      throw new StoredWeightsInvalidError(`SSM parameter ${parameterName} does not exist`, { cause: error });
    }
    throw error;
  }
  if (value === undefined) throw new StoredWeightsInvalidError(`SSM parameter ${parameterName} has no value`);
  try {
    return parseWeights(value);
  } catch (error) {
    throw new StoredWeightsInvalidError(`SSM parameter ${parameterName}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Writes `weights` to the listener and to the SSM parameter, in parallel, each retried.
 * Validates first (InvalidWeightsError, nothing written). When a half fails, throws
 * WeightsPartiallyWrittenError (the other landed: listener and parameter disagree) or
 * WeightsNotWrittenError, both carrying the two outcomes; the caller alerts.
 */
export async function writeWeights(
  clients: Pick<TrafficClients, 'elbv2' | 'ssm'>,
  config: Pick<TrafficConfig, 'listenerArn' | 'targetGroups' | 'weightsParameter'>,
  weights: Weights,
  options: Pick<TrafficOptions, 'retry'> = {},
): Promise<Weights> {
  const valid = validateWeights(weights);
  const [listener, parameter] = await Promise.allSettled([
    withRetry(
      () =>
        clients.elbv2.send(
          new ModifyListenerCommand({
            ListenerArn: config.listenerArn,
            DefaultActions: [
              {
                Type: 'forward',
                ForwardConfig: {
                  TargetGroups: [
                    { TargetGroupArn: config.targetGroups.blue, Weight: valid.blue },
                    { TargetGroupArn: config.targetGroups.green, Weight: valid.green },
                  ],
                },
              },
            ],
          }),
        ),
      options.retry,
    ),
    withRetry(
      () =>
        clients.ssm.send(
          new PutParameterCommand({
            Name: config.weightsParameter,
            Value: `${valid.blue},${valid.green}`,
            Type: 'StringList',
            Overwrite: true,
          }),
        ),
      options.retry,
    ),
  ]);
  if (listener.status === 'fulfilled' && parameter.status === 'fulfilled') return valid;
  const outcomes: WriteOutcomes = {
    listener: listener.status === 'fulfilled' ? 'written' : describeError(listener.reason),
    parameter: parameter.status === 'fulfilled' ? 'written' : describeError(parameter.reason),
  };
  const summary =
    `listener ${config.listenerArn}: ${outcomes.listener}; ` +
    `parameter ${config.weightsParameter}: ${outcomes.parameter}`;
  const cause =
    listener.status === 'rejected' ? listener.reason : (parameter as PromiseRejectedResult).reason;
  if (listener.status === 'rejected' && parameter.status === 'rejected') {
    throw new WeightsNotWrittenError(
      `Weights ${formatWeights(valid)} NOT written (${summary})`,
      valid,
      outcomes,
      {
        cause,
      },
    );
  }
  throw new WeightsPartiallyWrittenError(
    `Weights ${formatWeights(valid)} only partly written: listener and parameter now disagree (${summary})`,
    valid,
    outcomes,
    { cause },
  );
}

// ---------------------------------------------------------------------------------------------
// Plans

/** The default steps of a shift: the target colour's weight after each. */
export const DEFAULT_SHIFT_STEPS: readonly number[] = [10, 50, 100];

/** `steps` if strictly increasing integers in 1..100 ending at 100; InvalidInputError naming the value otherwise. */
export function validateSteps(steps: readonly number[]): number[] {
  if (steps.length === 0)
    throw new InvalidInputError('Invalid steps []: give at least one step, ending at 100');
  let previous = 0;
  for (const step of steps) {
    if (!Number.isInteger(step) || step < 1 || step > 100) {
      throw new InvalidInputError(`Invalid step ${String(step)}: steps are integer percentages 1..100`);
    }
    if (step <= previous) {
      throw new InvalidInputError(
        `Invalid step ${step} after ${previous}: steps must be strictly increasing (got ${steps.join(',')})`,
      );
    }
    previous = step;
  }
  if (previous !== 100) {
    throw new InvalidInputError(
      `Invalid last step ${previous}: the steps must end at 100 (got ${steps.join(',')})`,
    );
  }
  return [...steps];
}

/**
 * The weights of each step of a shift to `to`: the target colour gets each step's
 * percentage, the other the rest. Steps the target colour's current share already reaches are
 * skipped (a shift never moves traffic back), so a colour already at 100 gets no step.
 */
export function planShift(
  from: Weights,
  to: Colour,
  steps: readonly number[] = DEFAULT_SHIFT_STEPS,
): Weights[] {
  const valid = validateSteps(steps);
  const total = from.blue + from.green;
  const currentShare = total === 0 ? 0 : (from[to] * 100) / total;
  return valid
    .filter((step) => step > currentShare)
    .map((step) => (to === 'green' ? { blue: 100 - step, green: step } : { blue: step, green: 100 - step }));
}

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

export function parseShiftLock(item: Record<string, unknown> | undefined): ShiftLock | undefined {
  return parseOpsItem(shiftLockSchema, 'shift lock', item);
}
export function parseLastShift(item: Record<string, unknown> | undefined): LastShift | undefined {
  return parseOpsItem(lastShiftSchema, 'last shift', item);
}
export function parseRollbackRecord(item: Record<string, unknown> | undefined): RollbackRecord | undefined {
  return parseOpsItem(rollbackRecordSchema, 'rollback', item);
}

/** The last shift, or undefined if none was ever recorded (strongly consistent). */
export async function readLastShift(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  retry?: RetryOptions,
): Promise<LastShift | undefined> {
  return parseLastShift(await getOpsItem(ddb, tableName, lastShiftKey(), retry));
}

/** The last rollback, or undefined. */
export async function readRollbackRecord(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  retry?: RetryOptions,
): Promise<RollbackRecord | undefined> {
  return parseRollbackRecord(await getOpsItem(ddb, tableName, rollbackKey(), retry));
}

/** The shift lock, or undefined when free; an expired lock (TTL not yet applied) counts as free. */
export async function readShiftLock(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  now: Date,
  retry?: RetryOptions,
): Promise<ShiftLock | undefined> {
  const lock = parseShiftLock(await getOpsItem(ddb, tableName, shiftLockKey(), retry));
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
  retry?: RetryOptions,
): Promise<ShiftLock> {
  const item: ShiftLock = {
    executionArn: lock.executionArn,
    to: lock.to,
    acquiredAt: lock.now.toISOString(),
    expiresAt: Math.floor(lock.now.getTime() / 1000) + SHIFT_LOCK_TTL_SECONDS,
  };
  try {
    await withRetry(
      () =>
        ddb.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...shiftLockKey(), ...item },
            ConditionExpression:
              'attribute_not_exists(pk) OR #expiresAt < :now OR #executionArn = :executionArn',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#executionArn': 'executionArn' },
            ExpressionAttributeValues: {
              ':now': Math.floor(lock.now.getTime() / 1000),
              ':executionArn': lock.executionArn,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      retry,
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      // The holder comes with the failure (ALL_OLD); an engine that leaves it out is asked.
      const old =
        fromAttributeValues((error as { Item?: Record<string, unknown> }).Item) ??
        (await getOpsItem(ddb, tableName, shiftLockKey(), retry).catch(() => undefined));
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
  retry?: RetryOptions,
): Promise<boolean> {
  try {
    await withRetry(
      () =>
        ddb.send(
          new DeleteCommand({
            TableName: tableName,
            Key: shiftLockKey(),
            ConditionExpression: '#executionArn = :executionArn',
            ExpressionAttributeNames: { '#executionArn': 'executionArn' },
            ExpressionAttributeValues: { ':executionArn': executionArn },
          }),
        ),
      retry,
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Whether `error` is a failed DynamoDB condition (plain write). */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
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
  const { retry } = options;
  const { now } = request;

  // Round 1.
  const [lastShiftItem, rollbackItem, live, stored] = await Promise.all([
    getOpsItem(clients.ddb, config.opsTable, lastShiftKey(), retry),
    getOpsItem(clients.ddb, config.opsTable, rollbackKey(), retry),
    readLiveWeights(clients.elbv2, config.listenerArn, config.targetGroups, retry),
    // The stored weights only tell whether the parameter needs repairing: unreadable, it is
    // rewritten anyway.
    readStoredWeights(clients.ssm, config.weightsParameter, retry).catch((error: unknown) => {
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
  if (request.requireRecentShiftWithin !== undefined && lastShift.status !== 'in-progress') {
    const endedAt = lastShift.completedAt ?? lastShift.rolledBackAt ?? lastShift.startedAt;
    const agoMs = now.getTime() - Date.parse(endedAt);
    if (agoMs > request.requireRecentShiftWithin * 60_000) {
      return {
        ...base,
        changed: false,
        outcome: 'outside-window',
        reason:
          `The last shift (to ${lastShift.to}) ended at ${endedAt}, ${Math.round(agoMs / 60_000)} minutes ago, ` +
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
        withRetry(
          () =>
            clients.ddb.send(
              markRolledBack(config.opsTable, lastShift.executionArn, {
                at: now,
                by: request.actor,
                reason: request.reason,
              }),
            ),
          retry,
        ),
    },
    {
      what: 'record ROLLBACK',
      run: () => withRetry(() => clients.ddb.send(rollbackRecordPut(config.opsTable, record)), retry),
    },
    {
      what: 'record the audit entry',
      run: () =>
        withRetry(
          () =>
            clients.ddb.send(
              new PutCommand({
                TableName: config.opsTable,
                Item: audit,
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            ),
          retry,
        ),
    },
  ];
  if (running) {
    const sfn = clients.sfn;
    if (sfn !== undefined) {
      secondary.push({
        what: `stop the shift execution ${lastShift.executionArn}`,
        run: () =>
          withRetry(
            () =>
              sfn.send(
                new StopExecutionCommand({
                  executionArn: lastShift.executionArn,
                  error: 'TrafficRolledBack',
                  cause: `Rolled back by ${request.actor}: ${request.reason}`.slice(0, 32_768),
                }),
              ),
            retry,
          ).catch((error: unknown) => {
            // Already gone: nothing to stop.
            if ((error as { name?: unknown }).name === 'ExecutionDoesNotExist') return undefined;
            throw error;
          }),
      });
    }
    secondary.push({
      what: 'release the shift lock',
      run: () => releaseShiftLock(clients.ddb, config.opsTable, lastShift.executionArn, retry),
    });
  }
  const [written, ...settled] = await Promise.allSettled([
    writeWeights(clients, config, target, { retry }),
    ...secondary.map((action) => action.run()),
  ]);
  const problems: string[] = [];
  settled.forEach((result, i) => {
    const action = secondary[i];
    if (result.status === 'rejected' && action) {
      problems.push(
        isConditionFailure(result.reason) && action.what.startsWith('mark LAST_SHIFT')
          ? 'LAST_SHIFT not marked rolled-back: a new shift was recorded meanwhile'
          : `${action.what}: ${describeError(result.reason)}`,
      );
    }
  });

  if (written.status === 'rejected') {
    // Round 3, only after a failure: the retry must not be held off by this attempt's cool-down.
    logger.error('Rollback: writing the weights failed', { error: describeError(written.reason), problems });
    const writeError = written.reason;
    const outcome: AuditOutcome = writeError instanceof WeightsPartiallyWrittenError ? 'partial' : 'failed';
    await Promise.allSettled([
      withRetry((): Promise<unknown> => {
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
      }, retry),
      withRetry(
        () =>
          clients.ddb.send(
            new UpdateCommand({
              TableName: config.opsTable,
              Key: { pk: AUDIT_PK, sk: audit.sk },
              UpdateExpression: 'SET #outcome = :outcome, #details.#error = :error',
              ExpressionAttributeNames: { '#outcome': 'outcome', '#details': 'details', '#error': 'error' },
              ExpressionAttributeValues: { ':outcome': outcome, ':error': describeError(writeError) },
            }),
          ),
        retry,
      ),
    ]).then((results) => {
      for (const r of results) {
        if (r.status === 'rejected') {
          logger.error('Cannot undo the rollback records', { error: describeError(r.reason) });
        }
      }
    });
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

// ---------------------------------------------------------------------------------------------
// Configuration from the environment

// Empty means unset: an optional setting left blank in a deployment arrives as "".
function emptyToUndefined(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

const required = z.string().trim().min(1);
const arn = required.startsWith('arn:', 'must be an ARN');

const alarmNamesSchema = z.object({
  p0: required,
  blue: z.array(required),
  green: z.array(required),
});

const trafficEnvSchema = z.object({
  ENVIRONMENT: required,
  LISTENER_ARN: arn,
  BLUE_TARGET_GROUP_ARN: arn,
  GREEN_TARGET_GROUP_ARN: arn,
  WEIGHTS_PARAMETER: required.startsWith('/', 'must be an SSM parameter name starting with /'),
  OPS_TABLE_NAME: required,
  ALERT_TOPIC_ARN: arn,
  ALARMS_JSON: required
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(alarmNamesSchema),
  SHIFT_STATE_MACHINE_ARN: z.preprocess(emptyToUndefined, arn.optional()),
});

/** The configuration shared by the traffic Lambdas. */
export interface TrafficFunctionConfig {
  readonly traffic: TrafficConfig & { readonly alertTopicArn: string };
  readonly alarms: AlarmNames;
}

/**
 * The traffic Lambdas' configuration from ENVIRONMENT, LISTENER_ARN, BLUE_TARGET_GROUP_ARN,
 * GREEN_TARGET_GROUP_ARN, WEIGHTS_PARAMETER, OPS_TABLE_NAME, ALERT_TOPIC_ARN, ALARMS_JSON
 * (`{"p0": "...", "blue": ["..."], "green": ["..."]}`) and the optional
 * SHIFT_STATE_MACHINE_ARN. Throws InvalidInputError naming every bad variable.
 */
export function trafficConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): TrafficFunctionConfig {
  const e = parseFunctionEnv(trafficEnvSchema, env);
  return {
    traffic: {
      environment: e.ENVIRONMENT,
      listenerArn: e.LISTENER_ARN,
      targetGroups: { blue: e.BLUE_TARGET_GROUP_ARN, green: e.GREEN_TARGET_GROUP_ARN },
      weightsParameter: e.WEIGHTS_PARAMETER,
      opsTable: e.OPS_TABLE_NAME,
      alertTopicArn: e.ALERT_TOPIC_ARN,
      shiftStateMachineArn: e.SHIFT_STATE_MACHINE_ARN,
    },
    alarms: e.ALARMS_JSON,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

let defaultLogger: Logger | undefined;

function fallbackLogger(): Logger {
  if (defaultLogger === undefined) defaultLogger = new Logger({ serviceName: 'traffic' });
  return defaultLogger;
}

/** "ErrorName: message" of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * A readable "Error: message" from Step Functions' error and cause; a Lambda error's cause is
 * the JSON `{"errorType", "errorMessage", "trace"}`.
 */
export function describeCause(error: string | null | undefined, cause: string | null | undefined): string {
  let text = cause ?? '';
  try {
    const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') {
      text = `${typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : ''}${parsed.errorMessage}`;
    }
  } catch {
    // Not JSON: the cause as written.
  }
  const parts = [error, text].filter((p): p is string => typeof p === 'string' && p !== '');
  if (parts.length === 2 && text.startsWith(`${error}:`)) return text;
  return parts.join(': ') || 'unknown error';
}

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, ' ');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
