/**
 * Automatic rollback: the P0 composite alarm entering ALARM soon after a traffic shift restores
 * the weights the shift started from (rollbackToLastKnownGood), with a cool-down so it never
 * flaps, and tells the P0 topic what it did or why it did nothing.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import type { AlarmStateChangeEvent } from '../shared/alarm-event';
import { parseFunctionEnv } from '../shared/env';
import { type RetryOptions, withRetry } from '../shared/retry';
import {
  describeError,
  formatWeights,
  type RollbackResult,
  rollbackToLastKnownGood,
  snsSubject,
  type TrafficFunctionConfig,
  trafficConfigFromEnv,
} from '../shared/traffic';

/** The clients of the automatic rollback. */
export interface RollbackClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
}

/** The traffic configuration plus the window and cool-down. */
export interface AutoRollbackConfig extends TrafficFunctionConfig {
  /** Only a shift in progress or ended at most this many minutes ago is rolled back. */
  readonly windowMinutes: number;
  /** No automatic rollback within this many minutes of the last rollback. */
  readonly cooldownMinutes: number;
}

// Empty means unset: an optional setting left blank in a deployment arrives as "".
function emptyToUndefined(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

const minutesSchema = (fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(fallback),
  );

const windowEnvSchema = z.object({
  ROLLBACK_WINDOW_MINUTES: minutesSchema(60),
  ROLLBACK_COOLDOWN_MINUTES: minutesSchema(30),
});

/**
 * The configuration from the traffic variables (see trafficConfigFromEnv) plus
 * ROLLBACK_WINDOW_MINUTES (default 60) and ROLLBACK_COOLDOWN_MINUTES (default 30).
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): AutoRollbackConfig {
  const base = trafficConfigFromEnv(env);
  const windows = parseFunctionEnv(windowEnvSchema, env);
  return {
    ...base,
    windowMinutes: windows.ROLLBACK_WINDOW_MINUTES,
    cooldownMinutes: windows.ROLLBACK_COOLDOWN_MINUTES,
  };
}

/** What the automatic rollback did. */
export type AutoRollbackResult =
  | { readonly outcome: 'ignored'; readonly reason: string }
  | {
      readonly outcome: 'handled';
      /** Whether the alert topic was told. */
      readonly notified: boolean;
      readonly rollback: RollbackResult;
    };

/** Injectable time, retries and logging. */
export interface AutoRollbackOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
  readonly retry?: RetryOptions;
  /** @default a Powertools logger of service 'traffic-rollback' */
  readonly logger?: Logger;
}

let defaultLogger: Logger | undefined;

/**
 * Acts on an ALARM transition (previous state not ALARM) of the P0 alarm only; anything else is
 * 'ignored'. Rolls back with the window and cool-down, then notifies the alert topic of the
 * result (best effort). A failed weights write is notified, then rethrown (Lambda retries the
 * event: the rollback is idempotent).
 */
export async function handleAlarmEvent(
  clients: RollbackClients,
  config: AutoRollbackConfig,
  event: AlarmStateChangeEvent,
  options: AutoRollbackOptions = {},
): Promise<AutoRollbackResult> {
  if (options.logger === undefined && defaultLogger === undefined) {
    defaultLogger = new Logger({ serviceName: 'traffic-rollback' });
  }
  const logger = options.logger ?? (defaultLogger as Logger);
  const now = (options.now ?? (() => new Date()))();
  const { detail } = event;
  const { traffic } = config;

  if (detail.alarmName !== config.alarms.p0) {
    const reason = `alarm ${detail.alarmName} is not the P0 alarm ${config.alarms.p0}`;
    logger.info('Alarm event ignored', { reason });
    return { outcome: 'ignored', reason };
  }
  if (detail.state.value !== 'ALARM' || detail.previousState.value === 'ALARM') {
    const reason = `${detail.previousState.value} -> ${detail.state.value} is not a transition into ALARM`;
    logger.info('Alarm event ignored', { reason });
    return { outcome: 'ignored', reason };
  }

  const why = `P0 alarm ${detail.alarmName} in ALARM since ${detail.state.timestamp ?? event.time}${
    detail.state.reason ? `: ${detail.state.reason}` : ''
  }`;
  let result: RollbackResult;
  try {
    result = await rollbackToLastKnownGood(
      clients,
      traffic,
      {
        actor: 'traffic-rollback',
        reason: why,
        source: 'traffic-rollback',
        now,
        requireRecentShiftWithin: config.windowMinutes,
        cooldownMinutes: config.cooldownMinutes,
      },
      { retry: options.retry, logger },
    );
  } catch (error) {
    await notify(clients, traffic.alertTopicArn, logger, options.retry, {
      subject: `[${traffic.environment}] Automatic traffic rollback FAILED`,
      message: [
        `The P0 alarm fired (${why}) and the automatic rollback (${traffic.environment}) FAILED:`,
        describeError(error),
        '',
        'Lambda retries the event; if this repeats, run `npm run ops -- rollback` and check `npm run ops -- weights`.',
      ].join('\n'),
    });
    throw error;
  }

  const lines = [
    result.changed
      ? `The P0 alarm fired and the traffic was rolled back automatically (${traffic.environment}).`
      : `The P0 alarm fired; the automatic rollback changed nothing (${traffic.environment}).`,
    '',
    `Alarm: ${why}.`,
    `${result.changed ? 'Done' : 'Why nothing'}: ${result.reason}.`,
  ];
  if (result.stoppedExecution) lines.push(`Stopped the running shift: ${result.stoppedExecution}.`);
  if (result.problems.length > 0) {
    lines.push('', 'These follow-up actions failed:', ...result.problems.map((p) => `- ${p}`));
  }
  lines.push(
    '',
    result.changed
      ? `Weights now ${formatWeights(result.restored ?? result.previous ?? { blue: 0, green: 0 })} on the listener and in ${traffic.weightsParameter}. Check: \`npm run ops -- weights\`.`
      : result.outcome === 'already-rolled-back' || result.outcome === 'no-shift-recorded'
        ? 'The alarm is not caused by a traffic shift still in effect: follow the P0 runbook.'
        : 'To roll back anyway: `npm run ops -- rollback`.',
  );
  const notified = await notify(clients, traffic.alertTopicArn, logger, options.retry, {
    subject: result.changed
      ? `[${traffic.environment}] P0: traffic rolled back to ${formatWeights(result.restored ?? { blue: 0, green: 0 })}`
      : `[${traffic.environment}] P0: automatic rollback did nothing (${result.outcome})`,
    message: lines.join('\n'),
  });
  return { outcome: 'handled', notified, rollback: result };
}

async function notify(
  clients: Pick<RollbackClients, 'sns'>,
  topicArn: string,
  logger: Logger,
  retry: RetryOptions | undefined,
  message: { readonly subject: string; readonly message: string },
): Promise<boolean> {
  try {
    await withRetry(
      () =>
        clients.sns.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: snsSubject(message.subject),
            Message: message.message,
          }),
        ),
      retry,
    );
    return true;
  } catch (error) {
    logger.error('Cannot publish the rollback notification', { error: describeError(error) });
    return false;
  }
}

export { type AlarmStateChangeEvent, parseAlarmEvent } from '../shared/alarm-event';
