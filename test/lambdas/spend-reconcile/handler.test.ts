import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { handleEvent } from '../../../lambdas/spend-reconcile/handler';
import type { ReconciliationReport } from '../../../lambdas/spend-reconcile/logic';
import { awsError } from '../../helpers/aws';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import { answer, cloudwatchMock, llmCost, serveCloudWatch } from './cloudwatch';
import {
  apis,
  depsOf,
  ENV,
  healthyBills,
  healthyWorld,
  metricOf,
  NOW,
  published,
  SCHEDULED,
  SECRET_ARNS,
  secretsMock,
  useProviders,
  type World,
} from './harness';

checkDeclaredCalls('spend-reconcile');
useProviders();

let world: World;

beforeEach(() => {
  world = healthyWorld();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const outcome = (report: ReconciliationReport, provider: string) =>
  report.providers.find((p) => p.provider === provider);

/** Every call the handler made anywhere: AWS and the providers. */
const callsMade = () =>
  cloudwatchMock.commandCalls(GetMetricDataCommand).length +
  secretsMock.commandCalls(GetSecretValueCommand).length +
  apis.anthropic.requests.length +
  apis.openai.requests.length;

describe('the scheduled run', () => {
  it('reconciles yesterday (UTC) and its month for both providers and publishes the figures', async () => {
    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(report).toMatchObject({ environment: 'prod', day: '2026-11-30', monthStart: '2026-11-01' });
    expect(report.providers.map((p) => p.status)).toEqual(['reconciled', 'reconciled']);
    const dims = { service: 'spend-reconcile', Environment: 'prod', Provider: 'anthropic' };
    expect(metricOf(world.emf, 'LlmBilledCostUsd', { ...dims, Window: 'day' })).toBe(20);
    expect(metricOf(world.emf, 'LlmBilledCostUsd', { ...dims, Window: 'month' })).toBe(600);
    expect(metricOf(world.emf, 'LlmReportedCostUsd', { ...dims, Window: 'month' })).toBe(600);
    expect(metricOf(world.emf, 'LlmCostDiscrepancyPercent', { ...dims, Window: 'day' })).toBe(0);
    expect(metricOf(world.emf, 'LlmBilledCostUsd', { Provider: 'openai', Window: 'month' })).toBe(30);
    for (const provider of ['anthropic', 'openai']) {
      expect(metricOf(world.emf, 'LlmCostUnderReported', { Provider: provider })).toBe(0);
      expect(metricOf(world.emf, 'LlmCostOverReported', { Provider: provider })).toBe(0);
      expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: provider })).toBe(0);
    }
    expect(metricOf(world.emf, 'LlmCostReconciliationHeartbeat', { Environment: 'prod' })).toBe(1);
  });

  it('publishes each metric with exactly the dimensions of its catalogue entry', async () => {
    await handleEvent(SCHEDULED, depsOf(world));

    const dimsOf = (name: string) => published(world.emf).find((m) => m.name === name)?.dimensions;
    expect(Object.keys(dimsOf('LlmBilledCostUsd') ?? {}).sort()).toEqual([
      'Environment',
      'Provider',
      'Window',
      'service',
    ]);
    expect(Object.keys(dimsOf('LlmCostUnderReported') ?? {}).sort()).toEqual([
      'Environment',
      'Provider',
      'service',
    ]);
    expect(Object.keys(dimsOf('LlmCostReconciliationHeartbeat') ?? {}).sort()).toEqual([
      'Environment',
      'service',
    ]);
  });

  it('reads each admin key once per execution environment, not once per run', async () => {
    await handleEvent(SCHEDULED, depsOf(world));
    await handleEvent({ scheduledTime: '2026-12-02T11:00:00Z' }, depsOf(world));

    expect(
      secretsMock
        .commandCalls(GetSecretValueCommand)
        .map((c) => c.args[0].input.SecretId)
        .sort(),
    ).toEqual([SECRET_ARNS.anthropic, SECRET_ARNS.openai]);
  });

  it('flags under-reporting with the figures it used', async () => {
    serveCloudWatch([
      llmCost(
        'anthropic',
        Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [`2026-11-${String(i + 1).padStart(2, '0')}`, 15]),
        ),
      ),
      llmCost(
        'openai',
        Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [`2026-11-${String(i + 1).padStart(2, '0')}`, 1]),
        ),
      ),
    ]);
    const warn = vi.spyOn(world.observability.logger, 'warn');

    await handleEvent(SCHEDULED, depsOf(world));

    expect(metricOf(world.emf, 'LlmCostUnderReported', { Provider: 'anthropic' })).toBe(1);
    expect(metricOf(world.emf, 'LlmCostDiscrepancyPercent', { Provider: 'anthropic', Window: 'month' })).toBe(
      25,
    );
    expect(metricOf(world.emf, 'LlmCostUnderReported', { Provider: 'openai' })).toBe(0);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'month 2026-11-01..2026-11-30: billed $600.00, reported $450.00 (25%, under-reported)',
      ),
      expect.anything(),
    );
  });

  it('does not send a provider the generated placeholder of an admin key secret never set', async () => {
    world.secretValues[SECRET_ARNS.openai] = 'Xq8#generated-by-secrets-manager-32c';

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(outcome(report, 'openai')).toMatchObject({ status: 'unknown', reason: 'admin-key' });
    expect((outcome(report, 'openai') as { detail: string }).detail).toContain(
      `aws secretsmanager put-secret-value --secret-id ${SECRET_ARNS.openai}`,
    );
    expect((outcome(report, 'openai') as { detail: string }).detail).not.toContain('Xq8#generated');
    expect(apis.openai.requests).toHaveLength(0);
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'openai' })).toBe(1);
    expect(outcome(report, 'anthropic')).toMatchObject({ status: 'reconciled' });
  });
});

