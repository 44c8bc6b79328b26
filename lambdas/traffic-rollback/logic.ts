/**
 * Automatic rollback: an alarm whose catalogue response is traffic-rollback (the P0 composite)
 * entering ALARM soon after a traffic shift restores the weights the shift started from
 * (rollbackToLastKnownGood), with a cool-down so it never flaps, and tells the P0 topic what it
 * did or why it did nothing.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { checkBeforeActing, type Gate, recordAction, reportHeld } from '../../core/automation';
import { InvalidInputError } from '../../core/errors';
import { type Notice, tryPublishNotice } from '../../core/notice';
import { getOpsItem, isConditionFailure } from '../../core/ops-table/items';
import { ALARM_EVENT_SK_PREFIX, TRAFFIC_PK } from '../../core/ops-table/keys';
import { describeError, type RollbackResult, rollbackToLastKnownGood } from '../../core/traffic';
import type { AlarmStateChangeEvent } from '../shared/alarm-event';
import { rollbackChecks, rollbackIntent } from './automation';
import type { AutoRollbackConfig } from './config';
import {
  alarmWhy,
  automationUnreadableNotice,
  resultNotice,
  rollbackFailedNotice,
  staleNotice,
  staleReason,
  unknownAlarmNotice,
  unknownAlarmReason,
} from './messages';

export type { AutoRollbackConfig } from './config';

/** The clients of the automatic rollback. */
export interface RollbackClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
  /** Creates the verification schedule of a rollback (core/automation). */
  readonly scheduler: SchedulerClient;
}

/** What the automatic rollback did. */
export type AutoRollbackResult =
  | { readonly outcome: 'ignored'; readonly reason: string }
  /**
   * An alarm with the environment's prefix that the catalogue lacks: nothing done; the topic is
   * told (once per transition).
   */
  | { readonly outcome: 'unknown-alarm'; readonly notified: boolean; readonly reason: string }
  /**
   * This alarm transition was already handled (a duplicate delivery): paged only when its
   * rollback still changed something (the state moved since the first delivery).
   */
  | {
      readonly outcome: 'duplicate';
      readonly reason: string;
      readonly notified: boolean;
      readonly rollback: RollbackResult;
    }
  /** Older than the maximum age: nothing done; a human is paged. */
  | { readonly outcome: 'stale'; readonly notified: boolean; readonly reason: string }
  /** Not acted on: the automation is paused, or the rollback repeats (escalated); paged once. */
  | {
      readonly outcome: 'held';
      readonly held: 'paused' | 'repeated';
      readonly notified: boolean;
      readonly reason: string;
    }
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
  /** @default a Powertools logger of service 'traffic-rollback' */
  readonly logger?: Logger;
}

let defaultLogger: Logger | undefined;

