import 'aws-sdk-client-mock-vitest/extend';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it } from 'vitest';
import { llmCostSeries } from '../../../core/spend/metric';
import { daysIn, elapsedDays, previousSpendMonth, spendMonthOf } from '../../../core/spend/month';
import { killThresholdCheck, llmSpendQueries, queryEnd, readSpend } from '../../../core/spend/read';
import { spendSettingsOf } from '../../../lambdas/spend-guard/logic';
import { awsError, mocks, type World, world } from '../../lambdas/spend-guard/harness';

// The one computation of month-to-date spend (the guard's, batch enable's) against a simulated
// account answering as GetMetricData and DescribeBudget do.

let w: World;
afterEach(async () => {
  await w?.table.drop();
});

const read = (at = w.clock.now) => readSpend(w.clients, spendSettingsOf(w.config), { at });

describe('the budget month', () => {
  it('is the UTC calendar month, whatever the local time', () => {
    expect(spendMonthOf(new Date('2026-11-30T23:59:59.999Z')).key).toBe('2026-11');
    expect(spendMonthOf(new Date('2026-12-01T00:00:00.000Z'))).toEqual({
      key: '2026-12',
      start: new Date('2026-12-01T00:00:00.000Z'),
      end: new Date('2027-01-01T00:00:00.000Z'),
    });
    // 19:00 on Nov 30 in New York is already December in UTC.
    expect(spendMonthOf(new Date('2026-11-30T19:00:00-05:00')).key).toBe('2026-12');
    expect(previousSpendMonth(spendMonthOf(new Date('2027-01-15T00:00:00Z'))).key).toBe('2026-12');
    expect(daysIn(spendMonthOf(new Date('2028-02-10T00:00:00Z')))).toBe(29);
    const november = spendMonthOf(new Date('2026-11-01T00:00:00Z'));
    expect(elapsedDays(november, new Date('2026-11-11T00:00:00Z'))).toBe(10);
    expect(elapsedDays(november, new Date('2026-12-05T00:00:00Z'))).toBe(30);
  });

  it('counts a datapoint at 00:00 on the 1st in the new month, one a millisecond before in the old', async () => {
    w = await world('2026-12-15T00:00:00.000Z');
    w.spend
      .awsSpend({ batch: 0, interactive: 0, infrastructure: 0, monthly: 0 })
      .cost('2026-11-30T23:59:59.999Z', 'batch', 5)
      .cost('2026-12-01T00:00:00.000Z', 'batch', 7);
    expect((await read()).llm.batch).toMatchObject({ known: true, usd: 7 });
    const november = await readSpend(w.clients, spendSettingsOf(w.config), {
      at: w.clock.now,
      month: spendMonthOf(new Date('2026-11-05T00:00:00Z')),
    });
    expect(november.llm.batch).toMatchObject({ known: true, usd: 5 });
    expect(november.at).toEqual(new Date('2026-12-01T00:00:00.000Z'));
  });
});

