/** `batch status|disable|enable` and `remediation log`. */

import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { BudgetGuardValues } from '../../../core/contracts/budget-guard';
import { disableBatch, getKillSwitchState } from '../../../core/kill-switch/batch';
import { usd } from '../../../core/kill-switch/messages';
import { type ReenableSpendCheck, reenableBatch } from '../../../core/kill-switch/reenable';
import { listAudit, listBatchRuns } from '../../../core/ops-table/items';
import { describeError } from '../../../core/traffic';
import { duration, flag, integer, text } from '../../cli/args';
import { confirmChange, YES } from '../confirm';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT } from '../errors';
import type { OpsManifest } from '../manifest';
import { ago, type CommandResult, readResult, recordsTable, table, when } from '../output';
import { silentLogger } from './silent';

/**
 * The batch controls' configuration, from the manifest: the budget guard contract's values, as
 * the Lambda has them (alerts go to the P1 topic, as the budget guard's). Without `automation`:
 * a human's batch disable is not automation and goes through no pause or repeat guard.
 */
export function batchConfigOf(manifest: OpsManifest): Omit<BudgetGuardValues, 'automation'> {
  return {
    environment: manifest.environment,
    killSwitchBudgetName: manifest.batch.killSwitchBudgetName,
    killThresholdPercent: manifest.batch.killThresholdPercent,
    opsTableName: manifest.opsTable,
    batchScheduleName: manifest.batch.scheduleName,
    batchScheduleGroup: manifest.batch.scheduleGroup,
    batchScheduleStateParameter: manifest.batch.scheduleStateParameter,
    batchStateMachineArn: manifest.batch.stateMachineArn,
    ecsCluster: manifest.clusterName,
    batchTaskFamily: manifest.batch.taskFamily,
    alertTopicArn: manifest.topics.P1,
    budgetAccountId: manifest.accountId,
  };
}

/** How `batch enable` reads the spend: the spend guard's settings, from the manifest (undefined for older stacks). */
export function spendCheckOf(manifest: OpsManifest): ReenableSpendCheck | undefined {
  const spend = manifest.spend;
  if (spend === undefined) return undefined;
  return {
    environment: manifest.environment,
    accountId: manifest.accountId,
    budgets: spend.budgets,
    maxCallCostUsd: spend.maxCallCostUsd,
    awsSettleHours: spend.awsSettleHours,
    killSwitchPercent: spend.killSwitchPercent,
  };
}

/** The last batch runs, the schedule and its parameter, and the kill switch. */
export async function batchStatusCommand(
  ctx: CommandContext,
  command: { readonly limit: number },
): Promise<CommandResult> {
  const { manifest, clients } = ctx;
  const config = batchConfigOf(manifest);
  const now = ctx.now();
  const [runs, schedule, parameter, killSwitch] = await Promise.allSettled([
    listBatchRuns(clients.ddb, config.opsTableName, { limit: command.limit }),
    clients.scheduler.send(
      new GetScheduleCommand({ Name: config.batchScheduleName, GroupName: config.batchScheduleGroup }),
    ),
    clients.ssm.send(new GetParameterCommand({ Name: config.batchScheduleStateParameter })),
    getKillSwitchState(clients, config),
  ]);
  const errors: string[] = [];
  const get = <T>(what: string, r: PromiseSettledResult<T>): T | undefined => {
    if (r.status === 'fulfilled') return r.value;
    errors.push(`${what}: ${describeError(r.reason)}`);
    return undefined;
  };
  const runList = get('batch runs', runs);
  const scheduleState = get('schedule', schedule)?.State;
  const parameterState = get('schedule state parameter', parameter)?.Parameter?.Value;
  const state = get('kill switch', killSwitch);

  const scheduleRef = `${config.batchScheduleGroup}/${config.batchScheduleName}`;
  const lines = [`Batch: ${manifest.environment} (${ctx.region})`];
  lines.push(
    ...table(
      [
        ['schedule', scheduleRef, scheduleState ?? 'UNKNOWN'],
        ['parameter', config.batchScheduleStateParameter, parameterState ?? 'UNKNOWN'],
        [
          'kill switch',
          config.killSwitchBudgetName,
          state === undefined
            ? killSwitch.status === 'rejected'
              ? 'UNKNOWN'
              : 'never engaged'
            : state.engaged
              ? `ENGAGED since ${when(state.engagedAt)} by ${state.engagedBy}${state.complete ? '' : ' (INCOMPLETE)'}: ${state.reason}`
              : `released ${when(state.releasedAt)} by ${state.releasedBy ?? 'unknown'} (engaged ${when(state.engagedAt)})`,
        ],
      ],
      '  ',
    ),
  );
  if (scheduleState && parameterState && scheduleState !== parameterState) {
    lines.push(
      `  MISMATCH: the schedule is ${scheduleState} but the parameter says ${parameterState}; the next deploy ` +
        `applies the parameter. Use \`npm run ops -- batch enable|disable\`, which sets both.`,
    );
  }
  lines.push('', `Last ${command.limit} runs:`);
  lines.push(
    ...recordsTable(
      ['started', 'status', 'ended', 'trigger', 'stocks'],
      runList?.map((r) => [
        `${when(r.startedAt)} (${ago(r.startedAt, now)})`,
        r.status,
        when(r.endedAt),
        r.trigger ?? '-',
        r.stocksProcessed === undefined ? '-' : String(r.stocksProcessed),
      ]),
    ),
  );
  return readResult(lines, errors, {
    environment: manifest.environment,
    schedule: { name: scheduleRef, state: scheduleState ?? null },
    scheduleStateParameter: { name: config.batchScheduleStateParameter, value: parameterState ?? null },
    killSwitch: state ?? null,
    runs: runList ?? null,
    errors,
  });
}

