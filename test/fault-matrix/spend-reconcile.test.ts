import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import * as source from '../../lambdas/spend-reconcile/handler';
import { underTest } from '../bundles/under-test';
import { answer, cloudwatchMock } from '../lambdas/spend-reconcile/cloudwatch';
import {
  apis,
  depsOf,
  healthyWorld,
  metricOf,
  published,
  SCHEDULED,
  SECRET_ARNS,
  secretsMock,
  useProviders,
  type World,
} from '../lambdas/spend-reconcile/harness';
import { cell, denied, throttled, timedOut } from './matrix';

const lambda = underTest('spend-reconcile', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

useProviders();
let world: World;

beforeEach(() => {
  world = healthyWorld();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function callsMade(): number {
  return (
    cloudwatchMock.calls().length +
    secretsMock.calls().length +
    apis.anthropic.requests.length +
    apis.openai.requests.length
  );
}

/** The report of the plain scheduled event in a fresh healthy world; the world is fresh again after. */
async function plainReport() {
  const report = await handleEvent(SCHEDULED, depsOf(healthyWorld()));
  world = healthyWorld();
  return report;
}

const statusOf = (report: Awaited<ReturnType<typeof plainReport>>) =>
  Object.fromEntries(report.providers.map((p) => [p.provider, p.status === 'unknown' ? p.reason : p.status]));

lambda.describe('spend-reconcile fault matrix', () => {
  cell('spend-reconcile', 'malformed-event', async () => {
    for (const event of [
      'daily',
      null,
      { scheduledTime: 1733036400 },
      { day: '2026-02-30' },
      [{ scheduledTime: SCHEDULED.scheduledTime }],
    ]) {
      await expect(handleEvent(event, depsOf(world))).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(callsMade()).toBe(0);
  });

  cell('spend-reconcile', 'empty-event', async () => {
    await expect(handleEvent({}, depsOf(world))).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, depsOf(world))).rejects.toBeErrorOf(InvalidInputError);
    expect(callsMade()).toBe(0);
  });

  cell('spend-reconcile', 'extra-fields', async () => {
    const plain = await plainReport();

    const report = await handleEvent({ ...SCHEDULED, attempt: 2, detail: { x: 1 } }, depsOf(world));

    expect(report).toEqual(plain);
  });

  cell('spend-reconcile', 'throttling', async () => {
    const plain = await plainReport();
    cloudwatchMock
      .on(GetMetricDataCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .callsFake(answer);
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ARNS.anthropic })
      .rejectsOnce(throttled())
      .resolves({ ARN: SECRET_ARNS.anthropic, SecretString: world.secretValues[SECRET_ARNS.anthropic] });

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(report).toEqual(plain);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(3);
  });

  cell('spend-reconcile', 'access-denied', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ARNS.openai })
      .rejects(denied('secretsmanager:GetSecretValue'));

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(statusOf(report)).toEqual({ anthropic: 'reconciled', openai: 'admin-key' });
    expect(apis.openai.requests).toHaveLength(0);
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'openai' })).toBe(1);
  });

  cell('spend-reconcile', 'timeout', async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(timedOut());

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(statusOf(report)).toEqual({ anthropic: 'reported-unreadable', openai: 'reported-unreadable' });
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(5);
    expect(metricOf(world.emf, 'LlmCostUnderReported')).toBeUndefined();
    expect(metricOf(world.emf, 'LlmCostReconciliationHeartbeat')).toBe(1);
  });

  cell('spend-reconcile', 'partial-failure', async () => {
    apis.anthropic.respond(() => ({ status: 500, body: { type: 'error', error: { type: 'api_error' } } }));

    const report = await handleEvent(SCHEDULED, depsOf(world));

    expect(statusOf(report)).toEqual({ anthropic: 'bill-unreadable', openai: 'reconciled' });
    expect(apis.anthropic.requests).toHaveLength(4);
    expect(metricOf(world.emf, 'LlmCostReconciliationUnknown', { Provider: 'anthropic' })).toBe(1);
    expect(metricOf(world.emf, 'LlmBilledCostUsd', { Provider: 'openai', Window: 'month' })).toBe(30);
  });

  cell('spend-reconcile', 'duplicate-delivery', async () => {
    const first = await handleEvent(SCHEDULED, depsOf(world));
    const firstMetrics = published(world.emf);
    world.emf.length = 0;

    const second = await handleEvent(SCHEDULED, depsOf(world));

    expect(second).toEqual(first);
    expect(published(world.emf)).toEqual(firstMetrics);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
