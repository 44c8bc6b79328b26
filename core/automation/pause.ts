/**
 * The pause of the automation: one item of the ops table (pk AUTOMATION, sk PAUSE) with the
 * reason, the end (required, at most {@link MAX_PAUSE_DAYS} ahead), who and when. Every
 * automated action reads it before it acts ({@link isPaused}); only the ops CLI writes it, and
 * each pause and resume is audited. An expired pause is no pause: nothing has to remove it.
 */

import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { type AuditRecord, recordAudit, singleOpsItem } from '../ops-table/items';
import { AUTOMATION_PAUSE_SK, AUTOMATION_PK } from '../ops-table/keys';

/** The longest pause: a freeze longer than a week is a decision to turn automation off in config. */
export const MAX_PAUSE_DAYS = 7;
const MAX_PAUSE_MS = MAX_PAUSE_DAYS * 86_400_000;
/** How long an ended pause item stays readable (status shows the last one). */
const ENDED_PAUSE_KEPT_SECONDS = 30 * 86_400;

/** The key of the pause item. */
export function pauseKey() {
  return { pk: AUTOMATION_PK, sk: AUTOMATION_PAUSE_SK };
}

const pauseSchema = z.object({
  reason: z.string().min(1),
  until: z.iso.datetime(),
  by: z.string().min(1),
  at: z.iso.datetime(),
});

/** The stored pause. */
export type Pause = z.infer<typeof pauseSchema>;

/** Whether `pause` holds the automation at `now` (an expired one does not). */
export function isPaused(pause: Pause | undefined, now: Date): boolean {
  return pause !== undefined && Date.parse(pause.until) > now.getTime();
}

/** The pause item, or undefined; OpsTableItemError when malformed. */
export const readPause = singleOpsItem(pauseKey(), pauseSchema, 'automation pause').read;

/** "paused by alice at ... until ...: change freeze". */
export function describePause(pause: Pause): string {
  return `paused by ${pause.by} at ${pause.at} until ${pause.until}: ${pause.reason}`;
}

/** A bad --until: the message says what was expected. */
export class InvalidPauseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPauseError';
  }
}

const DURATION = /^(\d+)([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The end of a pause from an ISO time (with its zone, e.g. 2026-11-26T18:00Z) or a duration from
 * `now` (30m, 2h, 3d); InvalidPauseError unless it is in the future and at most MAX_PAUSE_DAYS
 * ahead.
 */
export function pauseUntil(text: string, now: Date): Date {
  const trimmed = text.trim();
  const match = DURATION.exec(trimmed);
  let until: Date;
  if (match) {
    until = new Date(now.getTime() + Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  } else if (z.iso.datetime({ offset: true, local: false }).safeParse(trimmed).success) {
    until = new Date(trimmed);
  } else {
    throw new InvalidPauseError(
      `expected an ISO time with its zone (e.g. 2026-11-26T18:00:00Z) or a duration (30m, 2h, 3d)`,
    );
  }
  if (until.getTime() <= now.getTime()) {
    throw new InvalidPauseError(`${until.toISOString()} is not in the future (now ${now.toISOString()})`);
  }
  if (until.getTime() - now.getTime() > MAX_PAUSE_MS) {
    throw new InvalidPauseError(
      `${until.toISOString()} is more than ${MAX_PAUSE_DAYS} days ahead: a pause is for an incident or a freeze`,
    );
  }
  return until;
}

/** Who pauses or resumes, and why. */
export interface PauseRequest {
  readonly environment: string;
  readonly by: string;
  readonly reason: string;
  readonly now: Date;
}

/** Pauses every automated action until `until` (replacing a pause in force) and audits it. */
export async function pauseAutomation(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  request: PauseRequest & { readonly until: Date },
): Promise<{ readonly pause: Pause; readonly replaced?: Pause; readonly audit: AuditRecord }> {
  const { now } = request;
  if (request.until.getTime() <= now.getTime() || request.until.getTime() - now.getTime() > MAX_PAUSE_MS) {
    throw new InvalidPauseError(`a pause ends in the future, at most ${MAX_PAUSE_DAYS} days ahead`);
  }
  const previous = await readPause(ddb, tableName);
  const pause: Pause = {
    reason: request.reason,
    until: request.until.toISOString(),
    by: request.by,
    at: now.toISOString(),
  };
  await ddb.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        ...pauseKey(),
        ...pause,
        expiresAt: Math.floor(request.until.getTime() / 1000) + ENDED_PAUSE_KEPT_SECONDS,
      },
    }),
  );
  const replaced = isPaused(previous, now) ? previous : undefined;
  const audit = await recordAudit(
    ddb,
    tableName,
    {
      action: 'automation-pause',
      actor: request.by,
      reason: request.reason,
      source: 'cli',
      outcome: 'ok',
      environment: request.environment,
      details: { until: pause.until, replaced },
    },
    { now },
  );
  return { pause, replaced, audit };
}

/**
 * Ends the pause in force (removes the item, audited); `resumed` is false, and nothing is
 * written, when the automation was not paused.
 */
export async function resumeAutomation(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  request: PauseRequest,
): Promise<{ readonly resumed: boolean; readonly pause?: Pause; readonly audit?: AuditRecord }> {
  const { now } = request;
  const pause = await readPause(ddb, tableName);
  if (pause === undefined || !isPaused(pause, now)) return { resumed: false, pause };
  await ddb.send(
    new DeleteCommand({
      TableName: tableName,
      Key: pauseKey(),
      // Not a pause someone set meanwhile.
      ConditionExpression: '#at = :at',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':at': pause.at },
    }),
  );
  const audit = await recordAudit(
    ddb,
    tableName,
    {
      action: 'automation-resume',
      actor: request.by,
      reason: request.reason,
      source: 'cli',
      outcome: 'ok',
      environment: request.environment,
      details: { pausedBy: pause.by, pausedAt: pause.at, until: pause.until, pauseReason: pause.reason },
    },
    { now },
  );
  return { resumed: true, pause, audit };
}
