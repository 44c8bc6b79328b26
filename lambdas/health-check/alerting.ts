/**
 * What a light check does with its report, so that a problem pages once, not every five minutes.
 *
 * The ops table holds the last problem a light check reported (pk `HEALTH`, sk `LIGHT_ALERT`):
 * which checks did not pass, at what severity, since when and when it last went out. A report
 * with the same problem is held back until `renotifyMinutes` have passed (then it goes again,
 * as a reminder); a different problem (another check, another status, another severity) goes at
 * once; a healthy run after a problem sends one RECOVERED notice and clears the item. The item
 * expires a day after the last notice, so a stale one cannot hold back a page for long.
 *
 * In doubt it pages: when the item cannot be read or is malformed, the report goes out as if
 * there were none.
 */

import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import type { Outcome } from '../../core/health/checks';
import { SEVERITIES, type Severity } from '../../core/health/config';
import { type HealthReport, reportSeverity } from '../../core/health/report';
import { type OpsKey, singleOpsItem } from '../../core/ops-table/items';
import { HEALTH_PK, LIGHT_ALERT_SK } from '../../core/ops-table/keys';

export { HEALTH_PK, LIGHT_ALERT_SK };
/** How long the alert item outlives its last notice. */
export const LIGHT_ALERT_TTL_SECONDS = 24 * 3600;

export function lightAlertKey(): OpsKey {
  return { pk: HEALTH_PK, sk: LIGHT_ALERT_SK };
}

const lightAlertSchema = z.object({
  /** The checks that did not pass, e.g. "errorRate=FAIL,targets=UNKNOWN". */
  problem: z.string().min(1),
  severity: z.enum(SEVERITIES),
  /** When a light check first reported this problem (ISO). */
  since: z.string(),
  /** When it last went out (ISO). */
  notifiedAt: z.string(),
  /** Epoch seconds: DynamoDB's TTL. */
  expiresAt: z.number(),
});

/** The light check's alert state (pk `HEALTH`, sk `LIGHT_ALERT`). */
export type LightAlert = z.infer<typeof lightAlertSchema>;

/** The problem of `report`: its checks that did not pass, with their status, in report order. */
export function problemOf(report: HealthReport): string {
  return report.checks
    .filter((c) => c.status !== 'PASS')
    .map((c) => `${c.name}=${c.status}`)
    .join(',');
}

/** What to do with a light check's report. */
export type LightDecision =
  | {
      readonly action: 'notify';
      /** new: no problem was out; changed: another one was; reminder: the same, long enough ago. */
      readonly reason: 'new' | 'changed' | 'reminder' | 'state-unreadable';
      readonly severity: Severity;
      readonly problem: string;
      /** When this problem was first reported: kept across reminders. */
      readonly since: string;
      readonly previous?: LightAlert;
    }
  | { readonly action: 'hold'; readonly alert: LightAlert }
  | { readonly action: 'recover'; readonly alert: LightAlert }
  | { readonly action: 'silent' };

/**
 * Decides what a light check does with `report`, given the stored alert (or why it could not
 * be read) at `now`.
 */
export function decideLight(
  report: HealthReport,
  stored: Outcome<LightAlert | undefined>,
  now: Date,
  renotifyMinutes: number,
): LightDecision {
  const severity = reportSeverity(report);
  const alert = stored.ok ? stored.value : undefined;
  if (severity === undefined)
    return alert === undefined ? { action: 'silent' } : { action: 'recover', alert };
  const problem = problemOf(report);
  const at = now.toISOString();
  if (!stored.ok) return { action: 'notify', reason: 'state-unreadable', severity, problem, since: at };
  if (alert === undefined) return { action: 'notify', reason: 'new', severity, problem, since: at };
  if (alert.problem !== problem || alert.severity !== severity) {
    return { action: 'notify', reason: 'changed', severity, problem, since: at, previous: alert };
  }
  const due = Date.parse(alert.notifiedAt) + renotifyMinutes * 60_000;
  // An unparseable notifiedAt is NaN: never "not yet due", so the report goes out.
  if (!(now.getTime() < due)) {
    return { action: 'notify', reason: 'reminder', severity, problem, since: alert.since, previous: alert };
  }
  return { action: 'hold', alert };
}

/** The line a notified report starts with, saying why it goes out now. */
export function notifyPreface(
  decision: Extract<LightDecision, { action: 'notify' }>,
  renotifyMinutes: number,
): string {
  switch (decision.reason) {
    case 'reminder':
      return `Still failing since ${decision.since} (reminded every ${renotifyMinutes} min while it lasts).`;
    case 'changed':
      return `Changed: was ${decision.previous?.problem} (${decision.previous?.severity}) since ${decision.previous?.since}.`;
    case 'state-unreadable':
      return 'Could not read whether this was already reported: sent to be safe.';
    case 'new':
      return `New problem; repeated every ${renotifyMinutes} min while it lasts, at once when it changes.`;
  }
}

/** The stored alert, undefined when there is none; throws when unreadable or malformed. */
export const readLightAlert = singleOpsItem(lightAlertKey(), lightAlertSchema, 'light health alert').read;

/** Records that `decision`'s problem went out at `now`. */
export async function recordLightAlert(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  decision: Extract<LightDecision, { action: 'notify' }>,
  now: Date,
): Promise<void> {
  const alert: LightAlert = {
    problem: decision.problem,
    severity: decision.severity,
    since: decision.since,
    notifiedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + LIGHT_ALERT_TTL_SECONDS,
  };
  await ddb.send(new PutCommand({ TableName: tableName, Item: { ...lightAlertKey(), ...alert } }));
}

/** Forgets the stored alert (the problem cleared). */
export async function clearLightAlert(ddb: DynamoDBDocumentClient, tableName: string): Promise<void> {
  await ddb.send(new DeleteCommand({ TableName: tableName, Key: lightAlertKey() }));
}
