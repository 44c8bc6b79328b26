import 'aws-sdk-client-mock-vitest/extend';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  awsError,
  batchControls,
  itemsOf,
  mocks,
  NOVEMBER_AWS,
  published,
  publishedTo,
  scenario,
  TOPICS,
  type World,
  world,
} from './harness';

// The guard's logic over simulated spend timelines: the application publishing LlmCostUsd per
// call, AWS Budgets reporting AWS spend, the guard run as its schedule would run it.

let w: World;

afterEach(async () => {
  await w.table.drop();
});

const { run, advance, batchNotices } = scenario(() => w);

describe('a month of batch spend crossing each threshold', () => {
  it('emails at 50%, posts to chat at 75%, pages at 90%, disables the batch at 100%: each once', async () => {
    // Day 5: too early in the month for a projection (forecastMinDays 7).
    w = await world('2026-11-05T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS);
    // Batch budget $1,200: LLM batch $650 + AWS batch $10 = $660 (55%).
    w.spend.cost('2026-11-04T02:00:00.000Z', 'batch', 650, { calls: 2000 });

    const first = await run();
    expect(first.budgets.batch).toMatchObject({ spentUsd: 660, limitUsd: 1200, percent: 55, complete: true });
    expect(publishedTo()).toEqual([['email', '[prod] Spend 50% of the batch budget: $660.00 of $1,200.00']]);
    expect(published()[0]?.Message).toContain(
      'Figures used: batch $660.00 of $1,200.00 (55.0%) = LLM batch $650.00 (CloudWatch LlmCostUsd, 2,000 calls) + ' +
        'AWS batch $10.00 (AWS Budgets fa-ai-system-prod-batch ActualSpend).',
    );
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toEqual([
      expect.objectContaining({ sk: '2026-11#batch#50', complete: true, outcome: 'notified', spentUsd: 660 }),
    ]);

    // The next run: nothing new, nothing sent.
    advance(15);
    await run();
    expect(published()).toHaveLength(1);

    // $960 (80%): chat.
    w.spend.cost('2026-11-05T12:05:00.000Z', 'batch', 300, { calls: 900 });
    advance(15);
    await run();
    expect(batchNotices().at(-1)).toEqual([
      'chat',
      '[prod] Spend 75% of the batch budget: $960.00 of $1,200.00',
    ]);

    // $1,090 (90.8%): page.
    w.spend.cost('2026-11-05T12:35:00.000Z', 'batch', 130, { calls: 400 });
    advance(15);
    await run();
    expect(batchNotices().at(-1)).toEqual([
      'page',
      '[prod] Spend 90% of the batch budget: $1,090.00 of $1,200.00',
    ]);
    expect(batchControls()).toBe(0);

    // $1,200 (100%): the kill switch, through the Budgets path's own code.
    w.spend.cost('2026-11-05T12:50:00.000Z', 'batch', 110, { calls: 300 });
    advance(15);
    const killed = await run();
    expect(killed.killSwitch).toBe('engaged');
    expect(mocks.ssm).toHaveReceivedCommandWith(PutParameterCommand, { Value: 'DISABLED' });
    expect(mocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, { error: 'BudgetKillSwitch' });
    const engaged = published().at(-1);
    expect(engaged?.TopicArn).toBe(TOPICS.page);
    expect(engaged?.Subject).toBe(
      '[prod] Budget kill switch ENGAGED: batch disabled ($1,200.00 of $1,200.00)',
    );
    expect(engaged?.Message).toContain(
      'Figures used: batch $1,200.00 of $1,200.00 (100.0%) = LLM batch $1,190.00',
    );
    expect(await w.table.item('KILL_SWITCH', 'STATE')).toMatchObject({
      engaged: true,
      complete: true,
      engagedBy: 'spend-guard',
      source: 'spend-guard',
      budgetName: 'batch',
    });
    expect(await itemsOf(w.table, 'AUDIT')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'kill-switch-engage', source: 'spend-guard', outcome: 'ok' }),
        expect.objectContaining({ action: 'spend-alert', source: 'spend-guard', outcome: 'ok' }),
      ]),
    );
    expect((await itemsOf(w.table, 'SPEND_ALERT')).map((i) => [i.sk, i.complete])).toEqual([
      ['2026-11#batch#100', true],
      ['2026-11#batch#50', true],
      ['2026-11#batch#75', true],
      ['2026-11#batch#90', true],
      ['2026-11#total#50', true],
    ]);

    // Later runs change nothing.
    const controls = batchControls();
    advance(15);
    await run();
    advance(15);
    await run();
    expect(batchControls()).toBe(controls);
    // The total's 50% email at $1,080 came too, and nothing after the kill switch.
    expect(published()).toHaveLength(5);
  });

  it('jumping past several thresholds at once sends one page for them and engages once', async () => {
    w = await world('2026-11-05T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-05T02:00:00.000Z', 'batch', 1300, { calls: 4000 });

    const result = await run();

    expect(result.killSwitch).toBe('engaged');
    // The batch budget's page, the kill switch's page; the total ($1,430, 71.5%) its 50% email.
    expect(
      publishedTo()
        .map(([to, subject]) => `${to} ${subject}`)
        .sort(),
    ).toEqual([
      'email [prod] Spend 50% of the total budget: $1,430.00 of $2,000.00',
      'page [prod] Budget kill switch ENGAGED: batch disabled ($1,310.00 of $1,200.00)',
      'page [prod] Spend 90% of the batch budget: $1,310.00 of $1,200.00',
    ]);
    const notice = published().find((p) => p.Subject?.includes('of the batch budget'));
    expect(notice?.Message).toContain('reached 50%, 75%, 90%');
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
  });

  it('holds the kill switch while the automation is paused: no batch control, the page says what it would have done', async () => {
    w = await world('2026-11-05T12:00:00.000Z');
    await w.table.seed({
      pk: 'AUTOMATION',
      sk: 'PAUSE',
      reason: 'budget review',
      until: '2026-11-06T00:00:00.000Z',
      by: 'alice',
      at: '2026-11-05T11:00:00.000Z',
    });
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-05T02:00:00.000Z', 'batch', 1300, { calls: 4000 });

    const result = await run();

    expect(result.killSwitch).toBe('held');
    expect(batchControls()).toBe(0);
    expect(published().some((p) => p.Message?.includes('automation is PAUSED'))).toBe(true);
    // Answered: the next run of the pause does not page again for the same threshold.
    const pages = published().length;
    advance(15);
    await run();
    expect(published()).toHaveLength(pages);
  });

  it("records the engagement for the repeat guard and schedules its read-back, as the budget path's", async () => {
    w = await world('2026-11-05T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-05T02:00:00.000Z', 'batch', 1300, { calls: 4000 });

    expect((await run()).killSwitch).toBe('engaged');

    expect(mocks.scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    const records = (await w.table.items()).filter((i) => i.pk === 'AUTOMATION_ACTION');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'kill-switch-engage', source: 'spend-guard' });
  });

  it('engages the kill switch once when two budgets reach the kill threshold in one run', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend({ batch: 10, interactive: 50, infrastructure: 60, monthly: 500 })
      .cost('2026-11-19T02:00:00.000Z', 'batch', 1250, { calls: 4000 })
      .cost('2026-11-19T12:00:00.000Z', 'interactive', 300, { calls: 3000 });

    const result = await run();

    expect(result.budgets.total.spentUsd).toBe(2050);
    expect(result.killSwitch).toBe('engaged');
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    const state = await w.table.item('KILL_SWITCH', 'STATE');
    expect(state).toMatchObject({ budgetName: 'total', actualAmount: 2050, budgetedAmount: 2000 });
    expect(state?.reason).toContain('batch budget $1,260.00 of $1,200.00 (105.0%), total budget $2,050.00');
    expect(result.actions.filter((a) => a.action === 'disable-batch')).toEqual([
      expect.objectContaining({ budget: 'batch', level: 100, outcome: 'done' }),
      expect.objectContaining({ budget: 'total', level: 100, outcome: 'done' }),
    ]);
  });

  it('says the batch is already disabled when a kill threshold is reached while the switch is engaged', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    await w.table.seed({
      pk: 'KILL_SWITCH',
      sk: 'STATE',
      engaged: true,
      complete: true,
      engagedAt: '2026-11-18T03:00:00.000Z',
      engagedBy: 'alice',
      reason: 'runaway cost',
    });
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-19T02:00:00.000Z', 'batch', 1250, { calls: 4000 });

    const result = await run();

    expect(result.killSwitch).toBe('duplicate');
    expect(batchControls()).toBe(0);
    const notice = published().find((p) => p.Subject?.includes('already disabled'));
    expect(notice?.TopicArn).toBe(TOPICS.page);
    expect(notice?.Message).toContain('already engaged (since 2026-11-18T03:00:00.000Z by alice)');
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toContainEqual(
      expect.objectContaining({ sk: '2026-11#batch#100', complete: true, outcome: 'already-engaged' }),
    );
  });

  it('pages, without disabling the batch, at 100% of a budget that is not a kill-switch budget', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-19T12:00:00.000Z', 'interactive', 560, { calls: 9000 });

    const result = await run({ ...w.config, killSwitchBudgets: ['total'] });

    expect(result.killSwitch).toBeUndefined();
    expect(batchControls()).toBe(0);
    const [[to, subject]] = publishedTo() as [[string, string]];
    expect(to).toBe('page');
    expect(subject).toBe('[prod] Spend 100% of the interactive budget: $610.00 of $600.00');
    expect(published()[0]?.Message).toContain('The batch is NOT disabled for it');
  });
});

