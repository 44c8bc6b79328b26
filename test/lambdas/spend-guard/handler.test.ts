import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { serialize } from '../../../core/contracts/spend-guard';
import { InvalidInputError } from '../../../core/errors';
import { handleEvent } from '../../../lambdas/spend-guard/handler';
import { SpendGuardIncompleteError } from '../../../lambdas/spend-guard/logic';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import { awsError, handlerWorld, itemsOf, metricValue, mocks, publishedTo, TOPICS } from './harness';

checkDeclaredCalls('spend-guard');

const NOW = '2026-11-05T12:00:30.000Z';
const SCHEDULED = '2026-11-05T12:00:00Z';
const EVENT = { scheduledTime: SCHEDULED, executionId: '7d6a1c9e-8f2b-4c1d-9a3e-5b6f7a8b9c0d' };
const AWS = { batch: 10, interactive: 50, infrastructure: 60, monthly: 130 };

const hw = handlerWorld(NOW);

function awsCalls(): number {
  return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0) + hw.w.table.sent.length;
}

/** Batch at 55%: the 50% email is due. */
function halfBatch(): void {
  hw.w.spend.awsSpend(AWS).cost('2026-11-04T02:00:00.000Z', 'batch', 650, { calls: 2000 });
}

describe('a scheduled run', () => {
  it('reads the spend, takes the due action, records it and reports a heartbeat', async () => {
    halfBatch();

    const result = await handleEvent(EVENT, hw.deps());

    expect(result).toMatchObject({
      at: NOW,
      month: '2026-11',
      clockSkewSeconds: 0,
      unknown: 'none',
      problems: [],
      actions: [{ month: '2026-11', budget: 'batch', level: 50, action: 'notify-email', outcome: 'done' }],
      silence: { batch: false, interactive: false },
    });
    expect(result.budgets.total).toMatchObject({
      spentUsd: 780,
      limitUsd: 2000,
      percent: 39,
      complete: true,
    });
    expect(publishedTo()).toEqual([['email', '[prod] Spend 50% of the batch budget: $660.00 of $1,200.00']]);
    expect(await itemsOf(hw.w.table, 'SPEND_ALERT')).toEqual([
      expect.objectContaining({ sk: '2026-11#batch#50', complete: true, attemptId: 'attempt-1' }),
    ]);
    expect(metricValue(hw.obs.emf, 'Heartbeat')).toBe(1);
    // Only when there is something to say: a custom metric bills every hour it has data.
    expect(metricValue(hw.obs.emf, 'SpendUnknown')).toBeUndefined();
    expect(metricValue(hw.obs.emf, 'LateDeliverySeconds')).toBeUndefined();
    expect(metricValue(hw.obs.emf, 'SpendActions')).toBe(1);
    const silent = hw.obs.emf.filter((d) => 'LlmCostSilent' in d);
    expect(silent.map((d) => [d.Component, d.Environment, d.service, d.LlmCostSilent])).toEqual([
      ['batch', 'prod', 'spend-guard', 0],
      ['interactive', 'prod', 'spend-guard', 0],
    ]);
    const main = hw.obs.emf.find((d) => 'Heartbeat' in d);
    expect(main).toMatchObject({ Environment: 'prod', service: 'spend-guard' });
  });
});

