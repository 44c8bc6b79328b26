import 'aws-sdk-client-mock-vitest/extend';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { type HandlerDeps, handleEvent } from '../../../lambdas/health-check/handler';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  type Around,
  awsError,
  ENV,
  envWith,
  healthyWorld,
  mocks,
  NOW,
  serve,
  serviceName,
  TOPICS,
  type World,
} from './fixtures';
import { check, datapointsOf, eachTestWorld, handlerDeps, type Observed } from './handler-harness';

// The light check's alert memory (pk HEALTH), input validation and the handler's round trips.
checkDeclaredCalls('health-check');

let observed: Observed;
let world: World;
eachTestWorld((w, o) => {
  world = w;
  observed = o;
});

const deps = (overrides: Partial<HandlerDeps> = {}) => handlerDeps(observed, overrides);
const datapoints = () => datapointsOf(observed.emf);

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
    expect(message?.TopicArn).toBe(TOPICS.P1);
    expect(message?.Message).toMatch(/^New problem; repeated every 60 min while it lasts/);
    expect(message?.Message).toContain('❌ P95 latency');
    expect(world.lightAlert).toEqual({
      problem: 'latencyP95=FAIL',
      severity: 'P1',
      since: NOW.toISOString(),
      notifiedAt: NOW.toISOString(),
      expiresAt: NOW.getTime() / 1000 + 24 * 3600,
    });
  });

  it('holds the same problem back on the next runs, with the heartbeat still going', async () => {
    slow();
    await light(NOW);
    observed.emf.length = 0;
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
      new RegExp(`^Changed: was latencyP95=FAIL \\(P1\\) since ${NOW.toISOString()}`),
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
      severity: 'P1',
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
