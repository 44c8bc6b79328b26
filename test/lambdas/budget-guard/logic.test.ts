import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { configFromEnv } from '../../../lambdas/budget-guard/config';
import {
  BudgetSpendUnknownError,
  BudgetStillExceededError,
  decide,
  disableBatch,
  getKillSwitchState,
  KillSwitchStateChangedError,
  ReenableIncompleteError,
  reenableBatch,
} from '../../../lambdas/budget-guard/logic';
import type { BudgetNotification } from '../../../lambdas/budget-guard/parse';
import { automationSettings } from '../../helpers/automation';
import { ACCOUNT_ID, BUDGET_NAME } from './fixtures';
import {
  ALERT_TOPIC_ARN,
  auditItems,
  awsError,
  CONFIG,
  configOf,
  ENV,
  engagedItem,
  expectedScheduleUpdate,
  mocks,
  SPEND_CHECK,
  spend,
  stateItem,
  type World,
  world,
} from './harness';

const NOW = new Date('2026-12-01T09:30:00.000Z');
const OPTIONS = {
  now: () => NOW,
  newId: () => 'token-1',
  logger: new Logger({ serviceName: 'batch-control', logLevel: 'SILENT' }),
};
const ALICE = 'arn:aws:sts::222222222222:assumed-role/ops/alice';

const ENGAGED = engagedItem();
let w: World;
let clients: World['clients'];
let cfg: typeof CONFIG;

