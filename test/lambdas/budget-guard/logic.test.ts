import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import { InvalidInputError } from '../../../lambdas/shared/errors';
import { ACCOUNT_ID, BUDGET_NAME } from './fixtures';
import {
  ALERT_TOPIC_ARN,
  auditItems,
  awsError,
  budget,
  CONFIG,
  configOf,
  ENV,
  engagedItem,
  expectedScheduleUpdate,
  mocks,
  NO_SLEEP,
  stateItem,
  type World,
  world,
} from './harness';

const NOW = new Date('2026-12-01T09:30:00.000Z');
const OPTIONS = {
  now: () => NOW,
  newId: () => 'token-1',
  retry: NO_SLEEP,
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
  beforeEach(async () => {
    await w.table.seed(ENGAGED);
  });

  it('refuses while the actual spend is still at or over the threshold, changing nothing', async () => {
    mocks.budgets
      .on(DescribeBudgetCommand)
      .resolves({ Budget: budget({ actual: '2000.0', limit: '2000.0' }) });

    const error = await reenableBatch(
      clients,
      cfg,
      { actor: ALICE, reason: 'reviewed', force: false },
      OPTIONS,
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BudgetStillExceededError);
    expect(error).toMatchObject({
      budgetName: BUDGET_NAME,
      actualSpend: 2000,
      budgetLimit: 2000,
      thresholdAmount: 2000,
      message: expect.stringContaining(
        'actual spend $2,000.00 is still at or over the kill threshold $2,000.00',
      ),
    });
    expect(mocks.budgets).toHaveReceivedCommandWith(DescribeBudgetCommand, {
      AccountId: ACCOUNT_ID,
      BudgetName: BUDGET_NAME,
    });
    expect(await w.table.items()).toEqual([ENGAGED]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).not.toHaveReceivedAnyCommand();
    expect(mocks.sns).not.toHaveReceivedAnyCommand();
  });

  it('refuses when Budgets has no actual spend, unless forced', async () => {
    mocks.budgets.on(DescribeBudgetCommand).resolves({ Budget: budget({ limit: '2000.0' }) });
    await expect(
      reenableBatch(clients, cfg, { actor: ALICE, reason: 'r', force: false }, OPTIONS),
    ).rejects.toBeInstanceOf(BudgetSpendUnknownError);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);

    const result = await reenableBatch(clients, cfg, { actor: ALICE, reason: 'r', force: true }, OPTIONS);
    expect(result.forced).toBe(true);
  });

  it('re-enables over budget when forced, and says so', async () => {
    mocks.budgets
      .on(DescribeBudgetCommand)
      .resolves({ Budget: budget({ actual: '2050.5', limit: '2000.0' }) });

    const result = await reenableBatch(
      clients,
      cfg,
      { actor: ALICE, reason: 'month-end report must run', force: true },
      OPTIONS,
    );

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
    const result = await reenableBatch(
      clients,
      cfg,
      { actor: ALICE, reason: 'new month', force: false },
      OPTIONS,
    );

    expect(result).toEqual({
      outcome: 'reenabled',
      wasEngaged: true,
      forced: false,
      actualSpend: 1500.12,
      budgetLimit: 2000,
      thresholdAmount: 2000,
      auditSk: expect.stringMatching(/^2026-12-01T09:30:00\.000Z#[0-9a-f]{8}$/),
    });
    expect(mocks.scheduler).toHaveReceivedCommandWith(GetScheduleCommand, { Name: ENV.BATCH_SCHEDULE_NAME });
    expect(await stateItem(w.table)).toEqual({
      ...ENGAGED,
      engaged: false,
      complete: true,
      releasedAt: NOW.toISOString(),
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
    expect(notice?.Message).toContain('actual spend $1,500.12 of $2,000.00');
    expect(notice?.Message).toContain('engaged since 2026-11-25T04:12:35.000Z by budget-guard');
  });

  it('re-enables without a state item, writing only the audit', async () => {
    await w.table.drop();
    w = await world();
    clients = w.clients;
    cfg = configOf(w.table);
    const result = await reenableBatch(clients, cfg, { actor: ALICE, reason: 'r', force: false }, OPTIONS);
    expect(result.wasEngaged).toBe(false);
    expect((await w.table.items()).map((i) => i.pk)).toEqual(['AUDIT']);
  });

  it('changes nothing when the kill switch engaged again in between', async () => {
    // Engaged again between the read and the release.
    const again = engagedItem({ engagedAt: '2026-12-01T09:29:59.000Z', attemptId: 'attempt-9' });
    w.table.afterCall('GetItem', 'KILL_SWITCH', () => w.table.seed(again));
    await expect(
      reenableBatch(clients, cfg, { actor: ALICE, reason: 'r', force: false }, OPTIONS),
    ).rejects.toBeInstanceOf(KillSwitchStateChangedError);
    expect(await w.table.items()).toEqual([again]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).not.toHaveReceivedAnyCommand();
  });

  it('reports and fails when the parameter cannot be written', async () => {
    mocks.ssm.on(PutParameterCommand).rejects(awsError('AccessDeniedException', 'denied'));

    await expect(
      reenableBatch(clients, cfg, { actor: ALICE, reason: 'r', force: false }, OPTIONS),
    ).rejects.toBeInstanceOf(ReenableIncompleteError);

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
    await expect(getKillSwitchState(clients, cfg, OPTIONS)).resolves.toEqual(state);
  });
});

describe('configFromEnv', () => {
  it('reads the environment', () => {
    expect(configFromEnv(ENV)).toEqual({ ...CONFIG, budgetAccountId: ACCOUNT_ID });
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
