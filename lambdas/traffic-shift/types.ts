/** The traffic shift steps' clients, options, events (zod, one schema per action), results and errors. */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import type { AutomationSettings } from '../../core/automation';
import { AutomationError, parseInput } from '../../core/errors';
import { COLOURS, type Weights } from '../../core/traffic';

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
  return parseInput(shiftEventSchema, event, 'Invalid traffic shift task input');
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