function publishes() {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

beforeEach(async () => {
  w = await world();
  clients = w.clients;
  cfg = configOf(w.table);
});

afterEach(async () => {
  await w.table.drop();
});

describe('decide', () => {
  const notification = (
    actualAmount: number,
    overrides: Partial<BudgetNotification> = {},
  ): BudgetNotification => ({
    budgetName: BUDGET_NAME,
    budgetedAmount: 2000,
    alertType: 'ACTUAL',
    actualAmount,
    ...overrides,
  });

  it.each([
    [2000, true],
    [2000.004, true],
    [1999.99, false],
    [1999.995, true],
  ])('compares in cents: $%d -> %s', (actual, act) => {
    expect(decide(notification(actual), CONFIG).act).toBe(act);
  });

  it('applies the configured percentage', () => {
    expect(decide(notification(1800), { ...CONFIG, killThresholdPercent: 90 })).toEqual({
      act: true,
      thresholdAmount: 1800,
      explanation: 'actual $1,800.00 >= 90% of budgeted $2,000.00 ($1,800.00)',
    });
    expect(
      decide(notification(1999.99, { budgetedAmount: 1999.99 }), { ...CONFIG, killThresholdPercent: 90 }).act,
    ).toBe(true);
  });

  it('checks the budget before the alert type and the amounts', () => {
    expect(decide(notification(5000, { budgetName: 'fa-ai-system-prod-Monthly' }), CONFIG)).toMatchObject({
      act: false,
      reason: 'other-budget',
    });
    expect(decide(notification(5000, { alertType: 'FORECASTED' }), CONFIG)).toMatchObject({
      act: false,
      reason: 'forecasted',
    });
  });
});

describe('reenableBatch', () => {
  // Mid-December: AWS Budgets' figure counts (it is not counted in a month's first 12 hours).
  const MID_MONTH = new Date('2026-12-15T09:30:00.000Z');
  const AT = { ...OPTIONS, now: () => MID_MONTH };
  const enable = (force: boolean, reason = 'r') =>
    reenableBatch(clients, cfg, SPEND_CHECK, { actor: ALICE, reason, force }, AT);

  beforeEach(async () => {
    await w.table.seed(ENGAGED);
  });

  it('refuses while the total spend (LLM and AWS) is still at or over the threshold, changing nothing', async () => {
    // LLM $1,300.12 (the world's) + AWS $699.88 = $2,000.00.
    spend().awsSpend({ batch: 10, interactive: 120, infrastructure: 70, monthly: 699.88 });

    const error = await enable(false, 'reviewed').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BudgetStillExceededError);
    expect(error).toMatchObject({
      budgetName: 'total',
      actualSpend: 2000,
      budgetLimit: 2000,
      thresholdAmount: 2000,
      message: expect.stringContaining(
        'actual spend $2,000.00 is still at or over the kill threshold $2,000.00',
      ),
    });
    // The figures it used: both LLM components from CloudWatch, AWS from the monthly budget.
    expect((error as Error).message).toContain('LLM batch $900.00 (CloudWatch LlmCostUsd, 2,000 calls)');
    expect((error as Error).message).toContain(
      'LLM interactive $400.12 (CloudWatch LlmCostUsd, 1,004 calls)',
    );
    expect((error as Error).message).toContain(`AWS $699.88 (AWS Budgets ${BUDGET_NAME} ActualSpend)`);
    expect(mocks.budgets).toHaveReceivedCommandWith(DescribeBudgetCommand, {
      AccountId: ACCOUNT_ID,
      BudgetName: BUDGET_NAME,
    });
    expect(await w.table.items()).toEqual([ENGAGED]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).not.toHaveReceivedAnyCommand();
    expect(mocks.sns).not.toHaveReceivedAnyCommand();
  });

  it('refuses on the LLM spend alone when AWS spend cannot be read but the rest reaches the threshold', async () => {
    spend()
      .cost('2026-12-14T01:00:00.000Z', 'batch', 8)
      .budget(BUDGET_NAME, () =>
        awsError('AccessDeniedException', 'not authorized to perform budgets:ViewBudget'),
      );
    for (let i = 0; i < 100; i++) spend().cost('2026-12-14T02:00:00.000Z', 'batch', 7);

    const error = await enable(false).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BudgetStillExceededError);
    expect((error as Error).message).toContain('actual spend $2,008.12');
    expect((error as Error).message).toContain('AWS UNKNOWN');
  });

  it('refuses when Budgets has no actual spend and the rest is under the threshold, unless forced', async () => {
    spend().budget(BUDGET_NAME, { limit: '2000.0' });
    const error = await enable(false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetSpendUnknownError);
    expect((error as Error).message).toContain('AWS unknown: Budgets reports no actual spend');
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);

    const result = await enable(true);
    expect(result.forced).toBe(true);
    expect(publishes()[0]?.Message).toContain('FORCED: the spend could not be read in full.');
  });

  it('refuses without spend settings (a stack deployed before the spend guard), unless forced', async () => {
    await expect(
      reenableBatch(clients, cfg, undefined, { actor: ALICE, reason: 'r', force: false }, AT),
    ).rejects.toThrow(/has no spend settings\): redeploy it; re-enabling refused/);
    expect(mocks.cloudwatch).not.toHaveReceivedAnyCommand();
    const result = await reenableBatch(
      clients,
      cfg,
      undefined,
      { actor: ALICE, reason: 'r', force: true },
      AT,
    );
    expect(result.forced).toBe(true);
  });

  it('re-enables over budget when forced, and says so', async () => {
    spend().awsSpend({ batch: 10, interactive: 120, infrastructure: 70, monthly: 750.38 });

    const result = await enable(true, 'month-end report must run');

    expect(result).toMatchObject({
      outcome: 'reenabled',
      wasEngaged: true,
      forced: true,
      actualSpend: 2050.5,
      budgetLimit: 2000,
    });
    const [audit] = await auditItems(w.table);
    expect(audit).toMatchObject({
      pk: 'AUDIT',
      action: 'batch-enable',
      actor: ALICE,
      source: 'cli',
      outcome: 'ok',
      details: {
        forced: true,
        forceRequested: true,
        actualSpend: 2050.5,
        budgetLimit: 2000,
        spendState: 'over',
        figures: expect.stringContaining('total $2,050.50 of $2,000.00 (102.5%)'),
        wasEngaged: true,
      },
    });
    expect(mocks.scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toEqual(
      expectedScheduleUpdate('ENABLED'),
    );
    expect(mocks.ssm).toHaveReceivedCommandExactlyOnceWith(PutParameterCommand, {
      Name: ENV.BATCH_SCHEDULE_STATE_PARAMETER,
      Value: 'ENABLED',
      Overwrite: true,
    });
    const [notice] = publishes();
    expect(notice?.Subject).toBe('[prod] Batch re-enabled (FORCED over budget)');
    expect(notice?.Message).toContain('FORCED: the spend is still at or over the threshold.');
  });

  it('re-enables under budget: releases the state as read, audits, enables the schedule and parameter', async () => {
    const result = await enable(false, 'new month');

    expect(result).toEqual({
      outcome: 'reenabled',
      wasEngaged: true,
      forced: false,
      actualSpend: 1500.12,
      budgetLimit: 2000,
      thresholdAmount: 2000,
      figures: expect.stringMatching(/^total \$1,500\.12 of \$2,000\.00 \(75\.0%\) = LLM batch \$900\.00/),
      auditSk: expect.stringMatching(/^2026-12-15T09:30:00\.000Z#[0-9a-f]{8}$/),
    });
    expect(mocks.scheduler).toHaveReceivedCommandWith(GetScheduleCommand, { Name: ENV.BATCH_SCHEDULE_NAME });
    expect(await stateItem(w.table)).toEqual({
      ...ENGAGED,
      engaged: false,
      complete: true,
      releasedAt: MID_MONTH.toISOString(),
      releasedBy: ALICE,
      releaseReason: 'new month',
    });
    const [audit, ...more] = await auditItems(w.table);
    expect(more).toEqual([]);
    expect(audit?.sk).toBe(result.auditSk);
    expect(audit).toMatchObject({
      outcome: 'ok',
      action: 'batch-enable',
      reason: 'new month',
      details: {
        forced: false,
        actualSpend: 1500.12,
        spendState: 'under',
        engagedAt: ENGAGED.engagedAt,
        engagedBy: 'budget-guard',
      },
    });
    expect(mocks.scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input.State).toBe('ENABLED');
    expect(mocks.ssm).toHaveReceivedCommandWith(PutParameterCommand, { Value: 'ENABLED' });
    const [notice] = publishes();
    expect(notice?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(notice?.Subject).toBe('[prod] Batch re-enabled');
    expect(notice?.Message).toContain(`re-enabled by ${ALICE}: new month`);
    expect(notice?.Message).toContain('Spend: total $1,500.12 of $2,000.00 (75.0%)');
    expect(notice?.Message).toContain('engaged since 2026-11-25T04:12:35.000Z by budget-guard');
  });

  it('in the first hours of a month counts no AWS spend (Budgets may still show the month that ended)', async () => {
    // 09:30 on the 1st: Budgets would still say November's $1,950.00.
    spend().now = NOW;
    spend()
      .cost('2026-12-01T03:00:00.000Z', 'batch', 5)
      .awsSpend({ batch: 10, interactive: 120, infrastructure: 70, monthly: 1950 });
    const result = await reenableBatch(
      clients,
      cfg,
      SPEND_CHECK,
      { actor: ALICE, reason: 'r', force: false },
      OPTIONS,
    );
    expect(result.forced).toBe(false);
    expect(result.actualSpend).toBe(5);
    expect(result.figures).toContain('AWS at least $0.00');
    expect(mocks.budgets).not.toHaveReceivedAnyCommand();
  });

  it('re-enables without a state item, writing only the audit', async () => {
    await w.table.drop();
    w = await world();
    clients = w.clients;
    cfg = configOf(w.table);
    const result = await enable(false);
    expect(result.wasEngaged).toBe(false);
    expect((await w.table.items()).map((i) => i.pk)).toEqual(['AUDIT']);
  });

  it('changes nothing when the kill switch engaged again in between', async () => {
    // Engaged again between the read and the release.
    const again = engagedItem({ engagedAt: '2026-12-15T09:29:59.000Z', attemptId: 'attempt-9' });
    w.table.afterCall('GetItem', 'KILL_SWITCH', () => w.table.seed(again));
    await expect(enable(false)).rejects.toBeInstanceOf(KillSwitchStateChangedError);
    expect(await w.table.items()).toEqual([again]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).not.toHaveReceivedAnyCommand();
  });

  it('reports and fails when the parameter cannot be written', async () => {
    mocks.ssm.on(PutParameterCommand).rejects(awsError('AccessDeniedException', 'denied'));

    await expect(enable(false)).rejects.toBeInstanceOf(ReenableIncompleteError);

    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    const [audit] = await auditItems(w.table);
    expect(audit).toMatchObject({
      outcome: 'partial',
      details: { failures: [expect.objectContaining({ call: 'PutParameter' })] },
    });
    expect(publishes().map((p) => p.Subject)).toEqual([
      '[prod] Batch re-enabled',
      '[prod] Batch re-enable INCOMPLETE',
    ]);
  });
});

describe('disableBatch', () => {
  it("acts even when already engaged (a human's request is never a duplicate) and audits the human", async () => {
    await w.table.seed(ENGAGED);
    const result = await disableBatch(clients, cfg, { actor: ALICE, reason: 'runaway batch' }, OPTIONS);

    expect(result.outcome).toBe('engaged');
    expect(await stateItem(w.table)).toMatchObject({
      engaged: true,
      complete: true,
      engagedBy: ALICE,
      source: 'cli',
      reason: 'runaway batch',
    });
    const [audit] = await auditItems(w.table);
    expect(audit).toMatchObject({ action: 'batch-disable', actor: ALICE, source: 'cli', outcome: 'ok' });
    expect(mocks.scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toEqual(
      expectedScheduleUpdate('DISABLED'),
    );
    expect(mocks.ssm).toHaveReceivedCommandWith(PutParameterCommand, { Value: 'DISABLED' });
    expect(mocks.sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 2);
    expect(publishes()[0]?.Message).toContain(
      `Triggered by ${ALICE} at ${NOW.toISOString()}: runaway batch.`,
    );
  });
});

describe('getKillSwitchState', () => {
  it('returns the parsed state', async () => {
    await w.table.seed(ENGAGED);
    const { pk: _pk, sk: _sk, ...state } = ENGAGED;
    await expect(getKillSwitchState(clients, cfg)).resolves.toEqual(state);
  });
});

describe('configFromEnv', () => {
  it('reads the environment', () => {
    expect(configFromEnv(ENV)).toEqual({
      ...CONFIG,
      budgetAccountId: ACCOUNT_ID,
      automation: automationSettings(CONFIG.opsTableName),
    });
    expect(configFromEnv({ ...ENV, KILL_THRESHOLD_PERCENT: '95' }).killThresholdPercent).toBe(95);
  });

  it('has no threshold of its own: a missing or blank one fails, naming it (config decides it)', () => {
    const { KILL_THRESHOLD_PERCENT: _t, ...missing } = ENV;
    expect(() => configFromEnv(missing)).toThrow(/KILL_THRESHOLD_PERCENT: is required/);
    expect(() => configFromEnv({ ...ENV, KILL_THRESHOLD_PERCENT: ' ' })).toThrow(
      /KILL_THRESHOLD_PERCENT: is required/,
    );
  });

  it('names every bad variable', () => {
    expect(() => configFromEnv({ ...ENV, KILL_THRESHOLD_PERCENT: 'lots', OPS_TABLE_NAME: ' ' })).toThrow(
      InvalidInputError,
    );
    expect(() => configFromEnv({ ...ENV, KILL_THRESHOLD_PERCENT: 'lots', OPS_TABLE_NAME: ' ' })).toThrow(
      /KILL_THRESHOLD_PERCENT: .*; OPS_TABLE_NAME: /,
    );
  });
});