describe('the month-end projection', () => {
  it('warns once (chat) when month-to-date spend projected to the month end passes 100%', async () => {
    // Day 10 of 30. AWS by Budgets' forecast ($400: untagged spend too), LLM linearly.
    w = await world('2026-11-11T00:00:00.000Z');
    w.spend
      .awsSpend(NOVEMBER_AWS)
      .budget('fa-ai-system-prod-monthly', { actual: '130.00', forecast: '400.00' })
      .cost('2026-11-05T02:00:00.000Z', 'batch', 385, { calls: 1000 })
      .cost('2026-11-09T02:00:00.000Z', 'interactive', 109, { calls: 3000 });

    const result = await run();

    // $624 to date; LLM $494 x 3 + AWS $400 = $1,882 by the end: under the $2,000.
    expect(result.budgets.total.spentUsd).toBe(624);
    expect(result.budgets.total.projectedUsd).toBe(1882);
    expect(publishedTo()).toEqual([]);

    w.spend.cost('2026-11-10T20:00:00.000Z', 'interactive', 41, { calls: 1000 });
    advance(15);
    await run();
    expect(publishedTo()).toEqual([
      [
        'chat',
        expect.stringMatching(
          /^\[prod\] Spend forecast: the total budget heads for \$2,003\.\d\d \(limit \$2,000\.00\)$/,
        ),
      ],
    ]);
    expect(published().at(-1)?.Message).toContain('Nothing is disabled by a forecast');
    advance(15);
    await run();
    expect(publishedTo()).toHaveLength(1);
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toEqual([
      expect.objectContaining({ sk: '2026-11#total#forecast', complete: true }),
    ]);
  });

  it('does not project before forecastMinDays: one batch run early in the month is not a trend', async () => {
    w = await world('2026-11-02T00:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-01T05:00:00.000Z', 'batch', 385, { calls: 1000 });
    const result = await run();
    expect(result.budgets.batch.projectedUsd).toBeGreaterThan(10_000);
    expect(publishedTo().filter(([, s]) => s?.includes('forecast'))).toEqual([]);
  });
});