/** Disables the batch (the kill switch's actions, recorded as engaged by the caller). */
export async function batchDisableCommand(
  ctx: CommandContext,
  command: { readonly reason: string },
): Promise<CommandResult> {
  const config = batchConfigOf(ctx.manifest);
  const result = await disableBatch(
    ctx.clients,
    config,
    { actor: ctx.actor, reason: command.reason },
    { now: ctx.now, logger: silentLogger() },
  );
  const lines =
    result.outcome === 'engaged'
      ? [
          `Batch disabled (${ctx.manifest.environment}) by ${ctx.actor}: ${command.reason}.`,
          `Schedule ${config.batchScheduleGroup}/${config.batchScheduleName} and ${config.batchScheduleStateParameter}: DISABLED (was ${result.scheduleStateBefore ?? 'unknown'}).`,
          `Stopped ${result.stoppedExecutions.length} execution(s) and ${result.stoppedTasks.length} task(s).`,
          'Re-enable with `npm run ops -- batch enable --reason "..."`.',
        ]
      : [`The kill switch was already engaged: nothing changed.`];
  return { exitCode: EXIT.ok, lines, data: result };
}

/** Re-enables the batch; refused (exit 2) while the budget is exceeded, unless forced. */
export async function batchEnableCommand(
  ctx: CommandContext,
  command: { readonly reason: string; readonly force: boolean },
): Promise<CommandResult> {
  const config = batchConfigOf(ctx.manifest);
  const result = await reenableBatch(
    ctx.clients,
    config,
    spendCheckOf(ctx.manifest),
    { actor: ctx.actor, reason: command.reason, force: command.force },
    { now: ctx.now, logger: silentLogger() },
  );
  return {
    exitCode: EXIT.ok,
    lines: [
      `Batch re-enabled (${ctx.manifest.environment}) by ${ctx.actor}${result.forced ? ', FORCED over budget' : ''}: ${command.reason}.`,
      `Total spend: ${result.figures} (kill threshold ${usd(result.thresholdAmount)}).`,
      `Schedule ${config.batchScheduleGroup}/${config.batchScheduleName} and ${config.batchScheduleStateParameter}: ENABLED.`,
    ],
    data: result,
  };
}

/** The audit trail, newest first. */
export async function remediationLogCommand(
  ctx: CommandContext,
  command: { readonly limit: number; readonly sinceSeconds?: number },
): Promise<CommandResult> {
  const now = ctx.now();
  const since =
    command.sinceSeconds === undefined ? undefined : new Date(now.getTime() - command.sinceSeconds * 1000);
  const entries = await listAudit(ctx.clients.ddb, ctx.manifest.opsTable, {
    limit: command.limit,
    since,
  });
  const lines = [
    `Audit trail: ${ctx.manifest.environment}${since ? ` since ${when(since)}` : ''}, newest first (at most ${command.limit})`,
  ];
  if (entries.length === 0) {
    lines.push('  no entries');
  } else {
    lines.push(
      ...table(
        [
          ['time', 'source', 'action', 'actor', 'outcome', 'reason'],
          ...entries.map((e) => [when(e.at), e.source, e.action, e.actor, e.outcome, e.reason]),
        ],
        '  ',
      ),
    );
  }
  return { exitCode: EXIT.ok, lines, data: { entries } };
}

const reason = text('why, for the audit trail', '"..."').required();

export const BATCH_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'batch status',
    summary: 'last batch runs, schedule state, kill switch',
    options: { limit: integer('how many runs', { min: 1, max: 1000 }).default(5) },
    run: batchStatusCommand,
  }),
  opsCommand({
    name: 'batch disable',
    summary: 'disable the batch (schedule, parameter, running work)',
    options: { reason, yes: YES },
    run: async (ctx, o) => {
      await confirmChange(
        ctx,
        [
          `This disables ${ctx.manifest.environment}'s batch (its schedule and state parameter) and stops ` +
            `its running executions and tasks: ${o.reason}.`,
        ],
        o.yes,
      );
      return batchDisableCommand(ctx, { reason: o.reason });
    },
  }),
  opsCommand({
    name: 'batch enable',
    summary: 're-enable it (refused while over budget unless --force)',
    options: { reason, force: flag('re-enable even while the budget is exceeded'), yes: YES },
    run: async (ctx, o) => {
      await confirmChange(
        ctx,
        [
          `This re-enables ${ctx.manifest.environment}'s batch schedule and state parameter` +
            (o.force
              ? ', even while the total spend is at or over the kill threshold (--force)'
              : ', unless the total spend is at or over the kill threshold') +
            `: ${o.reason}.`,
        ],
        o.yes,
      );
      return batchEnableCommand(ctx, { reason: o.reason, force: o.force });
    },
  }),
  opsCommand({
    name: 'remediation log',
    summary: 'the audit trail of automated and manual actions',
    options: {
      limit: integer('how many entries', { min: 1, max: 1000 }).default(20),
      since: duration('only entries this recent (30m, 12h, 7d)', { units: ['m', 'h', 'd'] }),
    },
    run: (ctx, o) => remediationLogCommand(ctx, { limit: o.limit, sinceSeconds: o.since }),
  }),
];