describe('LLM spend', () => {
  it('sums every allowed series of the component, in one request for the month by day', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .cost('2026-11-02T01:00:00.000Z', 'batch', 10, { model: 'sonnet', calls: 10 })
      .cost('2026-11-03T01:00:00.000Z', 'batch', 3, { model: 'haiku', calls: 30 })
      .cost('2026-11-03T02:00:00.000Z', 'batch', 0.25, { provider: 'openai', model: 'embedding', calls: 50 })
      .cost('2026-11-03T02:00:00.000Z', 'batch', 99, { environment: 'staging', calls: 100 });

    const reading = await read();

    expect(reading.llm.batch).toMatchObject({ known: true, usd: 13.25, lowerBound: false });
    expect(reading.llm.batch.known && reading.llm.batch.source).toBe('CloudWatch LlmCostUsd, 90 calls');
    const [request] = mocks.cloudwatch.commandCalls(GetMetricDataCommand);
    // From the month's start to the whole hour at least 15 minutes ahead of the reading.
    expect(request?.args[0].input).toMatchObject({
      StartTime: new Date('2026-11-01T00:00:00.000Z'),
      EndTime: new Date('2026-11-20T13:00:00.000Z'),
      ScanBy: 'TimestampAscending',
    });
    expect(
      queryEnd(spendMonthOf(new Date('2026-11-30T23:50:00Z')), new Date('2026-11-30T23:50:00Z')),
    ).toEqual(new Date('2026-12-01T00:00:00.000Z'));
    expect(
      queryEnd(spendMonthOf(new Date('2026-11-20T12:44:00Z')), new Date('2026-11-20T12:44:00Z')),
    ).toEqual(new Date('2026-11-20T13:00:00.000Z'));
    expect(
      queryEnd(spendMonthOf(new Date('2026-11-20T12:46:00Z')), new Date('2026-11-20T12:46:00Z')),
    ).toEqual(new Date('2026-11-20T14:00:00.000Z'));
    expect(request?.args[0].input.MetricDataQueries).toHaveLength(llmCostSeries('prod').length * 4);
    expect(llmSpendQueries('prod')[0]).toEqual({
      Id: 'llm_batch_0_sum',
      MetricStat: {
        Metric: {
          Namespace: 'FA-AI-System',
          MetricName: 'LlmCostUsd',
          Dimensions: [
            { Name: 'Environment', Value: 'prod' },
            { Name: 'Component', Value: 'batch' },
            { Name: 'Provider', Value: 'anthropic' },
            { Name: 'Model', Value: 'sonnet' },
          ],
        },
        Period: 86_400,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
  });

  it("counts a call whose publisher's clock runs ahead of the guard's (timestamped 10 minutes later)", async () => {
    w = await world('2026-11-20T12:50:00.000Z');
    w.spend.cost('2026-11-20T13:00:00.000Z', 'batch', 4);
    w.clock.now = new Date('2026-11-20T13:01:00.000Z');
    expect((await read(new Date('2026-11-20T12:50:00.000Z'))).llm.batch).toMatchObject({
      known: true,
      usd: 4,
    });
  });

  it('follows NextToken across pages and merges the values', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    for (let day = 1; day <= 9; day++) w.spend.cost(`2026-11-0${day}T05:00:00.000Z`, 'interactive', 2);
    w.spend.pageSize = 4;
    expect((await read()).llm.interactive).toMatchObject({ known: true, usd: 18 });
    expect(mocks.cloudwatch.commandCalls(GetMetricDataCommand).length).toBe(3);
  });

  it('gives up as unknown, never zero, after too many pages', async () => {
    w = await world('2026-11-30T12:00:00.000Z');
    for (let day = 1; day <= 29; day++)
      w.spend.cost(`2026-11-${String(day).padStart(2, '0')}T05:00:00.000Z`, 'batch', 1);
    w.spend.pageSize = 2;
    const reading = await read();
    expect(reading.llm.batch).toMatchObject({
      known: false,
      reason: expect.stringContaining('still had more data after 5 pages'),
    });
  });

  it('a result that is not Complete makes its component unknown, naming the series and status', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.cost('2026-11-02T01:00:00.000Z', 'batch', 10).cost('2026-11-02T01:00:00.000Z', 'interactive', 4);
    w.spend.statusOf = (id) => (id === 'llm_interactive_1_maximum' ? 'InternalError' : undefined);
    const reading = await read();
    expect(reading.llm.batch).toMatchObject({ known: true, usd: 10 });
    expect(reading.llm.interactive).toMatchObject({
      known: false,
      reason: 'anthropic/haiku Maximum: status InternalError (InternalError: simulated)',
    });
    expect(reading.problems).toEqual([
      'LLM interactive unknown: anthropic/haiku Maximum: status InternalError (InternalError: simulated)',
    ]);
    expect(reading.budgets.interactive.complete).toBe(false);
  });
});

