/**
 * `automation pause|resume|status`: stop every automated action for an incident or a change
 * freeze (core/automation/pause.ts), start it again, and see the pause and the last automated
 * actions with their verification.
 */

import {
  type ActionRecord,
  describePause,
  InvalidPauseError,
  isPaused,
  listActions,
  MAX_PAUSE_DAYS,
  type Pause,
  pauseAutomation,
  pauseUntil,
  readPause,
  resumeAutomation,
} from '../../../core/automation';
import { describeError } from '../../../core/traffic';
import { custom, integer, text } from '../../cli/args';
import { confirmChange, YES } from '../confirm';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT, UsageError } from '../errors';
import { ago, type CommandResult, readResult, recordsTable, when } from '../output';

const UNTIL_SYNTAX = /^(\d+[mhd]|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))$/;

const until = custom(
  `when the pause ends: an ISO time with its zone (2026-11-26T18:00Z) or a duration from now (30m, 2h, 3d); at most ${MAX_PAUSE_DAYS}d`,
  '<time|duration>',
  'an ISO time with its zone or a duration such as 2h',
  (value) => {
    if (!UNTIL_SYNTAX.test(value.trim())) {
      throw new Error(
        'expected an ISO time with its zone (2026-11-26T18:00:00Z) or a duration (30m, 2h, 3d)',
      );
    }
    return value.trim();
  },
).required();
/** Pauses every automated action (audited). */
export async function automationPauseCommand(
  ctx: CommandContext,
  command: { readonly reason: string; readonly until: string; readonly yes: boolean },
): Promise<CommandResult> {
  const now = ctx.now();
  let end: Date;
  try {
    end = pauseUntil(command.until, now);
  } catch (error) {
    if (error instanceof InvalidPauseError)
      throw new UsageError(`--until ${command.until}: ${error.message}`);
    throw error;
  }
  const env = ctx.manifest.environment;
  await confirmChange(
    ctx,
    [
      `This pauses every automated action of ${env} (remediation, automatic traffic rollback, kill switch) ` +
        `until ${end.toISOString()}: ${command.reason}. Each one then only tells its alarm's topic what it would have done.`,
    ],
    command.yes,
  );
  const result = await pauseAutomation(ctx.clients.ddb, ctx.manifest.opsTable, {
    environment: env,
    by: ctx.actor,
    reason: command.reason,
    until: end,
    now,
  });
  return {
    exitCode: EXIT.ok,
    lines: [
      `Automation of ${env} PAUSED until ${result.pause.until} (${ago(now, end).replace(' ago', ' from now')}) by ${ctx.actor}: ${command.reason}.`,
      ...(result.replaced ? [`It replaces the pause ${describePause(result.replaced)}.`] : []),
      `Resume early with \`npm run ops -- automation resume\`; audited as ${result.audit.sk}.`,
    ],
    data: { pause: result.pause, replaced: result.replaced ?? null, audit: result.audit.sk },
  };
}

/** Ends the pause (audited); nothing to do when not paused. */
export async function automationResumeCommand(
  ctx: CommandContext,
  command: { readonly reason: string; readonly yes: boolean },
): Promise<CommandResult> {
  const now = ctx.now();
  const env = ctx.manifest.environment;
  const pause = await readPause(ctx.clients.ddb, ctx.manifest.opsTable);
  if (pause === undefined || !isPaused(pause, now)) {
    return {
      exitCode: EXIT.ok,
      lines: [`The automation of ${env} is not paused: nothing to resume.`],
      data: { resumed: false },
    };
  }
  await confirmChange(
    ctx,
    [`This resumes every automated action of ${env} (${describePause(pause)}).`],
    command.yes,
  );
  const result = await resumeAutomation(ctx.clients.ddb, ctx.manifest.opsTable, {
    environment: env,
    by: ctx.actor,
    reason: command.reason,
    now,
  });
  return {
    exitCode: EXIT.ok,
    lines: result.resumed
      ? [`Automation of ${env} RESUMED by ${ctx.actor}: ${command.reason} (it was ${describePause(pause)}).`]
      : [`The automation of ${env} is not paused: nothing to resume.`],
    data: { resumed: result.resumed, pause: result.pause ?? null, audit: result.audit?.sk ?? null },
  };
}

