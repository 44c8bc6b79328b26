import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { beforeEach, describe, expect, it } from 'vitest';
import { ReportedSpendUnreadableError } from '../../../lambdas/spend-reconcile/errors';
import { readReportedCosts, reportedQueries } from '../../../lambdas/spend-reconcile/reported';
import { awsError } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { answer, cloudwatchMock, llmCost, serveCloudWatch } from './cloudwatch';

const RANGE = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z') };
const cloudwatch = testClient(CloudWatchClient, { region: 'us-east-1' });

beforeEach(() => {
  serveCloudWatch([
    llmCost('anthropic', { '2026-11-29': 40, '2026-11-30': 30 }, { component: 'batch', model: 'sonnet' }),
    llmCost('anthropic', { '2026-11-30': 2.5 }, { component: 'interactive', model: 'haiku' }),
    llmCost('openai', { '2026-11-30': 0.75 }, { component: 'batch' }),
    // Not prod's contract series: another environment, a model outside the contract, other dimensions.
    llmCost('anthropic', { '2026-11-30': 999 }, { environment: 'staging' }),
    llmCost('anthropic', { '2026-11-30': 77 }, { model: 'claude-opus-4' }),
    { dimensions: { Environment: 'prod', Provider: 'anthropic' }, daily: { '2026-11-30': 555 } },
  ]);
});

describe("the application's reported LLM cost", () => {
  it("sums a provider's contract series (every component and model) per UTC day, and no other", async () => {
    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE);

    expect(reported.anthropic.get('2026-11-30')).toBeCloseTo(32.5, 9);
    expect(reported.anthropic.get('2026-11-29')).toBeCloseTo(40, 9);
    expect(reported.openai.get('2026-11-30')).toBeCloseTo(0.75, 9);
    expect(reported.openai.has('2026-11-29')).toBe(false);
  });

  it('asks once, for every series the contract allows, over the whole range in daily Sums', async () => {
    await readReportedCosts(cloudwatch, 'prod', RANGE);

    const calls = cloudwatchMock.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.StartTime).toEqual(RANGE.start);
    expect(input?.EndTime).toEqual(RANGE.end);
    // 2 components x (2 Anthropic models + 1 OpenAI model).
    expect(input?.MetricDataQueries).toHaveLength(6);
    expect(input?.MetricDataQueries?.[0]).toEqual({
      Id: 'q0',
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

  it('builds the queries from the metric contract, one environment at a time', () => {
    const queries = reportedQueries('dev');
    expect(new Set(queries.map((q) => q.provider))).toEqual(new Set(['anthropic', 'openai']));
    expect(queries.every((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value === 'dev')).toBe(true);
  });

  it('retries a throttled GetMetricData', async () => {
    cloudwatchMock
      .on(GetMetricDataCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .callsFake(answer);

    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE);

    expect(reported.anthropic.get('2026-11-30')).toBeCloseTo(32.5, 9);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('follows NextToken and joins the pages of each query', async () => {
    const complete = (id: string): MetricDataResult => ({
      Id: id,
      Timestamps: [],
      Values: [],
      StatusCode: 'Complete',
    });
    const ids = reportedQueries('prod').map((q) => q.Id as string);
    cloudwatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          {
            Id: 'q0',
            Timestamps: [new Date('2026-11-30T00:00:00Z')],
            Values: [30],
            StatusCode: 'PartialData',
          },
          ...ids.slice(1).map(complete),
        ],
        NextToken: 'next-1',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Timestamps: [new Date('2026-11-29T00:00:00Z')], Values: [40], StatusCode: 'Complete' },
        ],
      });

    const reported = await readReportedCosts(cloudwatch, 'prod', RANGE);

    expect([...reported.anthropic]).toEqual([
      ['2026-11-30', 30],
      ['2026-11-29', 40],
    ]);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('next-1');
  });

  it('refuses an answer left incomplete (PartialData without a NextToken)', async () => {
    const ids = reportedQueries('prod').map((q) => q.Id as string);
    cloudwatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: ids.map((id, i) => ({
        Id: id,
        Timestamps: [],
        Values: [],
        StatusCode: i === 2 ? 'PartialData' : 'Complete',
      })),
    });

    await expect(readReportedCosts(cloudwatch, 'prod', RANGE)).rejects.toThrow(
      /LLM cost of openai \["prod","batch","openai","embedding"\] incompletely \(StatusCode PartialData\)/,
    );
  });

  it('refuses a negative reported cost as garbage', async () => {
    serveCloudWatch([
      llmCost('anthropic', { '2026-11-30': -4 }, { component: 'interactive', model: 'haiku' }),
    ]);

    const error = await readReportedCosts(cloudwatch, 'prod', RANGE).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReportedSpendUnreadableError);
    expect((error as Error).message).toContain(
      'reported -4 USD for anthropic ["prod","interactive","anthropic","haiku"]',
    );
  });

  it('reports CloudWatch failing past its retries as ReportedSpendUnreadableError', async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(awsError('InternalServiceFault', 'boom', 500));

    await expect(readReportedCosts(cloudwatch, 'prod', RANGE)).rejects.toBeInstanceOf(
      ReportedSpendUnreadableError,
    );
  });
});
