import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { beforeEach, describe, expect, it } from 'vitest';
import { ReportedSpendUnreadableError } from '../../../lambdas/spend-reconcile/errors';
import { readReportedCosts, reportedSearch } from '../../../lambdas/spend-reconcile/reported';
import { awsError, NO_SLEEP } from '../../helpers/aws';
import { answer, cloudwatchMock, llmCost, serveCloudWatch } from './cloudwatch';

const RANGE = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z') };
const cloudwatch = new CloudWatchClient({ region: 'us-east-1' });

beforeEach(() => {
  serveCloudWatch([
    llmCost(
      'anthropic',
      { '2026-11-29': 40, '2026-11-30': 30 },
      { component: 'batch', model: 'claude-sonnet-4-5' },
    ),
    llmCost('anthropic', { '2026-11-30': 2.5 }, { component: 'interactive', model: 'claude-haiku-4-5' }),
    llmCost('openai', { '2026-11-30': 0.75 }, { component: 'batch' }),
    // Another environment's series and one without the contract's dimensions are not prod's.
    llmCost('anthropic', { '2026-11-30': 999 }, { environment: 'staging' }),
    { dimensions: { Environment: 'prod', Provider: 'anthropic' }, daily: { '2026-11-30': 555 } },
  ]);
});

describe("the application's reported LLM cost", () => {
  it('sums every component and model of a provider per UTC day', async () => {
    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP);

    expect(reported.anthropic.get('2026-11-30')).toBeCloseTo(32.5, 9);
    expect(reported.anthropic.get('2026-11-29')).toBeCloseTo(40, 9);
    expect(reported.openai.get('2026-11-30')).toBeCloseTo(0.75, 9);
    expect(reported.openai.has('2026-11-29')).toBe(false);
  });

  it('asks once, for both providers, over the whole range in daily periods', async () => {
    await readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP);

    const calls = cloudwatchMock.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.StartTime).toEqual(RANGE.start);
    expect(input?.EndTime).toEqual(RANGE.end);
    expect(input?.MetricDataQueries?.map((q) => q.Id)).toEqual(['anthropic', 'openai']);
    expect(input?.MetricDataQueries?.[0]?.Expression).toBe(
      `SUM(SEARCH('{FA-AI-System,Component,Environment,Model,Provider} MetricName="LlmCostUsd" ` +
        `Environment="prod" Provider="anthropic"', 'Sum', 86400))`,
    );
  });

  it('builds the search from the metric contract', () => {
    expect(reportedSearch('dev', 'openai')).toContain('Environment="dev" Provider="openai"');
  });

  it('retries a throttled GetMetricData', async () => {
    cloudwatchMock
      .on(GetMetricDataCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .callsFake(answer);

    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP);

    expect(reported.anthropic.get('2026-11-30')).toBeCloseTo(32.5, 9);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('follows NextToken and joins the pages of each query', async () => {
    cloudwatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          {
            Id: 'anthropic',
            Timestamps: [new Date('2026-11-30T00:00:00Z')],
            Values: [30],
            StatusCode: 'PartialData',
          },
          { Id: 'openai', Timestamps: [], Values: [], StatusCode: 'Complete' },
        ],
        NextToken: 'next-1',
      })
      .resolvesOnce({
        MetricDataResults: [
          {
            Id: 'anthropic',
            Timestamps: [new Date('2026-11-29T00:00:00Z')],
            Values: [40],
            StatusCode: 'Complete',
          },
        ],
      });

    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP);

    expect([...reported.anthropic]).toEqual([
      ['2026-11-30', 30],
      ['2026-11-29', 40],
    ]);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('next-1');
  });

  it('refuses an answer left incomplete (PartialData without a NextToken)', async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'anthropic', Timestamps: [], Values: [], StatusCode: 'PartialData' },
        { Id: 'openai', Timestamps: [], Values: [], StatusCode: 'Complete' },
      ],
    });

    await expect(readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP)).rejects.toThrow(
      /anthropic's LLM cost incompletely \(StatusCode PartialData\)/,
    );
  });

  it('refuses a negative reported cost as garbage', async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'anthropic',
          Timestamps: [new Date('2026-11-30T00:00:00Z')],
          Values: [-4],
          StatusCode: 'Complete',
        },
        { Id: 'openai', Timestamps: [], Values: [], StatusCode: 'Complete' },
      ],
    });

    const error = await readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReportedSpendUnreadableError);
    expect((error as Error).message).toContain('reported -4 USD of anthropic cost');
  });

  it('reports CloudWatch failing past its retries as ReportedSpendUnreadableError', async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(awsError('InternalServiceFault', 'boom', 500));

    await expect(
      readReportedCosts(cloudwatch, 'prod', RANGE, { ...NO_SLEEP, attempts: 2 }),
    ).rejects.toBeInstanceOf(ReportedSpendUnreadableError);
  });

  it('finds no series silent for two weeks (CloudWatch search): the month then reads lower', async () => {
    serveCloudWatch([
      llmCost('anthropic', { '2026-11-02': 10 }, { model: 'claude-retired' }),
      llmCost('anthropic', { '2026-11-30': 5 }),
    ]);

    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE, NO_SLEEP);

    expect(reported.anthropic.has('2026-11-02')).toBe(false);
    expect(reported.anthropic.get('2026-11-30')).toBe(5);
  });
});
