/**
 * An alarm of the environment (its name has the environment's prefix) that the alarm catalogue
 * does not know: it was made outside the catalogue, so nothing says what it means or what to do.
 * Remediation does nothing and tells UNKNOWN_ALARM_SEVERITY's topic, once per event: the
 * event's marker (REMEDIATION_EVENT / <event id>, as for remediations) is put first, so a
 * duplicate delivery tells nobody again; a failed notice marks it failed, so Lambda's retry
 * tells again.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UNKNOWN_ALARM_SEVERITY } from '../../core/alarms/facts';
import type { Severity } from '../../core/alarms/vocabulary';
import { AutomationError, describeError } from '../../core/errors';
import { publishNotice } from '../../core/notice';
import { isConditionFailure } from '../../core/ops-table/items';
import { REMEDIATION_EVENT_PK } from '../../core/ops-table/keys';
import type { AlarmStateChangeEvent } from '../shared/alarm-event';
import type { RemediationConfig } from './config';
import { unknownAlarmNotice, unknownAlarmReason } from './messages';

/** An alarm the catalogue does not know: nothing done; a human told (unless a duplicate). */
export interface UnknownAlarmResult {
  readonly eventId: string;
  readonly alarmName: string;
  readonly outcome: 'unknown-alarm';
  /** The topic told. */
  readonly severity: Severity;
  readonly reason: string;
  /** False for a duplicate delivery of an event already told. */
  readonly notified: boolean;
}

/** The notice about an unknown alarm could not be sent: thrown so that Lambda retries it. */
export class UnknownAlarmNoticeError extends AutomationError {}

/** How long the marker is kept (as a remediation's: redeliveries come within hours). */
const MARKER_TTL_SECONDS = 86_400;

/** Does nothing about `event`'s unknown alarm and says so to UNKNOWN_ALARM_SEVERITY's topic. */
export async function reportUnknownAlarm(
  clients: { readonly sns: SNSClient; readonly ddb: DynamoDBDocumentClient },
  config: Pick<RemediationConfig, 'environment' | 'opsTableName' | 'topicArns' | 'alarmFacts'>,
  event: AlarmStateChangeEvent,
  run: { readonly now: Date; readonly logger: Logger },
): Promise<UnknownAlarmResult> {
  const { alarmName } = event.detail;
  const severity = UNKNOWN_ALARM_SEVERITY;
  const key = { pk: REMEDIATION_EVENT_PK, sk: event.id };
  const result = (notified: boolean, reason: string): UnknownAlarmResult => ({
    eventId: event.id,
    alarmName,
    outcome: 'unknown-alarm',
    severity,
    reason,
    notified,
  });
  const facts = {
    environment: config.environment,
    severity,
    namePrefix: config.alarmFacts.namePrefix,
    event,
  };
  const reason = unknownAlarmReason(facts);

  try {
    await clients.ddb.send(
      new PutCommand({
        TableName: config.opsTableName,
        Item: {
          ...key,
          status: 'done',
          alarm: alarmName,
          outcome: 'unknown-alarm',
          claimedAt: run.now.toISOString(),
          expiresAt: Math.floor(run.now.getTime() / 1000) + MARKER_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :failed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed' },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      run.logger.info('Duplicate event of an unknown alarm: told already', { alarmName, eventId: event.id });
      return result(false, `${reason}; event ${event.id} was told already (a duplicate delivery)`);
    }
    // In doubt, tell: a second notice beats none.
    run.logger.warn('Cannot record the unknown alarm event', { error: describeError(error) });
  }

  run.logger.warn('Alarm not in the catalogue: NO action', { alarmName, reason });
  const topicArn = config.topicArns[severity];
  try {
    await publishNotice(clients.sns, topicArn, unknownAlarmNotice(facts));
  } catch (error) {
    await clients.ddb
      .send(
        new UpdateCommand({
          TableName: config.opsTableName,
          Key: key,
          UpdateExpression: 'SET #status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': 'failed' },
        }),
      )
      .catch((markError: unknown) =>
        run.logger.warn('Cannot mark the unknown alarm event failed', { error: describeError(markError) }),
      );
    throw new UnknownAlarmNoticeError(
      `Could not tell ${topicArn} about the unknown alarm ${alarmName}: ${describeError(error)}`,
      { cause: error },
    );
  }
  return result(true, reason);
}
