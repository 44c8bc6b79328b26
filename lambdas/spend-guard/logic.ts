/**
 * The spend guard, one run: reads month-to-date spend per budget (LLM from LlmCostUsd, AWS from
 * Budgets: core/spend/read.ts), decides (decide.ts) and acts:
 * 1. reads, in parallel: the spend of the month (and of the month that just ended, for its late
 *    data, in the first minutes of a month), the thresholds already recorded, the "spend
 *    unknown" state, and whether cost data stopped while queries or a batch run go on;
 * 2. claims every threshold reached and not yet recorded complete (one conditional item each);
 * 3. acts: a notice per budget to the runbook's channel (email, chat, page), the kill switch
 *    (core/kill-switch, the Budgets path's own code) for kill thresholds, a warning per
 *    month-end projection past 100%, the "spend unknown" page;
 * 4. marks each claim whose action succeeded complete, audits, and reports the failures (their
 *    claims stay incomplete, so the next run redoes them).
 *
 * It never acts on a figure it could not read: a budget's spend is what was read (a lower bound
 * when a figure is missing), so a threshold reached by that is reached, and nothing else is.
 */

import type { BudgetsClient } from '@aws-sdk/client-budgets';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SpendGuardValues } from '../../core/contracts/spend-guard';
import { engageUnlessHeld, type HeldResult } from '../../core/kill-switch/automation';
import { describeError, resolve } from '../../core/kill-switch/messages';
import {
  type ActionFailure,
  ActionsIncompleteError,
  type EngageResult,
  type KillSwitchClients,
  type KillSwitchConfig,
  type RunOptions,
} from '../../core/kill-switch/types';
import { recordAudit } from '../../core/ops-table/items';
import { settle } from '../../core/parallel';
import type { SpendBudgetId } from '../../core/spend/budgets';
import { SPEND_GUARD_SERVICE } from '../../core/spend/metric';
import { previousSpendMonth, spendMonthOf } from '../../core/spend/month';
import {
  type BudgetSpend,
  describeBudgetSpend,
  readSpend,
  type SpendReading,
  type SpendSettings,
} from '../../core/spend/read';
import { type Channel, decide, decideUnknown, type PlannedLevel, type UnknownDecision } from './decide';
import {
  alreadyEngagedMessage,
  failureMessage,
  forecastMessage,
  killReason,
  type Message,
  noticeMessage,
  recoveredMessage,
  unknownMessage,
} from './messages';
import {
  claimLevel,
  clearUnknownState,
  completeLevel,
  type LevelClaim,
  levelSk,
  readLevelRecords,
  readUnknownState,
  type UnknownState,
  writeUnknownState,
} from './records';
import { readSilence, type Silence } from './silence';

/** The clients of the spend guard: the kill switch's, CloudWatch and Budgets (us-east-1). */
export interface SpendGuardClients extends KillSwitchClients {
  readonly cloudwatch: CloudWatchClient;
  readonly budgets: BudgetsClient;
}

/** The spend guard's configuration: its contract's values. */
export type SpendGuardConfig = SpendGuardValues;

/** The kill switch's configuration of the spend guard's (its reports go to the page topic). */
export function killSwitchConfigOf(config: SpendGuardConfig): KillSwitchConfig {
  return {
    environment: config.environment,
    opsTableName: config.opsTableName,
    batchScheduleName: config.batch.scheduleName,
    batchScheduleGroup: config.batch.scheduleGroup,
    batchScheduleStateParameter: config.batch.scheduleStateParameter,
    batchStateMachineArn: config.batch.stateMachineArn,
    ecsCluster: config.batch.ecsCluster,
    batchTaskFamily: config.batch.taskFamily,
    alertTopicArn: config.topics.page,
  };
}

/** How the spend is read, from the spend guard's configuration. */
export function spendSettingsOf(config: SpendGuardConfig): SpendSettings {
  return {
    environment: config.environment,
    accountId: config.accountId,
    budgets: config.budgets,
    maxCallCostUsd: config.maxCallCostUsd,
    awsSettleHours: config.awsSettleHours,
  };
}

/** A run's options: RunOptions, and the time the run was scheduled for. */
export interface GuardOptions extends RunOptions {
  /** When EventBridge Scheduler meant the run to start (its `scheduled-time`). */
  readonly scheduledTime?: Date;
}

