import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HandlerDeps, handleEvent } from '../../../lambdas/health-check/handler';
import type { CheckName, CheckResult, HealthReport } from '../../../lambdas/health-check/report';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  type Around,
  awsError,
  batchRun,
  clients,
  ENV,
  envWith,
  healthyWorld,
  mocks,
  NO_SLEEP,
  NOW,
  serve,
  service,
  serviceName,
  TOPICS,
  target,
  targetGroupArn,
  type World,
} from './fixtures';

checkDeclaredCalls('health-check');

/** EMF documents Powertools wrote to stdout during the test. */
let emf: Array<Record<string, unknown>>;
let logger: Logger;
let metrics: Metrics;
let world: World;

beforeEach(() => {
  world = healthyWorld();
  serve(world);
  emf = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.includes('"_aws"')) emf.push(JSON.parse(line));
    }
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
    retry: NO_SLEEP,
    observability: { logger, metrics },
    ...overrides,
  };
}

function statuses(report: HealthReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

function check(report: HealthReport, name: CheckName): CheckResult {
  const found = report.checks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no ${name} check in the report`);
  return found;
}

/** The one Publish call's input. */
function published(): PublishCommandInput {
  const calls = mocks.sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]?.args[0].input;
  if (input === undefined) throw new Error('no Publish call');
  return input;
}

/** Every EMF datapoint as { name, value, dimensions } (dimension values of the document). */
function datapoints(): Array<{ name: string; value: unknown; dims: Record<string, unknown> }> {
  return emf.flatMap((doc) => {
    const aws = doc._aws as {
      CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
    };
    return aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((m) => ({
        name: m.Name,
        value: doc[m.Name],
        dims: Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, doc[d]])),
      })),
    );
  });
}

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
      dims: { service: 'health-check', Kind: 'morning' },
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
      severity: 'P2',
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

describe('handleEvent: a light check reports a problem once', () => {
  const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);
  const light = (at: Date, overrides: Partial<HandlerDeps> = {}) =>
    handleEvent({ check: 'light' }, deps({ now: () => at, ...overrides }));
  const publishes = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  const slow = () => Object.assign(world.metrics, { p95: 4.0 });
  const metric = (name: string) => datapoints().find((p) => p.name === name)?.value;

  it('sends a new problem at once and records it (what, severity, since, when sent)', async () => {
    slow();
    await light(NOW);

    const [message] = publishes();
    expect(message?.TopicArn).toBe(TOPICS.P2);
    expect(message?.Message).toMatch(/^New problem; repeated every 60 min while it lasts/);
    expect(message?.Message).toContain('❌ P95 latency');
    expect(world.lightAlert).toEqual({
      problem: 'latencyP95=FAIL',
      severity: 'P2',
      since: NOW.toISOString(),
      notifiedAt: NOW.toISOString(),
      expiresAt: NOW.getTime() / 1000 + 24 * 3600,
    });
  });

  it('holds the same problem back on the next runs, with the heartbeat still going', async () => {
    slow();
    await light(NOW);
    emf = [];
    const report = await light(minutes(5));

    expect(report.overall).toBe('UNHEALTHY');
    expect(publishes()).toHaveLength(1);
    expect(metric('HealthReportsHeld')).toBe(1);
    expect(metric('Heartbeat')).toBe(1);
    expect(world.lightAlert?.notifiedAt).toBe(NOW.toISOString());
  });

  it('reminds after 60 minutes, keeping when it started', async () => {
    slow();
    await light(NOW);
    await light(minutes(55));
    await light(minutes(60));

    expect(publishes()).toHaveLength(2);
    expect(publishes()[1]?.Message).toMatch(
      new RegExp(`^Still failing since ${NOW.toISOString()} \\(reminded every 60 min`),
    );
    expect(world.lightAlert).toMatchObject({
      since: NOW.toISOString(),
      notifiedAt: minutes(60).toISOString(),
    });
  });

  it('takes the reminder interval from LIGHT_RENOTIFY_MINUTES', async () => {
    slow();
    const env = { ...ENV, LIGHT_RENOTIFY_MINUTES: '15' };
    await light(NOW, { env });
    await light(minutes(10), { env });
    await light(minutes(15), { env });

    expect(publishes()).toHaveLength(2);
  });

  it('sends a changed problem at once: another check failing too', async () => {
    slow();
    await light(NOW);
    world.services.delete(serviceName(1));
    await light(minutes(5));

    expect(publishes()).toHaveLength(2);
    expect(publishes()[1]?.TopicArn).toBe(TOPICS.P1);
    expect(publishes()[1]?.Message).toMatch(
      new RegExp(`^Changed: was latencyP95=FAIL \\(P2\\) since ${NOW.toISOString()}`),
    );
    expect(world.lightAlert).toMatchObject({ problem: 'services=FAIL,latencyP95=FAIL', severity: 'P1' });
  });

  it('sends an escalation at once: the same check, now more severe', async () => {
    Object.assign(world.metrics, { requests: 50_000, target5xx: 900, elb5xx: 100 });
    await light(NOW);
    Object.assign(world.metrics, { requests: 20_000, target5xx: 2_400, elb5xx: 600 });
    await light(minutes(5));

    expect(publishes().map((p) => p.TopicArn)).toEqual([TOPICS.P2, TOPICS.P1]);
  });

  it('says RECOVERED once, to the topic that paged, when the problem clears', async () => {
    world.services.delete(serviceName(1));
    await light(NOW);
    world.services = healthyWorld().services;
    await light(minutes(5));
    await light(minutes(10));

    expect(publishes()).toHaveLength(2);
    expect(publishes()[1]).toMatchObject({ TopicArn: TOPICS.P1, Subject: 'FA AI health: RECOVERED [prod]' });
    expect(publishes()[1]?.Message).toMatch(
      new RegExp(
        `^Recovered: the problem reported since ${NOW.toISOString()} \\(services=FAIL, P1\\) has cleared`,
      ),
    );
    expect(world.lightAlert).toBeUndefined();
  });

  it('sends once when the same scheduled event is delivered twice', async () => {
    slow();
    await light(NOW);
    await light(NOW);

    expect(publishes()).toHaveLength(1);
  });

  it('leaves the light alert alone in the morning check, which always sends its report', async () => {
    slow();
    await light(NOW);
    await handleEvent({ check: 'morning' }, deps({ now: () => minutes(5) }));

    expect(publishes()).toHaveLength(2);
    expect(mocks.ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(world.lightAlert?.notifiedAt).toBe(NOW.toISOString());
  });

  it.each([
    [
      'unreadable',
      () => mocks.ddb.on(GetCommand).rejects(awsError('AccessDeniedException', 'not authorized')),
    ],
    ['malformed', () => (world.lightAlert = { problem: 'latencyP95=FAIL', severity: 'P9' })],
  ])('sends when the alert item is %s: in doubt it pages', async (_, breakIt) => {
    slow();
    breakIt();
    await light(NOW);

    expect(publishes()).toHaveLength(1);
    expect(publishes()[0]?.Message).toMatch(/^Could not read whether this was already reported/);
    expect(metric('HealthAlertStateErrors')).toBe(1);
  });

  it('keeps the page when the alert cannot be recorded, and the next run sends again', async () => {
    slow();
    mocks.ddb.on(PutCommand).rejects(awsError('ProvisionedThroughputExceededException', 'slow down', 400));
    await light(NOW);

    expect(publishes()).toHaveLength(1);
    expect(metric('HealthAlertStateErrors')).toBe(1);
    expect(metric('Heartbeat')).toBe(1);
    await light(minutes(5));
    expect(publishes()).toHaveLength(2);
  });

  it('records nothing when the report could not be sent: the retry sends it', async () => {
    slow();
    mocks.sns
      .on(PublishCommand)
      .rejectsOnce(awsError('AuthorizationErrorException', 'Not authorized', 403))
      .resolves({ MessageId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' });
    await expect(light(NOW)).rejects.toThrow('Not authorized');
    expect(world.lightAlert).toBeUndefined();

    await light(NOW);
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(world.lightAlert?.problem).toBe('latencyP95=FAIL');
  });
});

describe('handleEvent: input and configuration', () => {
  it.each([
    ['no check', {}, 'check: Invalid option: expected one of "morning"|"light"'],
    ['an unknown check', { check: 'hourly' }, 'check: Invalid option: expected one of "morning"|"light"'],
    ['a bare string', 'morning', '(event): Invalid input: expected object, received string'],
    ['null', null, '(event): Invalid input: expected object, received null'],
  ])('rejects %s before any AWS call', async (_, event, issue) => {
    const error = await handleEvent(event, deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('expected {"check": "morning"} or {"check": "light"}');
    expect((error as Error).message).toContain(issue);
    for (const mock of Object.values(mocks)) expect(mock.calls()).toHaveLength(0);
    expect(datapoints().find((p) => p.name === 'HealthCheckErrors')?.value).toBe(1);
    expect(datapoints().some((p) => p.name === 'Heartbeat')).toBe(false);
  });

  it('rejects a bad configuration naming the variable, before any AWS call', async () => {
    const env = { ...ENV, SERVICES: '[{"colour":"purple","serviceName":"x"}]' };

    await expect(handleEvent({ check: 'light' }, deps({ env }))).rejects.toThrow(
      /Invalid function configuration: SERVICES\.0\.colour/,
    );
    for (const mock of Object.values(mocks)) expect(mock.calls()).toHaveLength(0);
  });
});

describe('handleEvent: round trips', () => {
  /**
   * Delays every AWS call by 20 ms and records when it ran; the longest chain of calls each
   * starting after the previous one ended is the number of sequential round trips.
   */
  function timed(): { around: Around; rounds: () => number; calls: () => number } {
    const spans: Array<{ start: number; end: number }> = [];
    const around: Around = async (_call, fn) => {
      const start = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        return fn();
      } finally {
        spans.push({ start, end: performance.now() });
      }
    };
    const rounds = () => {
      const sorted = [...spans].sort((a, b) => a.start - b.start);
      const chain: number[] = [];
      sorted.forEach((span, i) => {
        const before = sorted.slice(0, i).flatMap((p, j) => (p.end <= span.start ? [chain[j] ?? 0] : []));
        chain.push(1 + Math.max(0, ...before));
      });
      return Math.max(0, ...chain);
    };
    return { around, rounds, calls: () => spans.length };
  }

  it.each([
    [2, 2],
    [6, 6],
  ])(
    'takes 2 sequential rounds with %i services and %i target groups, one GetMetricData',
    async (services, groups) => {
      world = healthyWorld(services, groups);
      world.metrics.p95 = 4; // unhealthy: the report is published
      const { around, rounds, calls } = timed();
      serve(world, around);

      const report = await handleEvent({ check: 'morning' }, deps({ env: envWith(services, groups) }));

      expect(report.overall).toBe('UNHEALTHY');
      expect(rounds()).toBe(2);
      expect(rounds()).toBeLessThanOrEqual(3);
      // ECS, one ELBv2 per group, CloudWatch, DynamoDB, then SNS.
      expect(calls()).toBe(1 + groups + 1 + 1 + 1);
      expect(mocks.cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
      expect(mocks.ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
      const queries = mocks.cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries;
      expect(queries).toHaveLength(4 + 3 * groups);
      expect(check(report, 'services').figure).toBe(
        `${services}/${services} services running as desired (${2 * services} tasks)`,
      );
    },
  );

  it.each([2, 6])(
    'light: 3 rounds for a new problem (reads, Publish, PutItem) with %i services',
    async (n) => {
      world = healthyWorld(n, n);
      world.metrics.p95 = 4;
      const { around, rounds, calls } = timed();
      serve(world, around);

      await handleEvent({ check: 'light' }, deps({ env: envWith(n, n) }));

      expect(rounds()).toBe(3);
      // ECS, one ELBv2 per group, CloudWatch and the alert item read together; then SNS; then the write.
      expect(calls()).toBe(1 + n + 1 + 1 + 1 + 1);
    },
  );

  it('light: 1 round when the problem is already out', async () => {
    world.metrics.p95 = 4;
    world.lightAlert = {
      problem: 'latencyP95=FAIL',
      severity: 'P2',
      since: NOW.toISOString(),
      notifiedAt: NOW.toISOString(),
      expiresAt: NOW.getTime() / 1000 + 3600,
    };
    const { around, rounds } = timed();
    serve(world, around);

    await handleEvent({ check: 'light' }, deps());

    expect(rounds()).toBe(1);
    expect(mocks.sns).not.toHaveReceivedCommand(PublishCommand);
  });
});
