/** `weights`, `shift` and `rollback`: the traffic commands. */

import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { InvalidInputError } from '../../../core/errors';
import { shortId } from '../../../core/ops-table/items';
import {
  COLOURS,
  type Colour,
  DEFAULT_SHIFT_STEPS,
  describeCause,
  describeError,
  formatWeights,
  type LastShift,
  planShift,
  readLastShift,
  readLiveWeights,
  readShiftLock,
  readStoredWeights,
  rollbackToLastKnownGood,
  type ShiftLock,
  validateSteps,
  type Weights,
  weightsDrift,
  weightsEqual,
} from '../../../core/traffic';
import { choice, custom, duration, text } from '../../cli/args';
import { confirmChange, YES } from '../confirm';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT, OpsError, RefusedError } from '../errors';
import { trafficConfigOf } from '../manifest';
import { ago, type CommandResult, table, when } from '../output';
import { silentLogger } from './silent';

// ---------------------------------------------------------------------------------------------
// weights

/** Live, stored and configured weights, their drift, the last shift and a running one. */
export async function weightsCommand(ctx: CommandContext): Promise<CommandResult> {
  const { manifest, clients } = ctx;
  const config = trafficConfigOf(manifest);
  const now = ctx.now();
  const [live, stored, lastShift, lock] = await Promise.allSettled([
    readLiveWeights(clients.elbv2, config.listenerArn, config.targetGroups),
    readStoredWeights(clients.ssm, config.weightsParameter),
    readLastShift(clients.ddb, config.opsTable),
    readShiftLock(clients.ddb, config.opsTable, now),
  ]);
  const value = <T>(r: PromiseSettledResult<T>): T | undefined =>
    r.status === 'fulfilled' ? r.value : undefined;
  const errors: Record<string, string> = {};
  for (const [key, r] of Object.entries({ live, stored, lastShift, lock })) {
    if (r.status === 'rejected') errors[key] = describeError(r.reason);
  }
  const liveW = value(live);
  const storedW = value(stored);
  const shift = value(lastShift);
  const held = value(lock);
  const drift = liveW && storedW ? weightsDrift(liveW, storedW) : undefined;

  const lines = [`Traffic weights: ${manifest.environment} (${ctx.region})`];
  lines.push(
    ...table(
      [
        ['live', liveW ? formatWeights(liveW) : `UNKNOWN (${errors.live})`, 'the listener, serving now'],
        [
          'stored',
          storedW ? formatWeights(storedW) : `UNKNOWN (${errors.stored})`,
          `${config.weightsParameter}: the source of truth, applied by every deploy`,
        ],
        ['configured', formatWeights(manifest.configuredWeights), 'the seed of the first deploy only'],
      ],
      '  ',
    ),
  );
  lines.push('');
  if (drift) {
    lines.push(`DRIFT: ${drift.description}.`, ...driftAdvice(held).map((l) => `  ${l}`));
  } else if (liveW && storedW) {
    lines.push('No drift: the listener matches the stored weights.');
  }
  lines.push('', ...describeLastShift(shift, errors.lastShift, now));
  if (held) {
    lines.push(`Shift in progress: ${held.executionArn} (to ${held.to}, since ${when(held.acquiredAt)}).`);
  } else if (errors.lock) {
    lines.push(`Shift lock: UNKNOWN (${errors.lock}).`);
  }

  return {
    exitCode: Object.keys(errors).length > 0 ? EXIT.failed : EXIT.ok,
    lines,
    data: {
      environment: manifest.environment,
      region: ctx.region,
      live: liveW ?? null,
      stored: storedW ?? null,
      configured: manifest.configuredWeights,
      drift: drift ?? null,
      lastShift: shift ?? null,
      shiftInProgress: held ?? null,
      errors,
    },
  };
}

function driftAdvice(lock: ShiftLock | undefined): string[] {
  if (lock) {
    return [
      'A shift is in progress: each step writes listener and parameter together, so a difference can',
      'show for a moment. Check again; if it stays after the shift ends, see below.',
    ];
  }
  return [
    'The listener was changed outside the automation (console? CLI?) or a weights write half-failed.',
    'The next deploy resets the listener to the STORED weights. Do not edit the listener by hand:',
    '- to return to the weights from before the last shift (both): npm run ops -- rollback',
    '- to move traffic to one colour (both): npm run ops -- shift --to <blue|green>',
    'Who changed it: CloudTrail, event name ModifyListener.',
  ];
}

