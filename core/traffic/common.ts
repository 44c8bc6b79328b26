/**
 * What the traffic modules share: the configuration and client types, the errors and the
 * helpers of messages and logs. See ../traffic.ts for the whole.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AutomationError, describeError, InvalidInputError } from '../errors';

export { describeError };

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
// Helpers

let defaultLogger: Logger | undefined;

/** The Powertools logger of service 'traffic', made once. */
export function fallbackLogger(): Logger {
  if (defaultLogger === undefined) defaultLogger = new Logger({ serviceName: 'traffic' });
  return defaultLogger;
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

/** A copy of `record` without its undefined values (top level). */
export function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
