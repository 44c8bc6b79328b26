/**
 * The verifier: delivered by the one-time schedule an automated action created
 * (core/automation/record.ts), it reads the action's effect back (checks.ts) and writes the
 * outcome once to the action's record (pk AUTOMATION_ACTION). When the effect is missing it
 * escalates one severity up (P3 -> P2 -> P1 -> P0; P0 stays P0, saying so) with what was done
 * and what it saw.
 *
 * Idempotent: the outcome is a conditional write (`attribute_not_exists(verification)`), so of
 * duplicate or racing deliveries one verifies and reports; the escalation is marked 'pending'
 * until published, so the retry of a delivery whose publish failed publishes it (a second page
 * beats none). A late delivery verifies all the same and says how late it is.
 */

import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { VerificationRequest } from '../../core/automation/checks';
import { actionRecordKey, type Verification } from '../../core/automation/record';
import { escalate, type Severity } from '../../core/automation/severity';
import type { AutomationSettings } from '../../core/contracts/automation';
import { AutomationError, describeError } from '../../core/errors';
import { publishNotice } from '../../core/notice';
import { getOpsItem, isConditionFailure, recordAudit } from '../../core/ops-table/items';
import { type CheckClients, type Observation, observe } from './checks';
import { escalationNotice } from './messages';

/** The verifier's clients. */
export interface VerifyClients extends CheckClients {
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  readonly sns: SNSClient;
}

/** Injectable time, retries and logging. */
export interface VerifyOptions {
  /** @default () => new Date() */
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** What the verifier did. */
export type VerifyResult =
  | {
      readonly outcome: 'ok' | 'failed';
      readonly saw: readonly string[];
      /** Set when failed: the severity the escalation went to. */
      readonly escalatedTo?: Severity;
      readonly lateMinutes?: number;
    }
  /** Already verified by another delivery: nothing read or sent again (unless its escalation was still pending). */
  | { readonly outcome: 'duplicate'; readonly republished: boolean; readonly previous: Verification };

/** The escalation could not be published: thrown so that the delivery is retried (it stays pending). */
export class EscalationNotSentError extends AutomationError {}

/** A delivery later than this is reported as late. */
const LATE_AFTER_MINUTES = 5;

let defaultLogger: Logger | undefined;

/** Verifies one action (see the module comment). */
export async function verifyAction(
  clients: VerifyClients,
  settings: AutomationSettings,
  request: VerificationRequest,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  defaultLogger ??= options.logger ?? new Logger({ serviceName: 'automation-verify' });
  const logger = options.logger ?? defaultLogger;
  const now = (options.now ?? (() => new Date()))();
  const key = actionRecordKey(request.recordSk);
  const table = settings.opsTableName;

  const item = await getOpsItem(clients.ddb, table, key);
  const previous = item?.verification as Verification | undefined;
  if (previous !== undefined) return duplicate(clients, settings, request, previous, options, logger);

  const observations: Observation[] = await Promise.all(request.checks.map((c) => observe(clients, c)));
  const failed = observations.some((o) => !o.ok);
  const lateMs = now.getTime() - Date.parse(request.verifyAt);
  const lateMinutes = lateMs > LATE_AFTER_MINUTES * 60_000 ? Math.round(lateMs / 60_000) : undefined;
  const verification: Verification = {
    outcome: failed ? 'failed' : 'ok',
    at: now.toISOString(),
    saw: observations.map((o) => `${o.ok ? 'OK' : 'MISSING'}: ${o.saw}`),
    escalatedTo: failed ? escalate(request.severity).to : undefined,
    notice: failed ? 'pending' : 'none',
    lateMinutes,
  };

  // Names this invocation's write: when the write lands but its answer is lost (a timeout), the
  // SDK's retry of it meets its own outcome, which is no racing delivery's: it goes on to report.
  const writer = randomUUID();
  try {
    await (item === undefined
      ? // The acting Lambda could not write its record: the request carries all of it.
        clients.ddb.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...key,
              ...recordOf(request),
              verification: withoutUndefined(verification),
              verifiedBy: writer,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR verifiedBy = :writer',
            ExpressionAttributeValues: { ':writer': writer },
          }),
        )
      : clients.ddb.send(
          new UpdateCommand({
            TableName: table,
            Key: key,
            UpdateExpression: 'SET #verification = :verification, #verifiedBy = :writer',
            ConditionExpression: 'attribute_not_exists(#verification) OR #verifiedBy = :writer',
            ExpressionAttributeNames: { '#verification': 'verification', '#verifiedBy': 'verifiedBy' },
            ExpressionAttributeValues: { ':verification': withoutUndefined(verification), ':writer': writer },
          }),
        ));
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // A racing delivery verified first: it reports.
    const raced = (await getOpsItem(clients.ddb, table, key))?.verification as Verification | undefined;
    logger.info('Verified by a racing delivery', { recordSk: request.recordSk });
    return { outcome: 'duplicate', republished: false, previous: raced ?? verification };
  }

  logger.info('Automated action verified', {
    recordSk: request.recordSk,
    action: request.action,
    trigger: request.trigger,
    outcome: verification.outcome,
    saw: verification.saw,
    lateMinutes,
  });
  // The unified audit trail (`ops remediation log`) shows the verification as well; best effort.
  await recordAudit(
    clients.ddb,
    table,
    {
      action: 'automation-verify',
      actor: 'automation-verify',
      reason: `${request.action} for ${request.trigger}: ${verification.outcome === 'ok' ? 'effect confirmed' : 'effect MISSING, escalated'}`,
      source: 'automation-verify',
      outcome: failed ? 'failed' : 'ok',
      environment: settings.environment,
      details: {
        recordSk: request.recordSk,
        verifiedAction: request.action,
        trigger: request.trigger,
        did: request.did,
        saw: verification.saw,
        escalatedTo: verification.escalatedTo,
        lateMinutes,
      },
    },
    { now },
  ).catch((error: unknown) => logger.error('Cannot audit the verification', { error: describeError(error) }));

  if (failed) await sendEscalation(clients, settings, request, verification, options);
  return {
    outcome: verification.outcome,
    saw: verification.saw,
    escalatedTo: verification.escalatedTo,
    lateMinutes,
  };
}