export function describeLastShift(
  shift: LastShift | undefined,
  error: string | undefined,
  now: Date,
): string[] {
  if (error) return [`Last shift: UNKNOWN (${error}).`];
  if (!shift) return ['Last shift: none recorded.'];
  const endedAt = shift.completedAt ?? shift.rolledBackAt;
  const lines = [
    `Last shift: to ${shift.to}, ${shift.status}` +
      `${endedAt ? ` at ${when(endedAt)} (${ago(endedAt, now)})` : ''}, started ${when(shift.startedAt)}` +
      `${shift.requestedBy ? ` by ${shift.requestedBy}` : ''}`,
    `  from ${formatWeights(shift.from)} (last known-good)${shift.final ? ` -> ${formatWeights(shift.final)}` : ''}`,
  ];
  if (shift.rolledBackAt) {
    lines.push(`  rolled back by ${shift.rolledBackBy ?? 'unknown'}: ${shift.rollbackReason ?? ''}`);
  }
  lines.push(`  execution ${shift.executionArn}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// shift

/** Statuses after which an execution no longer changes. */
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
/** A line at least this often while nothing changes (in polls). */
const HEARTBEAT_POLLS = 12;

/**
 * Starts the shift state machine and watches it until it ends: exit 0 only on SUCCEEDED;
 * refused (exit 2) when a shift is already running or the lock is held.
 */
export async function shiftCommand(
  ctx: CommandContext,
  command: { readonly to: Colour; readonly steps: number[]; readonly bakeSeconds: number },
): Promise<CommandResult> {
  const { manifest, clients, out } = ctx;
  const config = trafficConfigOf(manifest);
  const stateMachineArn = manifest.shiftStateMachineArn;
  const [running, live] = await Promise.all([
    clients.sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 10 })),
    readLiveWeights(clients.elbv2, config.listenerArn, config.targetGroups).catch((error: unknown) => {
      out.progress(`(cannot read the live weights: ${describeError(error)})`);
      return undefined;
    }),
  ]);
  const other = running.executions?.[0];
  if (other !== undefined) {
    throw new RefusedError(
      `Refused: a shift is already running: ${other.executionArn ?? other.name} (started ${when(other.startDate)}). ` +
        'Wait for it to end (npm run ops -- weights) or roll it back (npm run ops -- rollback).',
    );
  }
  const plan = live ? planShift(live, command.to, command.steps) : undefined;
  if (live && plan && plan.length === 0) {
    return {
      exitCode: EXIT.ok,
      lines: [`Nothing to shift: ${command.to} already has all the traffic (${formatWeights(live)}).`],
      data: { started: false, noop: true, live },
    };
  }

  const startedAt = ctx.now();
  const name = `to-${command.to}-${startedAt.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${shortId()}`;
  const started = await clients.sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name,
      input: JSON.stringify({
        to: command.to,
        steps: command.steps,
        bakeSeconds: command.bakeSeconds,
        requestedBy: ctx.actor,
      }),
    }),
  );
  const executionArn = started.executionArn ?? `${stateMachineArn}:${name}`;
  out.progress(
    `Shifting ${manifest.environment} to ${command.to}: ${plan ? plan.map(formatWeights).join(' -> ') : `steps ${command.steps.join(',')}`}` +
      `, ${command.bakeSeconds} s bake per step${live ? `; now ${formatWeights(live)}` : ''}.`,
  );
  out.progress(`Execution: ${executionArn}`);
  out.progress('Ctrl-C stops watching only: the shift goes on (check with `npm run ops -- weights`).');

  let execution: DescribeExecutionCommandOutput;
  let last: { status?: string; weights?: Weights } = {};
  let quiet = 0;
  let current: Weights | undefined = live;
  for (;;) {
    await ctx.sleep(ctx.pollIntervalMs);
    const [described, weights] = await Promise.all([
      clients.sfn.send(new DescribeExecutionCommand({ executionArn })).catch((error: unknown) => {
        throw new OpsError(
          `Lost track of the shift (${describeError(error)}); it goes on: check with \`npm run ops -- weights\` ` +
            `and the execution ${executionArn}`,
        );
      }),
      readLiveWeights(clients.elbv2, config.listenerArn, config.targetGroups).catch(() => undefined),
    ]);
    execution = described;
    current = weights ?? current;
    const status = execution.status ?? 'UNKNOWN';
    const changed =
      status !== last.status || (weights && (!last.weights || !weightsEqual(weights, last.weights)));
    quiet = changed ? 0 : quiet + 1;
    if (changed || quiet >= HEARTBEAT_POLLS) {
      quiet = 0;
      out.progress(
        `${when(ctx.now())}  ${status.padEnd(9)}  live ${weights ? formatWeights(weights) : 'unknown'}`,
      );
    }
    last = { status, weights: weights ?? last.weights };
    if (TERMINAL.has(status)) break;
  }

  const status = execution.status ?? 'UNKNOWN';
  const data = {
    started: true,
    executionArn,
    status,
    error: execution.error ?? null,
    cause: execution.cause ?? null,
    live: current ?? null,
  };
  if (status === 'SUCCEEDED') {
    const noop = outputSaysNoop(execution.output);
    return {
      exitCode: EXIT.ok,
      lines: [
        noop
          ? `Nothing to shift: ${command.to} already had all the traffic.`
          : `Shift to ${command.to} completed: ${current ? formatWeights(current) : 'weights unknown'}.`,
      ],
      data: { ...data, noop },
    };
  }
  if (status === 'FAILED' && execution.error === 'ShiftInProgressError') {
    throw new RefusedError(`Refused: ${describeCause(undefined, execution.cause)}`);
  }
  const lastShift = await readLastShift(clients.ddb, config.opsTable).catch(() => undefined);
  const lines = [
    `Shift to ${command.to} ${status}: ${describeCause(execution.error, execution.cause)}`,
    `Live weights now: ${current ? formatWeights(current) : 'unknown'}.`,
  ];
  if (lastShift?.executionArn === executionArn) {
    lines.push(
      `Recorded status: ${lastShift.status}${lastShift.rollbackReason ? ` (${lastShift.rollbackReason})` : ''}; ` +
        `last known-good ${formatWeights(lastShift.from)}.`,
    );
    if (lastShift.status === 'in-progress') {
      lines.push(
        'The shift did not clean up: run `npm run ops -- rollback` to restore the last known-good weights.',
      );
    }
  }
  return { exitCode: EXIT.failed, lines, data: { ...data, lastShift: lastShift ?? null } };
}