/** One action of a run. */
export interface ActionRecord {
  readonly month: string;
  readonly budget: SpendBudgetId;
  /** The threshold's percentage, or 'forecast'. */
  readonly level: number | 'forecast';
  readonly action: string;
  /** done; already-engaged (the kill switch was); taken (another attempt recorded it); failed. */
  readonly outcome: 'done' | 'already-engaged' | 'held' | 'taken' | 'failed';
}

/** What a run found and did. */
export interface SpendGuardResult {
  /** The time the spend was read up to. */
  readonly at: string;
  readonly month: string;
  /** Seconds the function's clock was behind the scheduled time (0 when not). */
  readonly clockSkewSeconds: number;
  /** The month that just ended, when it was read again for late data. */
  readonly previousMonth?: string;
  readonly budgets: Readonly<
    Record<SpendBudgetId, Omit<BudgetSpend, 'parts'> & { readonly figures: string }>
  >;
  readonly actions: readonly ActionRecord[];
  /** `held`: the automation is paused or the engagement repeats (core/automation); a human was told. */
  readonly killSwitch?: 'engaged' | 'duplicate' | 'held' | 'failed';
  readonly unknown: UnknownDecision['action'];
  readonly problems: readonly string[];
  readonly silence: Silence;
}

/** Some action of the run failed (reported, claims left incomplete): the next run redoes it. */
export class SpendGuardIncompleteError extends ActionsIncompleteError {}

