/**
 * After an automated action acts: its record (pk AUTOMATION_ACTION, sk `<ISO time>#<id>`),
 * which the repeat guard counts and the verifier completes, and the one-time EventBridge
 * Scheduler schedule that delivers the verification `verifyAfterMinutes` later to the verifier
 * Lambda (deleted by the service once it ran).
 *
 * Why a schedule: the acting Lambdas are asynchronous one-shot invocations; waiting in them
 * would bill the wait and die with their timeout, and a Step Functions Wait would put every
 * action behind a state machine. A one-time schedule costs nothing at this volume, keeps the
 * payload typed (checks.ts), retries and dead-letters the delivery, and cleans itself up.
 */

import { CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import type { AutomationSettings } from '../contracts/automation';
import { describeError } from '../errors';
import { OpsTableItemError, shortId } from '../ops-table/items';
import { AUTOMATION_ACTION_PK } from '../ops-table/keys';
import { AUTOMATED_ACTIONS, type AutomatedAction, type Check, type VerificationRequest } from './checks';
import { SEVERITIES, type Severity } from './severity';

/** How long an action record is kept: the longest repeat window, and a month of status. */
const RECORD_RETENTION_SECONDS = 30 * 86_400;

/** The key of an action record. */
export function actionRecordKey(sk: string) {
  return { pk: AUTOMATION_ACTION_PK, sk };
}

/** An action that was carried out. */
export interface Done {
  readonly action: AutomatedAction;
  readonly trigger: string;
  readonly severity: Severity;
  readonly source: string;
  /** What it did, in a sentence. */
  readonly did: string;
  /** How to read its effect back. */
  readonly checks: readonly Check[];
  /** The sort key of the acting Lambda's own audit item, when it has one. */
  readonly auditSk?: string;
}

/** What {@link recordAction} wrote. */
export interface Recorded {
  readonly recordSk: string;
  readonly verifyAt: string;
  readonly scheduleName: string;
  /** False when the verification could not be scheduled (see problems): nobody will check. */
  readonly scheduled: boolean;
  /** What failed, for the action's report. */
  readonly problems: readonly string[];
}

/** The name of the verification schedule of record `id` (letters, digits, - _ . ; at most 64). */
export function verifyScheduleName(source: string, at: Date, id: string): string {
  return `verify-${source}-${Math.floor(at.getTime() / 1000)}-${id}`.slice(0, 64);
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, the one-time schedule expression. */
export function atExpression(at: Date): string {
  return `at(${at.toISOString().slice(0, 19)})`;
}

/**
 * Records the action and schedules its verification, in parallel. Never rejects: the action
 * was done, so a failure here is reported (problems, a sentence for the action's message).
 */
export async function recordAction(
  clients: { readonly ddb: DynamoDBDocumentClient; readonly scheduler: SchedulerClient },
  settings: AutomationSettings,
  done: Done,
  options: { readonly now: Date; readonly id?: string },
): Promise<Recorded> {
  const { now } = options;
  const id = options.id ?? shortId();
  const recordSk = `${now.toISOString()}#${id}`;
  // Whole seconds: the schedule expression has no fractions, and must not fire early.
  const verifyAt = new Date(Math.ceil((now.getTime() + settings.verifyAfterMinutes * 60_000) / 1000) * 1000);
  const scheduleName = verifyScheduleName(done.source, now, id);
  const request: VerificationRequest = {
    kind: 'automation-verify',
    version: 1,
    recordSk,
    environment: settings.environment,
    action: done.action,
    trigger: done.trigger,
    severity: done.severity,
    source: done.source,
    did: done.did,
    actedAt: now.toISOString(),
    verifyAt: verifyAt.toISOString(),
    checks: [...done.checks],
  };
  const { verifier } = settings;
  const [record, schedule] = await Promise.allSettled([
    clients.ddb.send(
      new PutCommand({
        TableName: settings.opsTableName,
        Item: {
          ...actionRecordKey(recordSk),
          action: done.action,
          trigger: done.trigger,
          severity: done.severity,
          source: done.source,
          did: done.did,
          environment: settings.environment,
          actedAt: now.toISOString(),
          verifyAt: verifyAt.toISOString(),
          scheduleName,
          checks: done.checks,
          auditSk: done.auditSk,
          expiresAt: Math.floor(now.getTime() / 1000) + RECORD_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
    (async () => {
      if (verifier === undefined) throw new Error('no verifier is configured (AUTOMATION.verifier)');
      return clients.scheduler.send(
        new CreateScheduleCommand({
          Name: scheduleName,
          GroupName: verifier.scheduleGroup,
          ScheduleExpression: atExpression(verifyAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Description: `Verify ${done.action} for ${done.trigger}`.slice(0, 512),
          // The same name twice is the same schedule (a retried call whose answer was lost).
          ClientToken: scheduleName,
          Target: {
            Arn: verifier.functionArn,
            RoleArn: verifier.roleArn,
            Input: JSON.stringify(request),
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
            DeadLetterConfig: { Arn: verifier.deadLetterQueueArn },
          },
        }),
      );
    })().catch((error: unknown) => {
      // Created by an earlier attempt of this very call.
      if ((error as { name?: unknown }).name === 'ConflictException') return undefined;
      throw error;
    }),
  ]);
  const problems: string[] = [];
  if (record.status === 'rejected') {
    problems.push(`the action record (repeat guard) was not written: ${describeError(record.reason)}`);
  }
  if (schedule.status === 'rejected') {
    problems.push(
      `its verification was NOT scheduled, nobody will check the effect: ${describeError(schedule.reason)}`,
    );
  }
  return {
    recordSk,
    verifyAt: verifyAt.toISOString(),
    scheduleName,
    scheduled: schedule.status === 'fulfilled',
    problems,
  };
}

/** "Verification scheduled for ..." or what failed: the line the action's report carries. */
export function recordedLine(recorded: Recorded): string {
  return recorded.problems.length === 0
    ? `Verification: at ${recorded.verifyAt} the effect is read back; if it is missing, this escalates one severity up.`
    : `WARNING: ${recorded.problems.join('; ')}. Check the effect by hand.`;
}

const verificationSchema = z.object({
  outcome: z.enum(['ok', 'failed']),
  at: z.string(),
  saw: z.array(z.string()),
  escalatedTo: z.enum(SEVERITIES).optional(),
  /** 'pending' until the escalation is published. */
  notice: z.enum(['none', 'pending', 'sent']),
  lateMinutes: z.number().optional(),
});
/** The verifier's outcome on a record. */
export type Verification = z.infer<typeof verificationSchema>;

const recordSchema = z.object({
  sk: z.string(),
  action: z.enum(AUTOMATED_ACTIONS),
  trigger: z.string(),
  severity: z.enum(SEVERITIES),
  source: z.string(),
  did: z.string(),
  actedAt: z.string(),
  verifyAt: z.string(),
  auditSk: z.string().optional(),
  verification: verificationSchema.optional(),
});
/** An action record as stored. */
export type ActionRecord = z.infer<typeof recordSchema>;

/** The record in `item`; OpsTableItemError when malformed. */
export function parseActionRecord(item: Record<string, unknown>): ActionRecord {
  const parsed = recordSchema.safeParse(item);
  if (!parsed.success) {
    throw new OpsTableItemError(
      `Malformed automation action ${String(item.sk)}: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** The newest action records first. */
export async function listActions(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  options: { readonly limit: number },
): Promise<ActionRecord[]> {
  const page = await ddb.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': AUTOMATION_ACTION_PK },
      ScanIndexForward: false,
      Limit: options.limit,
    }),
  );
  return (page.Items ?? []).map(parseActionRecord);
}