describe('AWS spend', () => {
  it('reads ActualSpend and the forecast of each budget, and keeps credits (negative spend) as Budgets says', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend({ batch: 10, interactive: 50, infrastructure: 60, monthly: 130 })
      .budget('fa-ai-system-prod-infrastructure', { actual: '-12.50' })
      .budget('fa-ai-system-prod-monthly', { actual: '130.00', forecast: '201.25' });
    const reading = await read();
    expect(reading.aws.infrastructure).toMatchObject({
      known: true,
      usd: -12.5,
      note: 'negative: credits or refunds',
    });
    expect(reading.aws.total).toMatchObject({ known: true, usd: 130, forecastUsd: 201.25 });
    expect(reading.problems).toEqual([]);
  });

  it('a budget missing, in another currency, with no or an unreadable amount: unknown, named', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.budgets.clear();
    w.spend
      .budget('fa-ai-system-prod-batch', { actual: '10.00', unit: 'EUR' })
      .budget('fa-ai-system-prod-interactive', { actual: 'lots' })
      .budget('fa-ai-system-prod-monthly', {});
    const reading = await read();
    expect(reading.problems).toEqual([
      'AWS batch unknown: actual spend is in EUR, not USD',
      'AWS interactive unknown: actual spend "lots" is not an amount',
      expect.stringMatching(
        /^AWS infrastructure unknown: DescribeBudget failed: NotFoundException: .*doesn't exist/,
      ),
      'AWS unknown: Budgets reports no actual spend (CalculatedSpend missing)',
    ]);
  });

  it('is not counted in the first awsSettleHours of a month', async () => {
    w = await world('2026-12-01T11:59:00.000Z');
    w.spend.awsSpend({ batch: 1000, interactive: 500, infrastructure: 190, monthly: 1950 });
    expect((await read()).budgets.total).toMatchObject({ spentUsd: 0, complete: true });
    w.clock.now = new Date('2026-12-01T12:00:00.000Z');
    expect((await read()).budgets.total.spentUsd).toBe(1950);
  });
});

describe('a budget against its kill threshold', () => {
  it('is over on what was read even when a figure is missing, unknown when under but incomplete', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend
      .awsSpend({ batch: 10, interactive: 50, infrastructure: 60, monthly: 130 })
      .cost('2026-11-19T01:00:00.000Z', 'batch', 1950, { calls: 4000 });
    expect(killThresholdCheck(await read(), 'total', 100)).toMatchObject({
      state: 'over',
      thresholdUsd: 2000,
      figures: expect.stringMatching(/^total \$2,080\.00 of \$2,000\.00 \(104\.0%\) = LLM batch \$1,950\.00/),
    });
    w.spend.budget('fa-ai-system-prod-monthly', () => awsError('ThrottlingException', 'Rate exceeded'));
    // AWS unknown: $1,950 read reaches 90% of $2,000, not 100%.
    expect(killThresholdCheck(await read(), 'total', 90).state).toBe('over');
    expect(killThresholdCheck(await read(), 'total', 100).state).toBe('unknown');
    w.spend.budget('fa-ai-system-prod-monthly', { actual: '30.00' });
    expect(killThresholdCheck(await read(), 'total', 100)).toMatchObject({ state: 'under' });
  });

  it('compares in cents: $1,999.995 reaches $2,000.00, $1,999.99 does not', async () => {
    w = await world('2026-11-20T12:00:00.000Z');
    w.spend.awsSpend({ batch: 0, interactive: 0, infrastructure: 0, monthly: 1999.99 });
    expect(killThresholdCheck(await read(), 'total', 100).state).toBe('under');
    w.spend.cost('2026-11-19T01:00:00.000Z', 'batch', 0.005);
    expect(killThresholdCheck(await read(), 'total', 100).state).toBe('over');
  });
});
