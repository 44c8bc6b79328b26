import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import type { HealthReport } from '../../core/health/report';
import type { HandlerDeps } from '../../lambdas/health-check/handler';
import * as source from '../../lambdas/health-check/handler';
import { underTest } from '../bundles/under-test';
import {
  clients,
  ENV,
  healthyWorld,
  mocks,
  NOW,
  serve,
  TOPICS,
  targetGroupArn,
} from '../lambdas/health-check/fixtures';
import { awsError, cell, denied, throttled, timedOut } from './matrix';

const lambda = underTest('health-check', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

let logger: Logger;
let metrics: Metrics;
let emf: string[];

beforeEach(() => {
  serve(healthyWorld());
  emf = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    emf.push(String(chunk));
    return true;
  });
  logger = new Logger({ serviceName: 'health-check', logLevel: 'SILENT' });
  metrics = new Metrics({ namespace: 'Test/Automation', serviceName: 'health-check' });
});

afterEach(() => {
  vi.restoreAllMocks();
});

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: clients(),
    env: ENV,
    now: () => NOW,
    observability: { logger, metrics },
    ...overrides,
  };
}

function awsCalls(): number {
  return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0);
}

function statuses(report: HealthReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

async function plainReport(check: 'light' | 'morning'): Promise<HealthReport> {
  const report = await handleEvent({ check }, deps());
  serve(healthyWorld());
  return report;
}

lambda.describe('health-check fault matrix', () => {
  cell('health-check', 'malformed-event', async () => {
    for (const event of ['morning', null, { check: 'hourly' }, { check: 7 }, [{ check: 'light' }]]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
  });

  cell('health-check', 'empty-event', async () => {
    await expect(handleEvent({}, deps())).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, deps())).rejects.toBeErrorOf(InvalidInputError);
    expect(awsCalls()).toBe(0);
  });

  cell('health-check', 'extra-fields', async () => {
    const plain = await plainReport('morning');

    const report = await handleEvent({ check: 'morning', extra: true, detail: { x: 1 } }, deps());

    expect(report).toEqual(plain);
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  cell('health-check', 'throttling', async () => {
    const plain = await plainReport('light');
    const world = healthyWorld();
    mocks.ecs
      .on(DescribeServicesCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ services: [...world.services.values()], failures: [] });

    const report = await handleEvent({ check: 'light' }, deps());

    expect(report).toEqual(plain);
    expect(statuses(report)).toEqual({
      services: 'PASS',
      targets: 'PASS',
      errorRate: 'PASS',
      latencyP95: 'PASS',
    });
    expect(mocks.ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 3);
    expect(mocks.sns).not.toHaveReceivedCommand(PublishCommand);
  });

  cell('health-check', 'access-denied', async () => {
    // Publish is the only call that changes anything (it pages humans).
    mocks.sns.on(PublishCommand).rejects(denied('sns:Publish'));

    const error = await handleEvent({ check: 'morning' }, deps()).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'AccessDeniedException' });
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const out = emf.join('');
    expect(out).toContain('"HealthCheckErrors"');
    expect(out).not.toContain('"Heartbeat"');
  });

  cell('health-check', 'timeout', async () => {
    mocks.cloudwatch.on(GetMetricDataCommand).rejects(timedOut());

    const report = await handleEvent({ check: 'light' }, deps());

    expect(statuses(report)).toMatchObject({ errorRate: 'UNKNOWN', latencyP95: 'UNKNOWN', services: 'PASS' });
    expect(report.overall).not.toBe('HEALTHY');
    expect(mocks.cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 5);
    expect(mocks.sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPICS.P2 });
  });

  cell('health-check', 'partial-failure', async () => {
    mocks.elbv2
      .on(DescribeTargetHealthCommand, { TargetGroupArn: targetGroupArn(1) })
      .rejects(
        awsError('AccessDenied', 'not authorized to perform: elasticloadbalancing:DescribeTargetHealth', 403),
      );

    const report = await handleEvent({ check: 'morning' }, deps());

    expect(statuses(report)).toEqual({
      services: 'PASS',
      targets: 'UNKNOWN',
      errorRate: 'PASS',
      latencyP95: 'PASS',
      batch: 'PASS',
    });
    expect(mocks.elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 2);
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(mocks.sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPICS.P2 });
  });

  cell('health-check', 'duplicate-delivery', async () => {
    const world = healthyWorld();
    world.metrics.p95 = 4;
    serve(world);

    const first = await handleEvent({ check: 'light' }, deps());
    const second = await handleEvent({ check: 'light' }, deps());

    expect(second).toEqual(first);
    // The problem pages once: the second delivery finds it reported and writes nothing.
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(mocks.ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(world.lightAlert?.problem).toBe('latencyP95=FAIL');
  });
});
