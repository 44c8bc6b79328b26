import 'aws-sdk-client-mock-vitest/extend';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import { SpendGuardIncompleteError } from '../../../lambdas/spend-guard/logic';
import {
  awsError,
  CONFIG,
  itemsOf,
  mocks,
  NOVEMBER_AWS,
  publishedTo,
  scenario,
  type World,
  world,
} from './harness';

// The guard's logic over simulated spend timelines (clock skew, failures, no publishing): the application publishing LlmCostUsd per
// call, AWS Budgets reporting AWS spend, the guard run as its schedule would run it.

let w: World;

afterEach(async () => {
  await w.table.drop();
});

const { run, advance } = scenario(() => w);

describe('clock skew', () => {
  it("a function clock behind the scheduled time is the one that is wrong: the scheduled time's month counts", async () => {
    w = await world('2026-11-30T23:58:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-29T02:00:00.000Z', 'batch', 650, { calls: 2000 });

    const result = await run(w.config, new Date('2026-12-01T00:00:00.000Z'));

    expect(result.clockSkewSeconds).toBe(120);
    expect(result.month).toBe('2026-12');
    expect(result.at).toBe('2026-12-01T00:00:00.000Z');
  });

  it('a clock ahead of the scheduled time (a late delivery) reads the spend as of its own time', async () => {
    w = await world('2026-11-20T15:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-20T13:00:00.000Z', 'batch', 650, { calls: 2000 });
    const result = await run(w.config, new Date('2026-11-20T12:00:00.000Z'));
    expect(result.clockSkewSeconds).toBe(0);
    expect(result.budgets.batch.spentUsd).toBe(660);
  });

  it('datapoints CloudWatch cannot show yet (its delay) are read by a later run, not lost', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.delayMs = 3 * 60_000;
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-20T11:58:00.000Z', 'batch', 650, { calls: 2000 });
    expect((await run()).budgets.batch.spentUsd).toBe(10);
    advance(15);
    expect((await run()).budgets.batch.spentUsd).toBe(660);
    expect(publishedTo()).toEqual([['email', '[prod] Spend 50% of the batch budget: $660.00 of $1,200.00']]);
  });
});

describe('failures', () => {
  it('a kill switch that fails leaves the threshold incomplete; the next run engages again', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-19T02:00:00.000Z', 'batch', 1250, { calls: 4000 });
    mocks.sfn.on(StopExecutionCommand).rejects(awsError('AccessDeniedException', 'not authorized'));

    const error = await run().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SpendGuardIncompleteError);
    expect((error as Error).message).toContain('engageKillSwitch');
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toContainEqual(
      expect.objectContaining({ sk: '2026-11#batch#100', complete: false }),
    );
    expect(publishedTo().map(([, s]) => s)).toEqual(
      expect.arrayContaining([
        '[prod] Budget kill switch INCOMPLETE: 1 action(s) failed',
        '[prod] Spend guard: 1 action(s) FAILED',
      ]),
    );

    mocks.sfn.on(StopExecutionCommand).resolves({ stopDate: w.clock.now });
    advance(15);
    const retried = await run();
    expect(retried.killSwitch).toBe('engaged');
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toContainEqual(
      expect.objectContaining({ sk: '2026-11#batch#100', complete: true }),
    );
  });

  it('a notice that cannot be published is sent by the next run', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-19T02:00:00.000Z', 'batch', 650, { calls: 2000 });
    mocks.sns.on(PublishCommand).rejects(awsError('KMSAccessDeniedException', 'key'));

    await expect(run()).rejects.toBeInstanceOf(SpendGuardIncompleteError);
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toEqual([
      expect.objectContaining({ sk: '2026-11#batch#50', complete: false }),
    ]);
    expect(await itemsOf(w.table, 'AUDIT')).toEqual([
      expect.objectContaining({ action: 'spend-alert', outcome: 'failed' }),
    ]);

    mocks.sns.on(PublishCommand).resolves({ MessageId: 'm' });
    advance(15);
    await run();
    expect(mocks.sns.commandCalls(PublishCommand).at(-1)?.args[0].input.Subject).toBe(
      '[prod] Spend 50% of the batch budget: $660.00 of $1,200.00',
    );
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toEqual([
      expect.objectContaining({ sk: '2026-11#batch#50', complete: true }),
    ]);
  });
});

describe('cost tracking not publishing', () => {
  it('interactive: queries counted but no LLM cost in the window is silent; with cost it is not', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).queries('2026-11-20T11:45:00.000Z', 40);
    expect((await run()).silence).toEqual({ batch: false, interactive: true });
    w.spend.cost('2026-11-20T11:50:00.000Z', 'interactive', 0.5, { calls: 10 });
    expect((await run()).silence).toEqual({ batch: false, interactive: false });
  });

  it('batch: a run RUNNING for the whole window without LLM cost is silent', async () => {
    w = await world('2026-11-22T06:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS);
    await w.table.seed({
      pk: 'BATCH_RUN',
      sk: '2026-11-22T05:00:00.000Z#weekly-2026-11-22',
      status: 'RUNNING',
      startedAt: '2026-11-22T05:00:00.000Z',
      executionArn: `${CONFIG.batch.stateMachineArn.replace(':stateMachine:', ':execution:')}:weekly-2026-11-22`,
    });
    expect((await run()).silence.batch).toBe(true);
    w.spend.cost('2026-11-22T05:50:00.000Z', 'batch', 3, { calls: 10 });
    expect((await run()).silence.batch).toBe(false);
  });

  it('not known when CloudWatch cannot be read', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.getMetricDataError = () => awsError('InternalServiceError', 'oops', 500);
    expect((await run()).silence.interactive).toEqual({
      unknown: expect.stringContaining('GetMetricData failed'),
    });
  });
});
