import 'aws-sdk-client-mock-vitest/extend';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { CheckName } from '../../../core/health/report';
import { type HandlerDeps, handleEvent } from '../../../lambdas/health-check/handler';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  awsError,
  batchRun,
  mocks,
  NOW,
  service,
  serviceName,
  TOPICS,
  target,
  targetGroupArn,
  type World,
} from './fixtures';
import {
  check,
  datapointsOf,
  eachTestWorld,
  handlerDeps,
  type Observed,
  published,
  statuses,
} from './handler-harness';

checkDeclaredCalls('health-check');

let observed: Observed;
let world: World;
eachTestWorld((w, o) => {
  world = w;
  observed = o;
});

const deps = (overrides: Partial<HandlerDeps> = {}) => handlerDeps(observed, overrides);
const datapoints = () => datapointsOf(observed.emf);

describe('handleEvent: a healthy system', () => {
  it('morning: every check passes and the daily summary goes to P3', async () => {
    const report = await handleEvent({ check: 'morning' }, deps());

    expect(report.overall).toBe('HEALTHY');
    expect(report.at).toBe(NOW.toISOString());
    expect(statuses(report)).toEqual({
      services: 'PASS',
      targets: 'PASS',
      errorRate: 'PASS',
      latencyP95: 'PASS',
      batch: 'PASS',
    });
    const message = published();
    expect(message.TopicArn).toBe(TOPICS.P3);
    expect(message.Subject).toBe('FA AI health: HEALTHY (morning check) [prod]');
    expect(message.Message).toContain('✅ Error rate: 0.1% (120 5xx of 120,000 requests in 24 h)');
    expect(message.Message).toContain('250/250 stocks successful (100%)');
    expect(message.Message).not.toContain('❌');
  });

  it('morning: publishes HealthCheckPassed per check and the heartbeat', async () => {
    await handleEvent({ check: 'morning' }, deps());

    const points = datapoints();
    const passed = points.filter((p) => p.name === 'HealthCheckPassed');
    expect(passed.map((p) => [p.dims.Check, p.value])).toEqual([
      ['services', 1],
      ['targets', 1],
      ['errorRate', 1],
      ['latencyP95', 1],
      ['batch', 1],
    ]);
    expect(points.find((p) => p.name === 'Heartbeat')).toMatchObject({
      value: 1,
      dims: { service: 'health-check', Environment: 'prod', Kind: 'morning' },
    });
    expect(points.find((p) => p.name === 'ChecksNotPassing')?.value).toBe(0);
    expect(points.some((p) => p.name === 'HealthCheckErrors')).toBe(false);
  });

  it('light: silent when healthy, no batch check and no batch query', async () => {
    const report = await handleEvent({ check: 'light' }, deps());

    expect(report.overall).toBe('HEALTHY');
    expect(report.checks.map((c) => c.name)).toEqual(['services', 'targets', 'errorRate', 'latencyP95']);
    expect(mocks.sns).not.toHaveReceivedCommand(PublishCommand);
    expect(mocks.ddb).not.toHaveReceivedCommand(QueryCommand);
    expect(datapoints().find((p) => p.name === 'Heartbeat')?.dims.Kind).toBe('light');
  });

  it('light: looks at the last 15 minutes, morning at the last 24 hours', async () => {
    await handleEvent({ check: 'light' }, deps());
    await handleEvent({ check: 'morning' }, deps());

    const [light, morning] = mocks.cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(light?.EndTime).toEqual(NOW);
    expect(light?.StartTime).toEqual(new Date(NOW.getTime() - 15 * 60_000));
    expect(light?.MetricDataQueries?.[0]?.MetricStat?.Period).toBe(900);
    expect(morning?.StartTime).toEqual(new Date(NOW.getTime() - 24 * 3_600_000));
    expect(morning?.MetricDataQueries?.[0]?.MetricStat?.Period).toBe(86_400);
  });
});