/** The verification column of an action record. */
function verificationText(r: ActionRecord, now: Date): string {
  const v = r.verification;
  if (v === undefined) {
    return Date.parse(r.verifyAt) > now.getTime()
      ? `pending (at ${when(r.verifyAt)})`
      : `NOT verified (due ${when(r.verifyAt)}, ${ago(r.verifyAt, now)}): check the verifier's dead-letter queue`;
  }
  if (v.outcome === 'ok') return `ok (${when(v.at)})`;
  return `FAILED, escalated to ${v.escalatedTo ?? '?'}${v.notice === 'pending' ? ' (notice NOT sent yet)' : ''}: ${v.saw.filter((s) => s.startsWith('MISSING')).join('; ')}`;
}

function pauseLine(pause: Pause | undefined, now: Date): string {
  if (pause !== undefined && isPaused(pause, now)) return `PAUSED: ${describePause(pause)}`;
  if (pause !== undefined) return `active (the last pause, by ${pause.by}, ended ${when(pause.until)})`;
  return 'active (never paused)';
}

/** The pause and the last automated actions with their verification. */
export async function automationStatusCommand(
  ctx: CommandContext,
  command: { readonly limit: number },
): Promise<CommandResult> {
  const now = ctx.now();
  const { opsTable, environment } = ctx.manifest;
  const [pause, actions] = await Promise.allSettled([
    readPause(ctx.clients.ddb, opsTable),
    listActions(ctx.clients.ddb, opsTable, { limit: command.limit }),
  ]);
  const errors: string[] = [];
  const lines = [`Automation: ${environment} (${ctx.region})`];
  if (pause.status === 'fulfilled') lines.push(`  ${pauseLine(pause.value, now)}`);
  else {
    lines.push('  pause: UNKNOWN');
    errors.push(`pause: ${describeError(pause.reason)}`);
  }
  lines.push('', `Last ${command.limit} automated actions:`);
  if (actions.status === 'rejected') errors.push(`actions: ${describeError(actions.reason)}`);
  lines.push(
    ...recordsTable(
      ['time', 'action', 'trigger', 'severity', 'verification'],
      actions.status === 'fulfilled'
        ? actions.value.map((r) => [
            `${when(r.actedAt)} (${ago(r.actedAt, now)})`,
            r.action,
            r.trigger,
            r.severity,
            verificationText(r, now),
          ])
        : undefined,
    ),
  );
  return readResult(lines, errors, {
    environment,
    paused: pause.status === 'fulfilled' ? isPaused(pause.value, now) : null,
    pause: pause.status === 'fulfilled' ? (pause.value ?? null) : null,
    actions: actions.status === 'fulfilled' ? actions.value : null,
    errors,
  });
}

export const AUTOMATION_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'automation pause',
    summary: 'pause every automated action (incident, change freeze), audited',
    description:
      'Remediation, the automatic traffic rollback and the kill switch then change nothing: each tells ' +
      "its alarm's topic what it would have done. The pause ends by itself at --until.",
    options: {
      reason: text('why, for the audit trail and the notices', '"..."').required(),
      until,
      yes: YES,
    },
    run: automationPauseCommand,
  }),
  opsCommand({
    name: 'automation resume',
    summary: 'end the pause now, audited',
    options: {
      reason: text('why, for the audit trail', '"..."').default('resumed by hand', '"resumed by hand"'),
      yes: YES,
    },
    run: automationResumeCommand,
  }),
  opsCommand({
    name: 'automation status',
    summary: 'the pause and the last automated actions with their verification',
    options: { limit: integer('how many actions', { min: 1, max: 100 }).default(10) },
    run: automationStatusCommand,
  }),
];