/** One run of the spend guard (see the module comment). Throws SpendGuardIncompleteError after reporting. */
export async function runSpendGuard(
  clients: SpendGuardClients,
  config: SpendGuardConfig,
  options: GuardOptions = {},
): Promise<SpendGuardResult> {
  const { now, newId, logger } = resolve(options);
  const clock = now();
  // A scheduled event never arrives before its time: a clock behind it is the one that is wrong.
  const scheduled = options.scheduledTime;
  const skewMs = scheduled !== undefined && scheduled > clock ? scheduled.getTime() - clock.getTime() : 0;
  const at = skewMs > 0 && scheduled !== undefined ? scheduled : clock;
  if (skewMs > 60_000) logger.warn('The function clock is behind the scheduled time', { skewMs });
  const month = spendMonthOf(at);
  const lateLook = at.getTime() - month.start.getTime() < config.lateDataMinutes * 60_000;
  const previous = lateLook ? previousSpendMonth(month) : undefined;
  const settings = spendSettingsOf(config);
  const table = config.opsTableName;

  // Round 1: every read at once.
  const [current, previousReading, records, previousRecords, unknownState, silence] = await Promise.all([
    readSpend(clients, settings, { at, month }),
    previous ? readSpend(clients, settings, { at, month: previous }) : undefined,
    settle(readLevelRecords(clients.ddb, table, month.key)),
    previous ? settle(readLevelRecords(clients.ddb, table, previous.key)) : undefined,
    settle(readUnknownState(clients.ddb, table)),
    readSilence(clients, config, at),
  ]);
  const readings = [current, ...(previousReading ? [previousReading] : [])];
  const completed = new Set<string>();
  for (const r of [records, previousRecords]) {
    if (r === undefined) continue;
    if (r.ok) {
      for (const [sk, complete] of r.value) if (complete) completed.add(sk);
    } else {
      // Unreadable: every threshold reached is claimed, and the claim's condition tells the done ones.
      logger.warn('Cannot read the spend thresholds recorded: claiming all', {
        error: describeError(r.error),
      });
    }
  }
  const plan = decide({ current, previous: previousReading }, completed, config);
  const doubtful = readings.flatMap((r) => doubtfulFigures(r, readings.length > 1));
  if (!unknownState.ok) {
    logger.warn('Cannot read the spend unknown state: treating it as none sent', {
      error: describeError(unknownState.error),
    });
  }
  const stored = unknownState.ok ? unknownState.value : undefined;
  const unknown = decideUnknown(doubtful, stored, at, config.unknownRenotifyMinutes);
  logger.info('Spend read', {
    month: month.key,
    budgets: Object.fromEntries(
      readings.flatMap((r) =>
        Object.values(r.budgets).map((b) => [`${r.month.key} ${b.id}`, describeBudgetSpend(b)]),
      ),
    ),
    problems: readings.flatMap((r) => r.problems),
    plan: {
      notices: plan.notices.map(
        (n) => `${n.month} ${n.budget} ${n.levels.map((l) => l.level.percent).join('/')}`,
      ),
      kill: plan.kill.map((k) => `${k.budget} ${k.level.percent}`),
      forecasts: plan.forecasts.map((f) => f.budget),
      unknown: unknown.action,
    },
  });

  // Round 2: claim each threshold to act on.
  const attempt = { id: newId(), at };
  const failures: ActionFailure[] = [];
  const actions: ActionRecord[] = [];
  const claimOf = (
    p: PlannedLevel | { month: string; budget: SpendBudgetId; spend: BudgetSpend },
    level: number | 'forecast',
    action: string,
  ): LevelClaim => ({
    month: p.month,
    budget: p.budget,
    level,
    action,
    spentUsd: p.spend.spentUsd,
    limitUsd: p.spend.limitUsd,
    figures: describeBudgetSpend(p.spend),
  });
  const wanted: LevelClaim[] = [
    ...plan.notices.flatMap((n) => n.levels.map((l) => claimOf(l, l.level.percent, `notify-${n.channel}`))),
    ...plan.kill.map((k) => claimOf(k, k.level.percent, 'disable-batch')),
    ...plan.forecasts.map((f) => claimOf(f, 'forecast', 'notify-chat')),
  ];
  const claimed = new Set<string>();
  await Promise.all(
    wanted.map(async (claim) => {
      const sk = levelSk(claim.month, claim.budget, claim.level);
      try {
        if (await claimLevel(clients.ddb, table, claim, attempt)) claimed.add(sk);
        else actions.push({ ...pick(claim), outcome: 'taken' });
      } catch (error) {
        failures.push({ call: 'PutItem', target: `${table} ${sk}`, error: describeError(error) });
        actions.push({ ...pick(claim), outcome: 'failed' });
      }
    }),
  );
  const isClaimed = (c: LevelClaim) => claimed.has(levelSk(c.month, c.budget, c.level));

  // Round 3: act.
  const publish = (channel: Channel, message: Message) =>
    clients.sns.send(
      new PublishCommand({
        TopicArn: config.topics[channel],
        Subject: message.subject,
        Message: message.message,
      }),
    );
  const done: Array<{ claim: LevelClaim; outcome: string }> = [];
  const audits: Array<Parameters<typeof recordAudit>[2]> = [];
  const tasks: Array<Promise<void>> = [];

  for (const notice of plan.notices) {
    const claims = notice.levels
      .map((l) => claimOf(l, l.level.percent, `notify-${notice.channel}`))
      .filter(isClaimed);
    if (claims.length === 0) continue;
    const levels = notice.levels.filter((l) => claims.some((c) => c.level === l.level.percent));
    const message = noticeMessage(config.environment, { ...notice, levels }, config.killSwitchPercent);
    tasks.push(
      act(
        `notice ${notice.month} ${notice.budget}`,
        config.topics[notice.channel],
        () => publish(notice.channel, message),
        claims,
        'notified',
        {
          action: 'spend-alert',
          reason: message.subject,
          details: { channel: notice.channel, levels: claims.map((c) => c.level) },
          spend: notice.spend,
        },
      ),
    );
  }
  for (const warning of plan.forecasts) {
    const claim = claimOf(warning, 'forecast', 'notify-chat');
    if (!isClaimed(claim)) continue;
    const message = forecastMessage(config.environment, warning);
    tasks.push(
      act(
        `forecast ${warning.budget}`,
        config.topics.chat,
        () => publish('chat', message),
        [claim],
        'notified',
        {
          action: 'spend-forecast',
          reason: message.subject,
          details: { projectedUsd: warning.projectedUsd },
          spend: warning.spend,
        },
      ),
    );
  }
  let killSwitch: SpendGuardResult['killSwitch'];
  const killClaims = plan.kill.map((k) => claimOf(k, k.level.percent, 'disable-batch')).filter(isClaimed);
  if (killClaims.length > 0) {
    const spends = plan.kill.filter((k) => killClaims.some((c) => c.budget === k.budget)).map((k) => k.spend);
    tasks.push(engage(spends, killClaims));
  }
  let unknownPublished = false;
  if (unknown.action === 'notify' || unknown.action === 'remind' || unknown.action === 'recover') {
    const message =
      unknown.action === 'recover'
        ? recoveredMessage(config.environment, unknown.previous)
        : unknownMessage(config.environment, readings, unknown.figures, unknown.action === 'remind');
    tasks.push(
      publish('page', message).then(
        () => {
          unknownPublished = true;
        },
        (error: unknown) => {
          failures.push({ call: 'Publish', target: config.topics.page, error: describeError(error) });
        },
      ),
    );
  }
  await Promise.all(tasks);

  // Round 4: complete what was done, audit it, remember the unknown page, report failures.
  const finals: Array<Promise<unknown>> = [
    ...done.map(({ claim, outcome }) =>
      completeLevel(clients.ddb, table, claim, attempt, outcome).then(
        (mine) => {
          if (!mine) logger.warn('A spend threshold claim was taken over', { claim });
        },
        (error: unknown) => {
          failures.push({
            call: 'UpdateItem',
            target: `${table} ${levelSk(claim.month, claim.budget, claim.level)}`,
            error: describeError(error),
          });
        },
      ),
    ),
    ...audits.map((entry) =>
      recordAudit(clients.ddb, table, entry, { now: at }).catch((error: unknown) =>
        logger.error('Cannot write the spend guard audit item', { error: describeError(error) }),
      ),
    ),
  ];
  if (unknownPublished && (unknown.action === 'notify' || unknown.action === 'remind')) {
    const state: UnknownState = {
      figures: [...unknown.figures],
      since: unknown.action === 'remind' && stored ? stored.since : at.toISOString(),
      lastSentAt: at.toISOString(),
      problems: readings.flatMap((r) => r.problems),
    };
    finals.push(
      writeUnknownState(clients.ddb, table, state).catch((error: unknown) =>
        logger.warn('Cannot record the spend unknown page: the next run may page again', {
          error: describeError(error),
        }),
      ),
    );
  }
  if (unknownPublished && unknown.action === 'recover') {
    finals.push(
      clearUnknownState(clients.ddb, table).catch((error: unknown) =>
        logger.warn('Cannot clear the spend unknown state', { error: describeError(error) }),
      ),
    );
  }
  await Promise.all(finals);
  if (failures.length > 0) {
    logger.error('Spend guard actions failed', { failures });
    const message = failureMessage(config.environment, failures);
    await publish('page', message).catch((error: unknown) =>
      logger.error('Cannot report the failed spend guard actions', { error: describeError(error) }),
    );
  }

  const result: SpendGuardResult = {
    at: at.toISOString(),
    month: month.key,
    clockSkewSeconds: Math.round(skewMs / 1000),
    ...(previous ? { previousMonth: previous.key } : {}),
    budgets: Object.fromEntries(
      Object.values(current.budgets).map(({ parts: _parts, ...b }) => [
        b.id,
        { ...b, figures: describeBudgetSpend(current.budgets[b.id]) },
      ]),
    ) as SpendGuardResult['budgets'],
    actions: actions.sort((a, b) =>
      `${a.month}${a.budget}${a.level}`.localeCompare(`${b.month}${b.budget}${b.level}`),
    ),
    ...(killSwitch ? { killSwitch } : {}),
    unknown: unknown.action,
    problems: readings.flatMap((r) =>
      r.problems.map((p) => (readings.length > 1 ? `${r.month.key} ${p}` : p)),
    ),
    silence: silence.silence,
  };
  if (failures.length > 0) {
    throw new SpendGuardIncompleteError(
      `Spend guard: ${failures.length} action(s) failed: ${failures.map((f) => `${f.call} ${f.target}: ${f.error}`).join('; ')}`,
      failures,
    );
  }
  return result;

  /** Runs one action; on success its claims are completed and it is audited, on failure neither. */
  async function act(
    what: string,
    target: string,
    run: () => Promise<unknown>,
    claims: readonly LevelClaim[],
    outcome: string,
    audit: { action: string; reason: string; details: Record<string, unknown>; spend: BudgetSpend },
  ): Promise<void> {
    const entry = (ok: boolean) => ({
      action: audit.action,
      actor: SPEND_GUARD_SERVICE,
      reason: audit.reason,
      source: SPEND_GUARD_SERVICE,
      outcome: ok ? ('ok' as const) : ('failed' as const),
      environment: config.environment,
      details: {
        ...audit.details,
        month: claims[0]?.month,
        budget: claims[0]?.budget,
        spentUsd: audit.spend.spentUsd,
        limitUsd: audit.spend.limitUsd,
        figures: describeBudgetSpend(audit.spend),
        attemptId: attempt.id,
      },
    });
    try {
      await run();
      for (const claim of claims) {
        done.push({ claim, outcome });
        actions.push({ ...pick(claim), outcome: 'done' });
      }
      audits.push(entry(true));
    } catch (error) {
      failures.push({ call: 'Publish', target, error: `${what}: ${describeError(error)}` });
      for (const claim of claims) actions.push({ ...pick(claim), outcome: 'failed' });
      audits.push(entry(false));
    }
  }

  /** The kill switch, once for every kill threshold reached this run. */
  async function engage(spends: readonly BudgetSpend[], claims: readonly LevelClaim[]): Promise<void> {
    const main = spends.find((s) => s.id === 'total') ?? spends[0];
    if (main === undefined) return;
    let result: EngageResult | HeldResult;
    try {
      // The same path as a budget notification's: the pause, the repeat guard, the read-back.
      result = await engageUnlessHeld(
        clients,
        killSwitchConfigOf(config),
        {
          source: SPEND_GUARD_SERVICE,
          action: 'kill-switch-engage',
          actor: SPEND_GUARD_SERVICE,
          reason: killReason(spends, config.killSwitchPercent),
          deduplicate: true,
          budget: {
            name: main.id,
            actualAmount: main.spentUsd,
            budgetedAmount: main.limitUsd,
            thresholdAmount: (main.limitUsd * config.killSwitchPercent) / 100,
            thresholdPercent: config.killSwitchPercent,
            figures: spends.map(describeBudgetSpend).join('; '),
          },
        },
        { now: () => at, newId, logger, automation: config.automation },
      );
    } catch (error) {
      // The kill switch reported its own failure; the claims stay incomplete for the next run.
      killSwitch = 'failed';
      failures.push({
        call: 'engageKillSwitch',
        target: config.batch.scheduleName,
        error: describeError(error),
      });
      for (const claim of claims) actions.push({ ...pick(claim), outcome: 'failed' });
      return;
    }
    killSwitch = result.outcome;
    if (result.outcome === 'held') {
      // Held by the pause or the repeat guard, which told the page topic what would have been
      // done: the threshold is answered (a human decides), not retried every run of the pause.
      for (const claim of claims) {
        done.push({ claim, outcome: `held-${result.held}` });
        actions.push({ ...pick(claim), outcome: 'held' });
      }
      return;
    }
    if (result.outcome === 'duplicate') {
      // Changing nothing is right; saying nothing would leave the threshold unannounced.
      const message = alreadyEngagedMessage(config.environment, spends, config.killSwitchPercent, {
        engagedAt: result.state?.engagedAt,
        engagedBy: result.state?.engagedBy,
      });
      await publish('page', message).catch((error: unknown) =>
        logger.warn('Cannot announce the kill threshold (batch already disabled)', {
          error: describeError(error),
        }),
      );
    }
    for (const claim of claims) {
      done.push({ claim, outcome: result.outcome === 'engaged' ? 'engaged' : 'already-engaged' });
      actions.push({ ...pick(claim), outcome: result.outcome === 'engaged' ? 'done' : 'already-engaged' });
    }
  }
}

function pick(claim: LevelClaim): Omit<ActionRecord, 'outcome'> {
  return { month: claim.month, budget: claim.budget, level: claim.level, action: claim.action };
}

/** The figures of `reading` that are unknown or in doubt: what the "spend unknown" page is about. */
function doubtfulFigures(reading: SpendReading, withMonth: boolean): string[] {
  const figures = [...Object.values(reading.llm), ...Object.values(reading.aws)];
  return figures
    .filter((f) => !f.known || f.problem !== undefined)
    .map((f) => (withMonth ? `${reading.month.key} ${f.label}` : f.label));
}