describe('handleEvent: one check failing alone', () => {
  const cases: Array<{
    title: string;
    change: (w: World) => void;
    failing: CheckName;
    severity: 'P0' | 'P1' | 'P2';
    figure: string;
    runbook: string;
  }> = [
    {
      title: 'a service running fewer tasks than desired',
      change: (w) =>
        w.services.set(serviceName(0), service(serviceName(0), { desired: 2, running: 1, pending: 1 })),
      failing: 'services',
      severity: 'P1',
      figure: '1/2 services running as desired (3 tasks)',
      runbook: 'Incident Response > P0: Complete Service Outage (Check ECS service status)',
    },
    {
      title: 'a missing service',
      change: (w) => w.services.delete(serviceName(1)),
      failing: 'services',
      severity: 'P1',
      figure: '1/2 services running as desired (2 tasks)',
      runbook: 'Incident Response > P0: Complete Service Outage (Check ECS service status)',
    },
    {
      title: 'no healthy target in any group',
      change: (w) => {
        w.targets.set(targetGroupArn(0), [
          target('10.0.0.10', 'unhealthy'),
          target('10.0.0.11', 'unhealthy'),
        ]);
        w.targets.set(targetGroupArn(1), []);
      },
      failing: 'targets',
      severity: 'P0',
      figure: '0/2 targets healthy',
      runbook: 'Incident Response > P0: Complete Service Outage',
    },
    {
      title: 'some unhealthy targets',
      change: (w) =>
        w.targets.set(targetGroupArn(1), [target('10.0.1.10', 'healthy'), target('10.0.1.11', 'unhealthy')]),
      failing: 'targets',
      severity: 'P2',
      figure: '3/4 targets healthy',
      runbook: 'Incident Response > P0: Complete Service Outage (Check task health)',
    },
    {
      title: 'an error rate of 2%',
      change: (w) => Object.assign(w.metrics, { requests: 50_000, target5xx: 900, elb5xx: 100 }),
      failing: 'errorRate',
      severity: 'P2',
      figure: '2% (1,000 5xx of 50,000 requests in 24 h)',
      runbook: 'Incident Response > P1: High Error Rate (Diagnostic Steps)',
    },
    {
      title: 'an error rate of 15%',
      change: (w) => Object.assign(w.metrics, { requests: 20_000, target5xx: 2_400, elb5xx: 600 }),
      failing: 'errorRate',
      severity: 'P1',
      figure: '15% (3,000 5xx of 20,000 requests in 24 h)',
      runbook: 'Incident Response > P1: High Error Rate',
    },
    {
      title: 'a p95 latency of 4 s',
      change: (w) => Object.assign(w.metrics, { p95: 4.0 }),
      failing: 'latencyP95',
      severity: 'P1',
      figure: 'p95 4 s over 24 h',
      runbook: 'Performance Tuning > Query Response Time Optimization',
    },
    {
      title: 'the last batch FAILED',
      change: (w) => {
        w.batch = batchRun({ status: 'FAILED', successful: undefined, failed: undefined });
      },
      failing: 'batch',
      severity: 'P2',
      figure: 'FAILED (started 2026-11-22T17:00:00.123Z)',
      runbook: 'Daily Operations > Weekly Batch Processing',
    },
    {
      title: 'no batch run in 8 days',
      change: (w) => {
        w.batch = undefined;
      },
      failing: 'batch',
      severity: 'P2',
      figure: 'no batch run since 2026-11-15T00:00:00.000Z',
      runbook: 'Daily Operations > Weekly Batch Processing',
    },
    {
      title: 'a batch success rate of 90%',
      change: (w) => {
        w.batch = batchRun({ successful: 225, failed: 25 });
      },
      failing: 'batch',
      severity: 'P2',
      figure: 'SUCCEEDED at 2026-11-22T19:41:07.880Z: 225/250 stocks successful (90%)',
      runbook: 'Daily Operations > Weekly Batch Processing',
    },
  ];

  it.each(cases)('$title: $failing FAIL $severity, report to $severity', async (c) => {
    c.change(world);

    const report = await handleEvent({ check: 'morning' }, deps());

    expect(report.overall).toBe('UNHEALTHY');
    const failing = check(report, c.failing);
    expect(failing).toMatchObject({
      status: 'FAIL',
      severity: c.severity,
      figure: c.figure,
      runbookSection: c.runbook,
    });
    expect(report.checks.filter((x) => x.name !== c.failing).every((x) => x.status === 'PASS')).toBe(true);
    const message = published();
    expect(message.TopicArn).toBe(TOPICS[c.severity]);
    expect(message.Subject).toBe('FA AI health: UNHEALTHY (1 failing) [prod]');
    expect(message.Message).toContain(`❌`);
    expect(message.Message).toContain(c.figure);
    expect(message.Message).toContain(c.runbook);
    const passed = datapoints().filter((p) => p.name === 'HealthCheckPassed');
    expect(passed.find((p) => p.dims.Check === c.failing)?.value).toBe(0);
    expect(passed.filter((p) => p.value === 1)).toHaveLength(4);
  });

  it('looks for the batch run in the last 192 hours, newest first, one item', async () => {
    await handleEvent({ check: 'morning' }, deps());

    expect(mocks.ddb).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(mocks.ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'fa-ai-system-prod-ops',
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: { ':pk': 'BATCH_RUN', ':since': '2026-11-15T00:00:00.000Z' },
      ScanIndexForward: false,
      Limit: 1,
    });
  });

  it('sends the report of several failures to the most severe one: P0 over P2', async () => {
    world.targets.set(targetGroupArn(0), []);
    world.targets.set(targetGroupArn(1), [target('10.0.1.10', 'unhealthy')]);
    world.metrics.p95 = 3.5;

    const report = await handleEvent({ check: 'light' }, deps());

    expect(published()).toMatchObject({
      TopicArn: TOPICS.P0,
      Subject: 'FA AI health: UNHEALTHY (2 failing) [prod]',
    });
    expect(datapoints().find((p) => p.name === 'ChecksNotPassing')?.value).toBe(2);
    expect(report.overall).toBe('UNHEALTHY');
    expect(mocks.ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('handleEvent: AWS failures', () => {
  it('retries a throttled DescribeServices and GetMetricData: still PASS', async () => {
    mocks.ecs
      .on(DescribeServicesCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ services: [...world.services.values()], failures: [] });
    mocks.cloudwatch
      .on(GetMetricDataCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .callsFake(() => ({
        MetricDataResults: ['requests', 'target5xx', 'elb5xx', 'p95'].map((Id, i) => ({
          Id,
          Label: Id,
          Timestamps: [NOW],
          Values: [[1000, 1, 0, 0.5][i] ?? 0],
          StatusCode: 'Complete',
        })),
      }));

    const report = await handleEvent({ check: 'light' }, deps());

    expect(statuses(report)).toEqual({
      services: 'PASS',
      targets: 'PASS',
      errorRate: 'PASS',
      latencyP95: 'PASS',
    });
    expect(mocks.ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 3);
    expect(mocks.cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 3);
    expect(mocks.sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('reports targets UNKNOWN (never PASS) when DescribeTargetHealth is denied, and sends it to P2', async () => {
    mocks.elbv2
      .on(DescribeTargetHealthCommand, { TargetGroupArn: targetGroupArn(1) })
      .rejects(
        awsError(
          'AccessDenied',
          'User: arn:aws:sts::222222222222:assumed-role/fa-ai-health-check/fn is not authorized to perform: elasticloadbalancing:DescribeTargetHealth',
          403,
        ),
      );

    const report = await handleEvent({ check: 'light' }, deps());

    const targets = check(report, 'targets');
    expect(targets.status).toBe('UNKNOWN');
    expect(targets.detail).toContain('AccessDenied: User: arn:aws:sts::222222222222');
    expect(report.overall).toBe('UNKNOWN');
    // Not retryable: one attempt for the denied group, one for the other.
    expect(mocks.elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 2);
    const message = published();
    expect(message.TopicArn).toBe(TOPICS.P2);
    expect(message.Subject).toBe('FA AI health: UNKNOWN (1 unknown) [prod]');
    expect(message.Message).toContain('❔ Target health');
    expect(
      datapoints().find((p) => p.name === 'HealthCheckPassed' && p.dims.Check === 'targets')?.value,
    ).toBe(0);
  });

  it('reports both metric checks UNKNOWN when GetMetricData keeps failing, after 5 attempts', async () => {
    mocks.cloudwatch
      .on(GetMetricDataCommand)
      .rejects(awsError('InternalServiceError', 'Internal error', 500));

    const report = await handleEvent({ check: 'morning' }, deps());

    expect(statuses(report)).toMatchObject({ errorRate: 'UNKNOWN', latencyP95: 'UNKNOWN', services: 'PASS' });
    expect(check(report, 'errorRate').detail).toBe('InternalServiceError: Internal error');
    expect(mocks.cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 5);
    expect(published()).toMatchObject({
      TopicArn: TOPICS.P2,
      Subject: 'FA AI health: UNKNOWN (2 unknown) [prod]',
    });
  });

  it('reports the batch UNKNOWN when the ops table cannot be read', async () => {
    mocks.ddb.on(QueryCommand).rejects(awsError('ResourceNotFoundException', 'Requested resource not found'));

    const report = await handleEvent({ check: 'morning' }, deps());

    expect(check(report, 'batch')).toMatchObject({
      status: 'UNKNOWN',
      detail: 'ResourceNotFoundException: Requested resource not found',
    });
    expect(published().TopicArn).toBe(TOPICS.P2);
  });

  it('fails the invocation, without a heartbeat, when the unhealthy report cannot be published', async () => {
    world.metrics.p95 = 4;
    mocks.sns
      .on(PublishCommand)
      .rejects(awsError('AuthorizationErrorException', 'Not authorized to publish', 403));

    await expect(handleEvent({ check: 'light' }, deps())).rejects.toThrow('Not authorized to publish');

    const points = datapoints();
    expect(points.some((p) => p.name === 'Heartbeat')).toBe(false);
    expect(points.find((p) => p.name === 'HealthCheckErrors')?.value).toBe(1);
    expect(points.find((p) => p.name === 'HealthCheckPassed' && p.dims.Check === 'latencyP95')?.value).toBe(
      0,
    );
  });
});