describe('malformed input', () => {
  it.each([
    ['{}', {}],
    ['undefined', undefined],
    ['a scheduled time that is no time', { scheduledTime: 'yesterday' }],
    ['a day that does not exist', { day: '2026-11-31' }],
    ['both a scheduled time and a day', { ...SCHEDULED, day: '2026-11-30' }],
    ['an SNS event', { Records: [{ EventSource: 'aws:sns' }] }],
  ])('refuses %s with InvalidInputError and calls nothing', async (_label, event) => {
    await expect(handleEvent(event, depsOf(world))).rejects.toBeInstanceOf(InvalidInputError);
    expect(callsMade()).toBe(0);
    expect(metricOf(world.emf, 'LlmCostReconciliationHeartbeat')).toBeUndefined();
  });

  it('names what was expected', async () => {
    await expect(handleEvent({}, depsOf(world))).rejects.toThrow(
      /expected exactly one of \{"scheduledTime": "<ISO time>"\} \(the schedule\) or \{"day": "YYYY-MM-DD"\}/,
    );
  });

  it('refuses a configuration it cannot use, naming the variable, before calling anything', async () => {
    const env = { ...ENV, MAX_DISCREPANCY_PERCENT: 'five' };

    await expect(handleEvent(SCHEDULED, depsOf(world, { env }))).rejects.toThrow(/MAX_DISCREPANCY_PERCENT/);
    expect(callsMade()).toBe(0);
  });

  it('reconciles a day an operator names, with its month to that day', async () => {
    const report = await handleEvent({ day: '2026-11-15' }, depsOf(world));

    expect(outcome(report, 'anthropic')).toMatchObject({
      month: { billedUsd: 300, from: '2026-11-01', to: '2026-11-15' },
    });
  });

  it.each([
    ['tomorrow', '2026-12-02'],
    ['before last month', '2026-10-31'],
  ])('refuses a day %s', async (_label, day) => {
    await expect(handleEvent({ day }, depsOf(world))).rejects.toThrow(
      /expected a day from 2026-11-01 .* to 2026-12-01/,
    );
    expect(callsMade()).toBe(0);
  });
});