describe('malformed input', () => {
  it('refuses an event that is not the schedule input, before any AWS call', async () => {
    for (const event of [
      undefined,
      {},
      null,
      'now',
      { scheduledTime: 'yesterday' },
      { scheduledTime: 7 },
      [EVENT],
    ]) {
      await expect(handleEvent(event, hw.deps())).rejects.toBeInstanceOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
    expect(metricValue(hw.obs.emf, 'Heartbeat')).toBeUndefined();
    expect(metricValue(hw.obs.emf, 'SpendGuardFailed')).toBe(1);
  });

  it('refuses a configuration that breaks its contract, naming each variable, before any AWS call', async () => {
    const env = {
      ...serialize(hw.w.config),
      BUDGETS: '[{"id":"batch","limitUsd":1200,"awsBudgetName":"b"}]',
      KILL_SWITCH_BUDGETS: '["batch"]',
      MAX_CALL_COST_USD: '10 dollars',
    };
    const error = await handleEvent(EVENT, hw.deps({ env })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(
      'BUDGETS: must hold each of batch, interactive, infrastructure, total once',
    );
    expect((error as Error).message).toContain('KILL_SWITCH_BUDGETS: must include total');
    expect((error as Error).message).toContain('MAX_CALL_COST_USD');
    expect(awsCalls()).toBe(0);
  });

  it('ignores fields it does not know', async () => {
    halfBatch();
    const result = await handleEvent({ ...EVENT, detail: { x: 1 }, source: 'manual' }, hw.deps());
    expect(result.actions).toHaveLength(1);
  });
});

describe('throttling', () => {
  it('retries throttled reads and reaches the same result', async () => {
    halfBatch();
    hw.w.spend
      .failNext('GetMetricData', () => awsError('ThrottlingException', 'Rate exceeded'), 2)
      .failNext('DescribeBudget', () => awsError('ThrottlingException', 'Rate exceeded'), 1);

    const result = await handleEvent(EVENT, hw.deps());

    expect(result.problems).toEqual([]);
    expect(result.budgets.batch.spentUsd).toBe(660);
    expect(publishedTo()).toEqual([['email', '[prod] Spend 50% of the batch budget: $660.00 of $1,200.00']]);
  });
});

describe('partial failure', () => {
  it('one notice failing: the others are done and recorded, it stays incomplete, the run fails after reporting', async () => {
    // Batch 55% (email) and interactive 76.7% (chat); the email topic rejects.
    halfBatch();
    hw.w.spend.cost('2026-11-04T12:00:00.000Z', 'interactive', 410, { calls: 8000 });
    mocks.sns
      .on(PublishCommand, { TopicArn: TOPICS.email })
      .rejects(awsError('AuthorizationErrorException', 'denied'));

    const error = await handleEvent(EVENT, hw.deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SpendGuardIncompleteError);
    expect((error as Error).message).toContain('notice 2026-11 batch: AuthorizationErrorException');
    expect((await itemsOf(hw.w.table, 'SPEND_ALERT')).map((i) => [i.sk, i.complete])).toEqual([
      ['2026-11#batch#50', false],
      ['2026-11#interactive#50', true],
      ['2026-11#interactive#75', true],
      // The total at $1,190 (59.5%): its email fails too.
      ['2026-11#total#50', false],
    ]);
    expect(publishedTo().map(([to]) => to)).toEqual(expect.arrayContaining(['chat', 'page']));
    expect(publishedTo().find(([, s]) => s?.includes('FAILED'))?.[0]).toBe('page');
    expect(metricValue(hw.obs.emf, 'Heartbeat')).toBeUndefined();
    expect(metricValue(hw.obs.emf, 'SpendGuardFailed')).toBe(1);
  });
});

describe('repeated and late deliveries', () => {
  it('a duplicate delivery changes nothing more and sends nothing more', async () => {
    halfBatch();
    const first = await handleEvent(EVENT, hw.deps());
    const items = await hw.w.table.items();
    const sent = mocks.sns.commandCalls(PublishCommand).length;

    const second = await handleEvent(EVENT, hw.deps());

    expect(second.budgets).toEqual(first.budgets);
    expect(second.actions).toEqual([]);
    expect(await hw.w.table.items()).toEqual(items);
    expect(mocks.sns.commandCalls(PublishCommand)).toHaveLength(sent);
  });

  it('a late delivery is an ordinary run on the spend as it is now', async () => {
    halfBatch();
    const late = { ...EVENT, scheduledTime: '2026-11-05T09:00:00Z' };

    const result = await handleEvent(late, hw.deps());

    expect(result.at).toBe(NOW);
    expect(result.actions).toEqual([
      expect.objectContaining({ budget: 'batch', level: 50, outcome: 'done' }),
    ]);
    expect(metricValue(hw.obs.emf, 'LateDeliverySeconds')).toBe(3 * 3600 + 30);
  });

  it('a function clock behind the scheduled time uses the scheduled time, and says by how much', async () => {
    const result = await handleEvent({ ...EVENT, scheduledTime: '2026-11-05T12:05:30Z' }, hw.deps());
    expect(result.at).toBe('2026-11-05T12:05:30.000Z');
    expect(metricValue(hw.obs.emf, 'ClockSkewSeconds')).toBe(300);
  });
});