async function duplicate(
  clients: VerifyClients,
  settings: AutomationSettings,
  request: VerificationRequest,
  previous: Verification,
  options: VerifyOptions,
  logger: Logger,
): Promise<VerifyResult> {
  if (previous.notice === 'pending') {
    logger.warn('Verification already written, its escalation still pending: publishing it', {
      recordSk: request.recordSk,
    });
    await sendEscalation(clients, settings, request, previous, options);
    return { outcome: 'duplicate', republished: true, previous };
  }
  logger.info('Already verified: a duplicate delivery, nothing done', { recordSk: request.recordSk });
  return { outcome: 'duplicate', republished: false, previous };
}

/** Publishes the escalation, then marks it sent; EscalationNotSentError when the publish fails. */
async function sendEscalation(
  clients: VerifyClients,
  settings: AutomationSettings,
  request: VerificationRequest,
  verification: Verification,
  options: VerifyOptions,
): Promise<void> {
  const { to, capped } = escalate(request.severity);
  const topicArn = settings.topics[to];
  try {
    await publishNotice(
      clients.sns,
      topicArn,
      escalationNotice({ environment: settings.environment, request, verification, to, capped }),
    );
  } catch (error) {
    throw new EscalationNotSentError(
      `The escalation of ${request.recordSk} to ${to} could not be published: ${describeError(error)}`,
      { cause: error },
    );
  }
  await clients.ddb
    .send(
      new UpdateCommand({
        TableName: settings.opsTableName,
        Key: actionRecordKey(request.recordSk),
        UpdateExpression: 'SET #verification.#notice = :sent',
        ExpressionAttributeNames: { '#verification': 'verification', '#notice': 'notice' },
        ExpressionAttributeValues: { ':sent': 'sent' },
      }),
    )
    .catch((error: unknown) => {
      // Published: a retry would page again, which is the lesser harm; only logged.
      (options.logger ?? defaultLogger)?.warn('Cannot mark the escalation sent', {
        error: describeError(error),
      });
    });
}

function recordOf(request: VerificationRequest): Record<string, unknown> {
  return {
    action: request.action,
    trigger: request.trigger,
    severity: request.severity,
    source: request.source,
    did: request.did,
    environment: request.environment,
    actedAt: request.actedAt,
    verifyAt: request.verifyAt,
    checks: request.checks,
    expiresAt: Math.floor(Date.parse(request.actedAt) / 1000) + 30 * 86_400,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