describe('spend that cannot be read', () => {
  it('pages "spend unknown", changes nothing, holds, reminds, and says when it is read again', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-19T02:00:00.000Z', 'batch', 1250, { calls: 4000 });
    w.spend.getMetricDataError = () =>
      awsError('AccessDeniedException', 'not authorized to perform cloudwatch:GetMetricData');

    const result = await run();

    expect(result.unknown).toBe('notify');
    expect(result.killSwitch).toBeUndefined();
    expect(batchControls()).toBe(0);
    expect(publishedTo()).toEqual([['page', '[prod] Spend UNKNOWN: LLM batch, LLM interactive']]);
    const page = published()[0]?.Message ?? '';
    expect(page).toContain('- LLM batch unknown: GetMetricData failed: AccessDeniedException');
    expect(page).toContain('batch at least $10.00 of $1,200.00');
    expect(page).toContain('Nothing is done on spend that cannot be read');
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toEqual([]);
    expect(await w.table.item('SPEND_GUARD', 'SPEND_UNKNOWN')).toMatchObject({
      figures: ['LLM batch', 'LLM interactive'],
      since: '2026-11-20T12:00:00.000Z',
    });

    advance(15);
    expect((await run()).unknown).toBe('hold');
    advance(45);
    expect((await run()).unknown).toBe('remind');
    expect(publishedTo().at(-1)).toEqual([
      'page',
      '[prod] Spend UNKNOWN (still): LLM batch, LLM interactive',
    ]);

    // Readable again: the recovery, then the thresholds the spend had reached.
    w.spend.getMetricDataError = undefined;
    advance(15);
    const recovered = await run();
    expect(recovered.unknown).toBe('recover');
    expect(recovered.killSwitch).toBe('engaged');
    expect(publishedTo().map(([, s]) => s)).toContain(
      '[prod] Spend readable again: LLM batch, LLM interactive',
    );
    expect(await w.table.item('SPEND_GUARD', 'SPEND_UNKNOWN')).toBeUndefined();
  });

  it('acts on what it could read: LLM batch alone past 100% disables the batch, AWS unknown is paged', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend(NOVEMBER_AWS)
      .budget('fa-ai-system-prod-batch', () => awsError('ThrottlingException', 'Rate exceeded'))
      .cost('2026-11-19T02:00:00.000Z', 'batch', 1205, { calls: 4000 });

    const result = await run();

    expect(result.budgets.batch).toMatchObject({ spentUsd: 1205, complete: false });
    expect(result.killSwitch).toBe('engaged');
    expect(result.unknown).toBe('notify');
    const engaged = published().find((p) => p.Subject?.includes('kill switch ENGAGED'));
    expect(engaged?.Message).toContain('batch at least $1,205.00 of $1,200.00');
    expect(engaged?.Message).toContain(
      'AWS batch UNKNOWN (AWS Budgets fa-ai-system-prod-batch: DescribeBudget failed: ThrottlingException',
    );
    expect(publishedTo().map(([, s]) => s)).toContain('[prod] Spend UNKNOWN: AWS batch');
  });
});

