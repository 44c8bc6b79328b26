/**
 * Before an automated action acts: the pause and the repeat guard, read in one round. A paused
 * action, or one that already ran `repeat.max` times for the same trigger within
 * `repeat.windowMinutes`, does not act; the caller reports {@link Held.summary} (messages.ts words it) on
 * {@link Held.topicArn} (the trigger's own severity when paused, one severity up when
 * repeating) and audits it, with its own report or with {@link reportHeld}.
 */

import type { SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AutomationSettings } from '../contracts/automation';
import { publishNotice } from '../notice';
import { recordAudit } from '../ops-table/items';
import { AUTOMATION_ACTION_PK } from '../ops-table/keys';
import type { AutomatedAction } from './checks';
import { pausedNotice, repeatedNotice } from './messages';
import { isPaused, type Pause, readPause } from './pause';
import { escalate, type Severity } from './severity';

/** What is about to be done, and why. */
export interface Intent {
  readonly action: AutomatedAction;
  /** What called for it: the alarm's name, or the kill switch's budget. */
  readonly trigger: string;
  readonly severity: Severity;
  /** The acting Lambda, e.g. 'remediation'. */
  readonly source: string;
  /** What it would do, for the message when it does not: "scale blue out from 2 to 3 tasks". */
  readonly wouldDo: string;
}

/** The action may go ahead. */
export interface Proceed {
  readonly act: true;
}

/** The action must not act: paused, or repeating. */
export interface Held {
  readonly act: false;
  readonly kind: 'paused' | 'repeated';
  /** The severity of the report: the trigger's when paused, one up when repeating. */
  readonly severity: Severity;
  readonly topicArn: string;
  readonly subject: string;
  /** What was not done and why, for the report and the audit item. */
  readonly summary: string;
  readonly pause?: Pause;
  /** The same action for the same trigger within the window (repeated). */
  readonly count?: number;
}

export type Gate = Proceed | Held;

/** When and how. */
export interface GateOptions {
  readonly now: Date;
}

/**
 * The pause and the repeat guard, read in parallel; rejects when either cannot be read (the
 * caller's failure path then reports and nothing is done: in doubt, no action).
 */
export async function checkBeforeActing(
  ddb: DynamoDBDocumentClient,
  settings: AutomationSettings,
  intent: Intent,
  options: GateOptions,
): Promise<Gate> {
  const { now } = options;
  const [pause, count] = await Promise.all([
    readPause(ddb, settings.opsTableName),
    countRecentActions(ddb, settings, intent, options),
  ]);
  const { environment } = settings;
  if (pause !== undefined && isPaused(pause, now)) {
    const { subject, message } = pausedNotice({ environment, intent, pause });
    return {
      act: false,
      kind: 'paused',
      severity: intent.severity,
      topicArn: settings.topics[intent.severity],
      subject,
      summary: message,
      pause,
    };
  }
  if (count >= settings.repeat.max) {
    const escalation = escalate(intent.severity);
    const { to } = escalation;
    const { subject, message } = repeatedNotice({
      environment,
      intent,
      count,
      ...settings.repeat,
      ...escalation,
    });
    return {
      act: false,
      kind: 'repeated',
      severity: to,
      topicArn: settings.topics[to],
      subject,
      summary: message,
      count,
    };
  }
  return { act: true };
}

/** How many times `intent.action` ran for `intent.trigger` within the repeat window. */
export async function countRecentActions(
  ddb: DynamoDBDocumentClient,
  settings: AutomationSettings,
  intent: Pick<Intent, 'action' | 'trigger'>,
  options: GateOptions,
): Promise<number> {
  const since = new Date(options.now.getTime() - settings.repeat.windowMinutes * 60_000).toISOString();
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: settings.opsTableName,
        KeyConditionExpression: 'pk = :pk AND sk >= :since',
        FilterExpression: '#trigger = :trigger AND #action = :action',
        ExpressionAttributeNames: { '#trigger': 'trigger', '#action': 'action' },
        ExpressionAttributeValues: {
          ':pk': AUTOMATION_ACTION_PK,
          ':since': since,
          ':trigger': intent.trigger,
          ':action': intent.action,
        },
        Select: 'COUNT',
        ExclusiveStartKey: startKey,
      }),
    );
    count += page?.Count ?? 0;
    startKey = page?.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
}

/**
 * For callers without a report of their own: audits the held action (outcome skipped) and
 * publishes its summary on its topic. Never rejects: returns what failed.
 */
export async function reportHeld(
  clients: { readonly ddb: DynamoDBDocumentClient; readonly sns: SNSClient },
  settings: AutomationSettings,
  intent: Intent,
  held: Held,
  options: GateOptions & { readonly details?: Readonly<Record<string, unknown>> },
): Promise<{ readonly notified: boolean; readonly problems: readonly string[] }> {
  const [audit, publish] = await Promise.allSettled([
    recordAudit(
      clients.ddb,
      settings.opsTableName,
      {
        action: intent.action,
        actor: intent.source,
        reason: held.summary,
        source: intent.source,
        outcome: 'skipped',
        environment: settings.environment,
        details: {
          held: held.kind,
          trigger: intent.trigger,
          severity: intent.severity,
          reportedAt: held.severity,
          pause: held.pause,
          count: held.count,
          ...options.details,
        },
      },
      { now: options.now },
    ),
    publishNotice(clients.sns, held.topicArn, { subject: held.subject, message: held.summary }),
  ]);
  const problems: string[] = [];
  if (audit.status === 'rejected') problems.push(`audit: ${String(audit.reason)}`);
  if (publish.status === 'rejected') problems.push(`publish to ${held.topicArn}: ${String(publish.reason)}`);
  return { notified: publish.status === 'fulfilled', problems };
}