/**
 * Acts on an ALARM transition (previous state not ALARM) of an alarm whose catalogue response is
 * traffic-rollback (ALARM_FACTS, by exact name) only; any other alarm is 'ignored', and one with
 * the environment's prefix that the catalogue lacks is 'unknown-alarm' (nothing done, the topic
 * told). A transition is identified by the alarm and its state time: one already recorded
 * (pk TRAFFIC, sk ALARM_EVENT#...) is a duplicate delivery: it pages only if its (idempotent)
 * rollback still changed something. An
 * event older than `maxEventAgeMinutes` is 'stale': nothing is done and the topic is told so.
 * Otherwise rolls back with the window (measured from the alarm's state time) and cool-down,
 * records the transition (conditionally: of two racing deliveries one pages) and notifies the
 * alert topic of the result (best effort). A failed weights write is notified and rethrown
 * without recording the transition, so Lambda's retry of the event acts again.
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

  const fact = config.alarmFacts.byName(detail.alarmName);
  const unknown = fact === undefined && detail.alarmName.startsWith(config.alarmFacts.namePrefix);
  if (!unknown && fact?.response !== 'traffic-rollback') {
    const reason =
      fact === undefined
        ? `alarm ${detail.alarmName} is not an alarm of ${traffic.environment}`
        : `alarm ${detail.alarmName} does not roll traffic back (its catalogue response is ${fact.response})`;
    logger.info('Alarm event ignored', { reason });
    return { outcome: 'ignored', reason };
  }
  if (detail.state.value !== 'ALARM' || detail.previousState.value === 'ALARM') {
    const reason = `${detail.previousState.value} -> ${detail.state.value} is not a transition into ALARM`;
    logger.info('Alarm event ignored', { reason });
    return { outcome: 'ignored', reason };
  }

  // The transition's own time: the same in every delivery of it, and what the evidence is as old as.
  const stateTime = detail.state.timestamp ?? event.time;
  const alarmAt = parseAlarmTime(stateTime);
  const marker = alarmEventKey(detail.alarmName, stateTime);
  // Told once per transition: only the delivery that records it tells the topic, so a
  // redelivery pages nobody.
  const tellOnce = async (outcome: string, notice: Notice) =>
    (await claim(clients, traffic.opsTable, marker, event, now, outcome, logger)) &&
    notify(clients, traffic.alertTopicArn, logger, notice);

  if (unknown) {
    const facts = { environment: traffic.environment, alarmName: detail.alarmName, stateTime };
    const reason = unknownAlarmReason(facts);
    logger.warn('Alarm not in the catalogue: NO action', { reason });
    const notified = await tellOnce('unknown-alarm', unknownAlarmNotice(facts));
    return { outcome: 'unknown-alarm', notified, reason };
  }
  // Known from here on (an unknown alarm returned above): its catalogue entry's severity.
  const severity = fact?.severity ?? 'P0';
  const why = alarmWhy({ alarmName: detail.alarmName, stateTime, stateReason: detail.state.reason });

  const ageMinutes = (now.getTime() - alarmAt.getTime()) / 60_000;
  if (ageMinutes > config.maxEventAgeMinutes) {
    const facts = {
      environment: traffic.environment,
      why,
      alarmAt,
      now,
      ageMinutes,
      maxEventAgeMinutes: config.maxEventAgeMinutes,
    };
    const reason = staleReason(facts);
    logger.warn('Stale alarm event: not acted on', { reason });
    const notified = await tellOnce('stale', staleNotice(facts));
    return { outcome: 'stale', notified, reason };
  }

  // The pause and the repeat guard (core/automation), before anything changes.
  const intent = rollbackIntent(detail.alarmName, severity);
  let gate: Gate;
  try {
    gate = await checkBeforeActing(clients.ddb, config.automation, intent, { now });
  } catch (error) {
    await notify(
      clients,
      traffic.alertTopicArn,
      logger,
      automationUnreadableNotice({ environment: traffic.environment, why, error: describeError(error) }),
    );
    throw error;
  }
  if (!gate.act) {
    // Paged once per transition, like a stale event.
    const first = await claim(clients, traffic.opsTable, marker, event, now, gate.kind, logger);
    const held = first ? await reportHeld(clients, config.automation, intent, gate, { now }) : undefined;
    logger.warn('Automatic rollback held', { held: gate.kind, reason: gate.summary });
    return { outcome: 'held', held: gate.kind, notified: held?.notified ?? false, reason: gate.summary };
  }

  // A transition already handled: a duplicate delivery. It still goes through the rollback (which
  // changes nothing when the state is as the first delivery left it, and is held by the same
  // window and cool-down) but pages only if it did change something.
  const seen = await getOpsItem(clients.ddb, traffic.opsTable, marker);

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
        alarmAt,
        requireRecentShiftWithin: config.windowMinutes,
        cooldownMinutes: config.cooldownMinutes,
      },
      { logger },
    );
  } catch (error) {
    await notify(
      clients,
      traffic.alertTopicArn,
      logger,
      rollbackFailedNotice({ environment: traffic.environment, why, error: describeError(error) }),
    );
    throw error;
  }

  // Recorded for the repeat guard; the weights and the alarm read back later. Never rejects.
  const recorded =
    result.changed && result.restored !== undefined
      ? await recordAction(
          clients,
          config.automation,
          {
            ...intent,
            did: result.reason,
            checks: rollbackChecks(traffic, detail.alarmName, result.restored),
          },
          { now },
        )
      : undefined;
  // Otherwise only the delivery that records the transition pages: of two racing, one does.
  const first =
    seen === undefined &&
    (await claim(clients, traffic.opsTable, marker, event, now, result.outcome, logger));
  if (!first) {
    const reason = `this transition of ${detail.alarmName} (${stateTime}) was already handled${
      seen === undefined
        ? ' by a delivery racing this one'
        : ` at ${String(seen.handledAt)} (${String(seen.outcome)})`
    }: a duplicate delivery`;
    logger.info('Duplicate alarm event', { reason, changed: result.changed });
    // A racer's change is the one the winner pages about, at the same moment; a later duplicate
    // that still changed the weights found the state moved since: that is news.
    if (seen === undefined || !result.changed) {
      return { outcome: 'duplicate', reason, notified: false, rollback: result };
    }
  }
  const notified = await notify(
    clients,
    traffic.alertTopicArn,
    logger,
    resultNotice({
      environment: traffic.environment,
      why,
      result,
      weightsParameter: traffic.weightsParameter,
      recorded,
    }),
  );
  if (!first) {
    return {
      outcome: 'duplicate',
      reason: 'a duplicate delivery that changed the weights',
      notified,
      rollback: result,
    };
  }
  return { outcome: 'handled', notified, rollback: result };
}

/** How long a transition's record is kept: longer than a dead-letter queue keeps an event (14 days). */
const ALARM_EVENT_RETENTION_SECONDS = 15 * 86_400;

/** The key of the record of one alarm transition. */
export function alarmEventKey(alarmName: string, stateTime: string) {
  return { pk: TRAFFIC_PK, sk: `${ALARM_EVENT_SK_PREFIX}${alarmName}#${stateTime}` };
}

/** The alarm's state-change time ("2026-11-25T04:12:31.146+0000"); InvalidInputError if unreadable. */
export function parseAlarmTime(text: string): Date {
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) {
    throw new InvalidInputError(`Unreadable alarm state time "${text}", NO action taken`);
  }
  return new Date(ms);
}

/**
 * Records that this delivery handled the transition, unless one already did: false when the
 * record exists (a duplicate got there first: it pages, this one must not). Any other failure
 * to record is logged and counts as recorded: a second page beats none.
 */
async function claim(
  clients: Pick<RollbackClients, 'ddb'>,
  tableName: string,
  key: { readonly pk: string; readonly sk: string },
  event: AlarmStateChangeEvent,
  now: Date,
  outcome: string,
  logger: Logger,
): Promise<boolean> {
  try {
    await clients.ddb.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...key,
          eventId: event.id,
          handledAt: now.toISOString(),
          outcome,
          expiresAt: Math.floor(now.getTime() / 1000) + ALARM_EVENT_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    logger.error('Cannot record the handled alarm transition', { error: describeError(error) });
    return true;
  }
}

function notify(
  clients: Pick<RollbackClients, 'sns'>,
  topicArn: string,
  logger: Logger,
  notice: Notice,
): Promise<boolean> {
  return tryPublishNotice(clients.sns, topicArn, notice, (error) =>
    logger.error('Cannot publish the rollback notification', { error: describeError(error) }),
  );
}

export { type AlarmStateChangeEvent, parseAlarmEvent } from '../shared/alarm-event';