describe('values that break the metric contract', () => {
  it('a negative value: the day counts at least its largest call, the figure is paged as in doubt', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend(NOVEMBER_AWS)
      .cost('2026-11-18T02:00:00.000Z', 'batch', 500, { calls: 100 })
      .cost('2026-11-19T02:00:00.000Z', 'batch', 100, { calls: 50 })
      .cost('2026-11-19T03:00:00.000Z', 'batch', -300);

    const result = await run();

    // Nov 18: $500; Nov 19: sum -$200, largest call $2: at least $2.
    expect(result.budgets.batch.spentUsd).toBe(512);
    expect(result.problems).toEqual([
      'LLM batch: anthropic/sonnet on 2026-11-19: negative values (minimum -$300.00), counted at least $2.00',
    ]);
    expect(publishedTo()).toEqual([['page', '[prod] Spend UNKNOWN: LLM batch']]);
  });

  it('an absurd value: a $5,000 call is not believed, its day is left out and paged, nothing disabled', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend(NOVEMBER_AWS)
      .cost('2026-11-18T02:00:00.000Z', 'batch', 300, { calls: 1000 })
      .cost('2026-11-19T02:00:00.000Z', 'batch', 5000);

    const result = await run();

    expect(result.budgets.batch.spentUsd).toBe(310);
    expect(result.killSwitch).toBeUndefined();
    expect(batchControls()).toBe(0);
    expect(result.problems[0]).toContain(
      'anthropic/sonnet on 2026-11-19: a call reported $5,000.00 (over $10.00 per call is not believed), that day',
    );
    expect(publishedTo()).toEqual([['page', '[prod] Spend UNKNOWN: LLM batch']]);
  });

  it('no data: no call reported counts $0 (no call), read, not paged', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS);
    const result = await run();
    expect(result.budgets.interactive).toMatchObject({ spentUsd: 50, complete: true });
    expect(result.budgets.interactive.figures).toContain(
      'LLM interactive $0.00 (CloudWatch LlmCostUsd, 0 calls (no data))',
    );
    expect(result.problems).toEqual([]);
    expect(publishedTo()).toEqual([]);
  });

  it('a value of another Provider or Model is not counted (the contract names the allowed ones)', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend(NOVEMBER_AWS)
      .cost('2026-11-19T02:00:00.000Z', 'batch', 900, { model: 'opus', calls: 900 });
    expect((await run()).budgets.batch.spentUsd).toBe(10);
  });
});