describe('throttling', () => {
  it('retries a throttled GetMetricData: the same report as unthrottled', async () => {
    const plain = await handleEvent(SCHEDULED, depsOf(healthyWorld()));
    world = healthyWorld();
    cloudwatchMock
      .on(GetMetricDataCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .callsFake(answer);

    const throttled = await handleEvent(SCHEDULED, depsOf(world));

    expect(throttled).toEqual(plain);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('calls both providers unknown when CloudWatch stays throttled, and still reports the run', async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));

    const report = await handleEvent(SCHEDULED, depsOf(world));

    for (const p of report.providers)
      expect(p).toMatchObject({ status: 'unknown', reason: 'reported-unreadable' });
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'anthropic' })).toBe(1);
    expect(metricOf(world.emf, 'LlmCostUnderReported')).toBeUndefined();
    expect(metricOf(world.emf, 'LlmCostReconciliationHeartbeat')).toBe(1);
  });

  it("waits out a provider's 429 and reconciles", async () => {
    apis.openai.script(
      [{ status: 429, headers: { 'retry-after': '3' }, body: { error: { message: 'Rate limit reached' } } }],
      healthyBills.openai,
    );

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(outcome(report, 'openai')).toMatchObject({ status: 'reconciled' });
    expect(world.clock.sleeps).toContain(3_000);
  });
});

describe('partial failure', () => {
  it('reconciles Anthropic when OpenAI refuses its key, reports OpenAI unknown and reads its key again next run', async () => {
    apis.openai.respond(() => ({ status: 401, body: { error: { message: 'Incorrect API key provided' } } }));
    const warn = vi.spyOn(world.observability.logger, 'warn');

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(outcome(report, 'anthropic')).toMatchObject({ status: 'reconciled' });
    expect(outcome(report, 'openai')).toMatchObject({ status: 'unknown', reason: 'bill-unreadable' });
    expect((outcome(report, 'openai') as { detail: string }).detail).toMatch(
      /^ProviderAuthError: openai refused/,
    );
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'openai' })).toBe(1);
    expect(metricOf(world.emf, 'LlmCostUnderReported', { Provider: 'openai' })).toBeUndefined();
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'anthropic' })).toBe(0);
    expect(warn).toHaveBeenCalledWith(
      'openai NOT reconciled for 2026-11-30: bill-unreadable',
      expect.anything(),
    );

    await handleEvent(SCHEDULED, depsOf(world));
    const reads = secretsMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(reads.filter((arn) => arn === SECRET_ARNS.openai)).toHaveLength(2);
    expect(reads.filter((arn) => arn === SECRET_ARNS.anthropic)).toHaveLength(1);
  });

  it('reconciles OpenAI when Anthropic answers garbage', async () => {
    apis.anthropic.respond(() => ({ status: 200, body: { data: 'nope' } }));

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(outcome(report, 'anthropic')).toMatchObject({ status: 'unknown', reason: 'bill-unreadable' });
    expect(outcome(report, 'openai')).toMatchObject({ status: 'reconciled' });
  });
});

describe('duplicate and late delivery', () => {
  it('a duplicate delivery reconciles the same day again with the same figures', async () => {
    const first = await handleEvent(SCHEDULED, depsOf(world));
    const firstMetrics = published(world.emf);
    world.emf.length = 0;

    const second = await handleEvent(SCHEDULED, depsOf(world));

    expect(second).toEqual(first);
    expect(published(world.emf)).toEqual(firstMetrics);
  });

  it('a delivery 5 hours late reconciles the day of its scheduled time, as the on-time one would', async () => {
    const onTime = await handleEvent(SCHEDULED, depsOf(world));
    world = healthyWorld(new Date(NOW.getTime() + 5 * 3_600_000));

    const late = await handleEvent(SCHEDULED, depsOf(world));

    expect(late).toEqual(onTime);
  });

  it("reconciles nothing when the schedule's time is ahead of this function's clock (clock skew)", async () => {
    world = healthyWorld(new Date('2026-12-01T04:00:00Z'));

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(report.day).toBe('2026-11-30');
    for (const p of report.providers) expect(p).toMatchObject({ status: 'unknown', reason: 'not-complete' });
    expect(apis.anthropic.requests.length + apis.openai.requests.length).toBe(0);
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'openai' })).toBe(1);
    expect(metricOf(world.emf, 'LlmCostReconciliationHeartbeat')).toBe(1);
  });
});