function outputSaysNoop(output: string | undefined): boolean {
  if (output === undefined) return false;
  try {
    return (JSON.parse(output) as { shift?: { noop?: unknown } }).shift?.noop === true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// rollback

/** Restores the weights from before the last shift (no window, no cool-down: a human asks). */
export async function rollbackCommand(
  ctx: CommandContext,
  command: { readonly reason?: string },
): Promise<CommandResult> {
  const { manifest, clients } = ctx;
  const result = await rollbackToLastKnownGood(
    clients,
    trafficConfigOf(manifest),
    {
      actor: ctx.actor,
      reason: command.reason ?? `manual rollback by ${ctx.actor} (ops CLI)`,
      source: 'cli',
      now: ctx.now(),
    },
    { logger: silentLogger() },
  );
  const lines = [result.changed ? `Rolled back: ${result.reason}.` : `No change: ${result.reason}.`];
  if (result.stoppedExecution) lines.push(`Stopped the running shift ${result.stoppedExecution}.`);
  if (result.problems.length > 0) {
    lines.push(
      'The weights were restored, but these follow-up actions failed:',
      ...result.problems.map((p) => `- ${p}`),
    );
  }
  return {
    exitCode: result.problems.length > 0 ? EXIT.failed : EXIT.ok,
    lines,
    data: result,
  };
}

// ---------------------------------------------------------------------------------------------
// the command line

/** The steps of "10,50,100"; throws naming the bad part. */
export function parseSteps(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const bad = parts.find((p) => !/^\d+$/.test(p));
  if (bad !== undefined) throw new Error(`"${bad}" is not a whole number`);
  try {
    return validateSteps(parts.map(Number));
  } catch (error) {
    if (error instanceof InvalidInputError) throw new Error(error.message);
    throw error;
  }
}

export const TRAFFIC_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'weights',
    summary:
      'live (listener), stored (SSM, the source of truth) and configured weights, their drift, and the last shift',
    options: {},
    run: weightsCommand,
  }),
  opsCommand({
    name: 'shift',
    summary: 'shift traffic in steps through the shift state machine and watch it',
    options: {
      to: choice(COLOURS, 'the colour that gets the traffic').required(),
      steps: custom(
        "the target colour's weight at each step, ending at 100",
        '<10,50,100>',
        'increasing whole numbers ending at 100',
        parseSteps,
      ).default([...DEFAULT_SHIFT_STEPS], DEFAULT_SHIFT_STEPS.join(',')),
      bake: duration('how long each step bakes, watched by the alarms (30s, 5m, 1h)', {
        units: ['s', 'm', 'h'],
        max: { seconds: 86_400, text: '24h' },
        zero: true,
      }).default(300, '5m'),
      yes: YES,
    },
    run: async (ctx, o) => {
      await confirmChange(
        ctx,
        [
          `This shifts ${ctx.manifest.environment}'s traffic to ${o.to} in steps of ${o.steps.join(', ')}%, ` +
            `each baked ${o.bake} s under the alarms; an alarm restores the weights from before the shift.`,
        ],
        o.yes,
      );
      return shiftCommand(ctx, { to: o.to, steps: o.steps, bakeSeconds: o.bake });
    },
  }),
  opsCommand({
    name: 'rollback',
    summary: 'restore the weights from before the last shift',
    options: { reason: text('why, for the audit trail and the notification', '"..."'), yes: YES },
    run: async (ctx, o) => {
      await confirmChange(
        ctx,
        [
          `This restores ${ctx.manifest.environment}'s weights from before the last shift now, ` +
            'stopping a shift still running.',
        ],
        o.yes,
      );
      return rollbackCommand(ctx, { reason: o.reason });
    },
  }),
];