describe('the UTC month boundary', () => {
  it('a new month starts at $0 with every threshold armed again; the month that ended is read once more for late data', async () => {
    w = await world('2026-11-30T23:50:00.000Z');
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-11-29T02:00:00.000Z', 'batch', 1080, { calls: 4000 });
    await run();
    expect(publishedTo().map(([, s]) => s)).toEqual([
      '[prod] Spend 90% of the batch budget: $1,090.00 of $1,200.00',
      '[prod] Spend 50% of the total budget: $1,210.00 of $2,000.00',
    ]);

    // Published at 23:58 on the 30th, after the last November run read the spend.
    w.spend.cost('2026-11-30T23:58:00.000Z', 'batch', 120, { calls: 300 });
    advance(25);
    // 00:15 UTC on the 1st: December is $0; November's late data reaches 100%: notified, not acted on.
    const result = await run();
    expect(result.month).toBe('2026-12');
    expect(result.previousMonth).toBe('2026-11');
    expect(result.budgets.batch.spentUsd).toBe(0);
    expect(result.killSwitch).toBeUndefined();
    expect(batchControls()).toBe(0);
    const late = published().at(-1);
    expect(late?.TopicArn).toBe(TOPICS.page);
    expect(late?.Subject).toBe(
      '[prod] Spend 100% of the batch budget (2026-11, late data): at least $1,200.00 of $1,200.00',
    );
    expect(late?.Message).toContain('2026-11 is over');
    // Its AWS part is not counted any more: Budgets reports December by now.
    expect(late?.Message).toContain(
      'AWS batch at least $0.00 (AWS Budgets fa-ai-system-prod-batch; not counted for a month that has ended',
    );
    expect((await itemsOf(w.table, 'SPEND_ALERT')).map((i) => i.sk)).toContain('2026-11#batch#100');

    // Half an hour into December, November is no longer read.
    advance(30);
    expect((await run()).previousMonth).toBeUndefined();
    const monthReads = mocks.cloudwatch
      .commandCalls(GetMetricDataCommand)
      .filter((c) => c.args[0].input.MetricDataQueries?.[0]?.Id?.startsWith('llm_'));
    expect(monthReads.at(-1)?.args[0].input.StartTime).toEqual(new Date('2026-12-01T00:00:00.000Z'));
  });

  it('thresholds of the month that ended do not hold back the new one', async () => {
    w = await world('2026-12-20T12:00:00.000Z');
    await w.table.seed({ pk: 'SPEND_ALERT', sk: '2026-11#batch#50', complete: true, attemptId: 'old' });
    w.spend.awsSpend(NOVEMBER_AWS).cost('2026-12-19T02:00:00.000Z', 'batch', 650, { calls: 2000 });
    await run();
    expect(publishedTo()).toEqual([['email', '[prod] Spend 50% of the batch budget: $660.00 of $1,200.00']]);
  });

  it("in a month's first hours AWS Budgets' figure is not counted: it may still be the month that ended", async () => {
    w = await world('2026-12-01T03:00:00.000Z');
    // Budgets still shows November's $1,950 an hour into December.
    w.spend.awsSpend({ batch: 1190, interactive: 50, infrastructure: 60, monthly: 1950 });
    const result = await run();
    expect(result.budgets.total.spentUsd).toBe(0);
    expect(result.budgets.total.figures).toContain(
      'AWS at least $0.00 (AWS Budgets fa-ai-system-prod-monthly; not counted in the first 12 h',
    );
    expect(publishedTo()).toEqual([]);
    expect(mocks.budgets).not.toHaveReceivedAnyCommand();
  });
});
