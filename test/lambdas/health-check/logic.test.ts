import type { MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { alarmEntry } from '../../../core/alarms/catalogue';
import { InvalidInputError } from '../../../core/errors';
import {
  evaluateBatch,
  evaluateServices,
  evaluateTargets,
  type Outcome,
  parseBatchRunRecord,
} from '../../../core/health/checks';
import { configFromEnv, type HealthThresholds } from '../../../core/health/config';
import {
  evaluateErrorRate,
  evaluateLatency,
  metricQueries,
  metricWindow,
} from '../../../core/health/metrics';
import {
  type CheckResult,
  formatReport,
  type HealthReport,
  overallStatus,
  reportSeverity,
  reportSubject,
} from '../../../core/health/report';
import {
  batchRun,
  ENV,
  LB_FULL_NAME,
  NOW,
  service,
  serviceName,
  THRESHOLDS,
  TOPICS,
  target,
  targetGroupArn,
} from './fixtures';

const config = configFromEnv(ENV);
const thresholds: HealthThresholds = config.thresholds;
const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });

describe('configFromEnv', () => {
  it('reads the JSON variables and the thresholds', () => {
    expect(config).toMatchObject({
      environment: 'prod',
      ecsCluster: 'fa-ai-system-cluster',
      loadBalancerFullName: LB_FULL_NAME,
      topicArns: TOPICS,
      services: [
        { colour: 'blue', serviceName: 'fa-ai-system-blue-service' },
        { colour: 'green', serviceName: 'fa-ai-system-green-service' },
      ],
      thresholds: THRESHOLDS,
      lightRenotifyMinutes: 60,
    });
    expect(config.targetGroups[1]).toEqual({
      colour: 'green',
      targetGroupArn: targetGroupArn(1),
      targetGroupFullName: expect.stringMatching(/^targetgroup\/fa-ai-green-tg1\//),
    });
  });

  it('reads the thresholds the stack sets', () => {
    const c = configFromEnv({
      ...ENV,
      ERROR_RATE_MAX: '0.02',
      P95_MAX_SECONDS: '1.5',
      BATCH_SUCCESS_MIN: '0.95',
      BATCH_LOOKBACK_HOURS: '24',
    });
    expect(c.thresholds).toMatchObject({
      errorRateMax: 0.02,
      p95MaxSeconds: 1.5,
      batchSuccessMin: 0.95,
      batchLookbackHours: 24,
    });
  });

  it.each(['BATCH_LOOKBACK_HOURS', 'BATCH_SUCCESS_MIN', 'ERROR_RATE_MAX', 'LIGHT_RENOTIFY_MINUTES'])(
    'has no default of its own for %s: a missing or blank one fails, naming it (config decides it)',
    (variable) => {
      const { [variable]: _dropped, ...missing } = ENV;
      expect(() => configFromEnv(missing)).toThrow(new RegExp(`${variable}: is required`));
      expect(() => configFromEnv({ ...ENV, [variable]: '' })).toThrow(new RegExp(`${variable}: is required`));
    },
  );

  it.each([
    ['a missing variable', { ECS_CLUSTER: undefined }, /ECS_CLUSTER: /],
    ['invalid JSON', { TOPIC_ARNS: '{P0:' }, /TOPIC_ARNS: must be valid JSON/],
    ['a missing topic', { TOPIC_ARNS: JSON.stringify({ ...TOPICS, P3: undefined }) }, /TOPIC_ARNS\.P3: /],
    [
      'a target group given by ARN where the dimension is expected',
      {
        TARGET_GROUPS: JSON.stringify([
          { colour: 'blue', targetGroupArn: targetGroupArn(0), targetGroupFullName: targetGroupArn(0) },
        ]),
      },
      /TARGET_GROUPS\.0\.targetGroupFullName: must be targetgroup\/<name>\/<id>/,
    ],
    ['no service', { SERVICES: '[]' }, /SERVICES: must list at least one service/],
    [
      'a load balancer ARN',
      { LOAD_BALANCER_FULL_NAME: `arn:aws:elasticloadbalancing:x:1:loadbalancer/${LB_FULL_NAME}` },
      /LOAD_BALANCER_FULL_NAME: must be app/,
    ],
    ['a percentage for a fraction', { ERROR_RATE_MAX: '1' }, /ERROR_RATE_MAX: /],
    ['a reminder interval of zero', { LIGHT_RENOTIFY_MINUTES: '0' }, /LIGHT_RENOTIFY_MINUTES: /],
    ['a reminder interval in hours', { LIGHT_RENOTIFY_MINUTES: '1h' }, /LIGHT_RENOTIFY_MINUTES: /],
    [
      'P1 rate below the P2 rate',
      { ERROR_RATE_MAX: '0.2' },
      /ERROR_RATE_HIGH: must be above ERROR_RATE_MAX \(0\.2\), got 0\.1/,
    ],
  ])('rejects %s naming the variable', (_, change, message) => {
    expect(() => configFromEnv({ ...ENV, ...change })).toThrow(InvalidInputError);
    expect(() => configFromEnv({ ...ENV, ...change })).toThrow(message);
  });
});

describe('evaluateServices', () => {
  const described = (...services: ReturnType<typeof service>[]) => ok({ services, failures: [] });

  it('passes with the idle colour scaled to zero', () => {
    const r = evaluateServices(
      config.services,
      described(
        service(serviceName(0), { desired: 3, running: 3 }),
        service(serviceName(1), { desired: 0, running: 0 }),
      ),
    );
    expect(r).toMatchObject({ status: 'PASS', figure: '2/2 services running as desired (3 tasks)' });
    expect(r.detail).toContain('green fa-ai-system-green-service: idle (0/0)');
  });

  it('is a P0 outage when no service has a running task', () => {
    const r = evaluateServices(
      config.services,
      described(
        service(serviceName(0), { desired: 2, running: 0, pending: 2 }),
        service(serviceName(1), { desired: 0, running: 0 }),
      ),
    );
    expect(r).toMatchObject({
      status: 'FAIL',
      severity: 'P0',
      runbookSection: 'Incident Response > P0: Complete Service Outage',
    });
    expect(r.detail).toContain('blue fa-ai-system-blue-service: 0/2 running, 2 pending');
  });

  it('fails a DRAINING service even at its desired count', () => {
    const draining = { ...service(serviceName(1), { desired: 2, running: 2 }), status: 'DRAINING' };
    const r = evaluateServices(
      config.services,
      described(service(serviceName(0), { desired: 2, running: 2 }), draining),
    );
    expect(r).toMatchObject({ status: 'FAIL', severity: 'P1' });
    expect(r.detail).toContain('green fa-ai-system-green-service: DRAINING, 2/2 running');
  });

  it('names the reason ECS gave for a missing service', () => {
    const r = evaluateServices(config.services, {
      ok: true,
      value: {
        services: [service(serviceName(0), { desired: 2, running: 2 })],
        failures: [
          {
            arn: `arn:aws:ecs:ap-northeast-1:222222222222:service/fa-ai-system-cluster/${serviceName(1)}`,
            reason: 'MISSING',
          },
        ],
      },
    });
    expect(r.detail).toContain('green fa-ai-system-green-service: missing (MISSING)');
  });

  it('is UNKNOWN with the error when ECS could not be asked', () => {
    expect(
      evaluateServices(config.services, { ok: false, error: 'AccessDeniedException: no' }),
    ).toMatchObject({
      status: 'UNKNOWN',
      detail: 'AccessDeniedException: no',
    });
  });
});

describe('evaluateTargets', () => {
  const [blue, green] = config.targetGroups;
  if (blue === undefined || green === undefined) throw new Error('fixture');

  it('passes with an empty idle group and ignores draining and registering targets', () => {
    const r = evaluateTargets([
      {
        ref: blue,
        outcome: ok([
          target('10.0.0.1', 'healthy'),
          target('10.0.0.2', 'draining'),
          target('10.0.0.3', 'initial'),
        ]),
      },
      { ref: green, outcome: ok([]) },
    ]);
    expect(r).toMatchObject({ status: 'PASS', figure: '1/1 targets healthy (2 registering or draining)' });
    expect(r.detail).toContain('green fa-ai-green-tg1: no targets');
  });

  it('counts a target in an unused state as unhealthy, with its reason', () => {
    const r = evaluateTargets([
      { ref: blue, outcome: ok([target('10.0.0.1', 'healthy'), target('10.0.0.2', 'unused')]) },
    ]);
    expect(r).toMatchObject({ status: 'FAIL', severity: 'P2' });
    expect(r.detail).toContain('10.0.0.2:8000 unused (Target.NotInUse)');
  });

  it('fails on the unhealthy targets it saw even when another group is unknown, but never claims P0', () => {
    const r = evaluateTargets([
      { ref: blue, outcome: ok([target('10.0.0.1', 'unhealthy')]) },
      { ref: green, outcome: { ok: false, error: 'Throttling: Rate exceeded' } },
    ]);
    expect(r).toMatchObject({ status: 'FAIL', severity: 'P2' });
    expect(r.figure).toBe('0/1 targets healthy, 1 group(s) unknown');
  });

  it('is UNKNOWN, not PASS, when the groups it could read are healthy but one is unknown', () => {
    const r = evaluateTargets([
      { ref: blue, outcome: ok([target('10.0.0.1', 'healthy')]) },
      { ref: green, outcome: { ok: false, error: 'AccessDenied: no' } },
    ]);
    expect(r.status).toBe('UNKNOWN');
  });
});

describe('metrics', () => {
  const window = metricWindow(new Date('2026-11-23T00:04:31.250Z'), 15, '15 min');
  const result = (Id: string, Values: number[], StatusCode: MetricDataResult['StatusCode'] = 'Complete') => ({
    Id,
    Label: Id,
    Timestamps: Values.map(() => window.start),
    Values,
    StatusCode,
  });
  const lbResults = (requests: number[], t5xx: number[], e5xx: number[], p95: number[]) => [
    result('requests', requests),
    result('target5xx', t5xx),
    result('elb5xx', e5xx),
    result('p95', p95),
  ];
  const results = (requests: number[], t5xx: number[], e5xx: number[], p95: number[]) =>
    ok(lbResults(requests, t5xx, e5xx, p95));

  it('aligns the window to whole minutes and queries it as one period', () => {
    expect(window.end.toISOString()).toBe('2026-11-23T00:04:00.000Z');
    expect(window.start.toISOString()).toBe('2026-11-22T23:49:00.000Z');
    const queries = metricQueries(LB_FULL_NAME, config.targetGroups, window);
    expect(queries.map((q) => q.Id)).toEqual([
      'requests',
      'target5xx',
      'elb5xx',
      'p95',
      'tg0_requests',
      'tg0_target5xx',
      'tg0_p95',
      'tg1_requests',
      'tg1_target5xx',
      'tg1_p95',
    ]);
    expect(queries[3]?.MetricStat).toEqual({
      Metric: {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'TargetResponseTime',
        Dimensions: [{ Name: 'LoadBalancer', Value: LB_FULL_NAME }],
      },
      Period: 900,
      Stat: 'p95',
    });
    expect(queries[4]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'TargetGroup', Value: config.targetGroups[0]?.targetGroupFullName },
      { Name: 'LoadBalancer', Value: LB_FULL_NAME },
    ]);
  });

  it('passes "no traffic" without requests or errors', () => {
    expect(evaluateErrorRate(thresholds, [], window, results([], [], [], []))).toMatchObject({
      status: 'PASS',
      figure: 'no traffic in 15 min',
    });
    expect(evaluateLatency(thresholds, [], window, results([], [], [], []))).toMatchObject({
      status: 'PASS',
      figure: 'no traffic in 15 min',
    });
  });

  it('takes ELB 5xx without counted requests for an outage, not for "no traffic"', () => {
    const r = evaluateErrorRate(thresholds, [], window, results([], [], [412], []));
    expect(r).toMatchObject({
      status: 'FAIL',
      severity: 'P1',
      figure: '100% (412 5xx of 0 requests in 15 min)',
    });
  });

  it('sums datapoints of a split window and fails at exactly the threshold', () => {
    const r = evaluateErrorRate(thresholds, [], window, results([600, 400], [6, 4], [], []));
    expect(r).toMatchObject({
      status: 'FAIL',
      severity: 'P2',
      figure: '1% (10 5xx of 1,000 requests in 15 min)',
    });
  });

  it('takes the worse p95 of a split window; P1 as the latency-p95 alarm, the outage section beyond twice the threshold', () => {
    expect(evaluateLatency(thresholds, [], window, results([], [], [], [2.1, 2.9]))).toMatchObject({
      status: 'PASS',
      figure: 'p95 2.9 s over 15 min',
    });
    expect(evaluateLatency(thresholds, [], window, results([], [], [], [1, 3.5]))).toMatchObject({
      status: 'FAIL',
      severity: alarmEntry('latency-p95').severity,
      runbookSection: 'Performance Tuning > Query Response Time Optimization',
    });
    expect(evaluateLatency(thresholds, [], window, results([], [], [], [1, 6.5]))).toMatchObject({
      status: 'FAIL',
      severity: 'P1',
      runbookSection: 'Incident Response > P0: Complete Service Outage (Check ECS service status)',
    });
  });

  it('is UNKNOWN on incomplete data rather than passing on a partial sum', () => {
    const partial = ok([
      result('requests', [50], 'PartialData'),
      result('target5xx', []),
      result('elb5xx', []),
      result('p95', [0.4]),
    ]);
    expect(evaluateErrorRate(thresholds, [], window, partial)).toMatchObject({
      status: 'UNKNOWN',
      detail: 'requests: StatusCode PartialData',
    });
    expect(evaluateLatency(thresholds, [], window, partial).status).toBe('PASS');
    expect(evaluateLatency(thresholds, [], window, ok([])).status).toBe('UNKNOWN');
  });

  it('details the figures per target group', () => {
    const r = evaluateErrorRate(
      thresholds,
      config.targetGroups,
      window,
      ok([
        ...lbResults([1000], [2], [0], [0.5]),
        result('tg0_requests', [1000]),
        result('tg0_target5xx', [2]),
        result('tg1_requests', []),
        result('tg1_target5xx', []),
      ]),
    );
    expect(r.detail).toBe('blue fa-ai-blue-tg0: 0.2% of 1,000 requests; green fa-ai-green-tg1: no traffic');
  });
});

describe('evaluateBatch', () => {
  const record = (overrides: Record<string, unknown> = {}) => ok(parseBatchRunRecord(batchRun(overrides)));

  it('passes a run still going within the time limit, fails one past it', () => {
    const running = record({ status: 'RUNNING', startedAt: '2026-11-22T22:00:00.000Z', endedAt: undefined });
    expect(evaluateBatch(thresholds, NOW, running)).toMatchObject({
      status: 'PASS',
      figure: 'running since 2026-11-22T22:00:00.000Z (2 h 0 min)',
    });
    const overdue = record({ status: 'RUNNING', startedAt: '2026-11-22T19:50:00.000Z', endedAt: undefined });
    expect(evaluateBatch(thresholds, NOW, overdue)).toMatchObject({
      status: 'FAIL',
      severity: 'P2',
      figure: 'running since 2026-11-22T19:50:00.000Z (4 h 10 min)',
      runbookSection: 'Common Issues > Batch Processing Taking Too Long',
    });
  });

  it('fails a TIMED_OUT run pointing to the slow batch section', () => {
    expect(evaluateBatch(thresholds, NOW, record({ status: 'TIMED_OUT' }))).toMatchObject({
      status: 'FAIL',
      runbookSection: 'Common Issues > Batch Processing Taking Too Long',
    });
  });

  it('passes a SUCCEEDED run without per-stock counts, and reads counts written as strings', () => {
    expect(
      evaluateBatch(thresholds, NOW, record({ successful: undefined, failed: undefined })),
    ).toMatchObject({
      status: 'PASS',
      figure: 'SUCCEEDED at 2026-11-22T19:41:07.880Z (no per-stock counts reported)',
    });
    expect(evaluateBatch(thresholds, NOW, record({ successful: '240', failed: '10' }))).toMatchObject({
      status: 'FAIL',
      figure: 'SUCCEEDED at 2026-11-22T19:41:07.880Z: 240/250 stocks successful (96%)',
    });
    expect(
      evaluateBatch(
        { ...thresholds, batchSuccessMin: 0.95 },
        NOW,
        record({ successful: '240', failed: '10' }),
      ).status,
    ).toBe('PASS');
  });

  it('makes an item without a status unreadable rather than guessing', () => {
    expect(() => parseBatchRunRecord({ ...batchRun(), status: undefined })).toThrow(
      /Malformed batch run item/,
    );
  });
});

describe('report', () => {
  const pass = (name: CheckResult['name'], figure: string): CheckResult => ({
    name,
    status: 'PASS',
    figure,
    threshold: 't',
  });
  const report = (checks: CheckResult[], kind: HealthReport['kind'] = 'morning'): HealthReport => ({
    kind,
    at: NOW.toISOString(),
    overall: overallStatus(checks),
    checks,
  });
  const failing: CheckResult = {
    name: 'errorRate',
    status: 'FAIL',
    figure: '15% (3,000 5xx of 20,000 requests in 24 h)',
    threshold: '< 1%',
    severity: 'P1',
    runbookSection: 'Incident Response > P1: High Error Rate',
    detail: 'blue fa-ai-blue-tg0: 15% of 20,000 requests',
  };
  const unknown: CheckResult = {
    name: 'targets',
    status: 'UNKNOWN',
    figure: '2/2 targets healthy, 1 group(s) unknown',
    threshold: '100% healthy',
    runbookSection: 'Daily Operations > Morning Health Check (do this step by hand)',
    detail: 'green: unknown (AccessDenied: no)',
  };

  it('formats one line per check with its icon, figure and threshold, and the runbook section of failures', () => {
    const text = formatReport(
      report([pass('services', '2/2 services running as desired (4 tasks)'), failing, unknown]),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('FA AI System morning health check at 2026-11-23T00:00:00.000Z: UNHEALTHY');
    expect(lines).toContain('✅ ECS services: 2/2 services running as desired (4 tasks) (expected t)');
    expect(lines).toContain('❌ Error rate: 15% (3,000 5xx of 20,000 requests in 24 h) (expected < 1%)');
    expect(lines).toContain('   P1 FAIL; runbook: Incident Response > P1: High Error Rate');
    expect(lines).toContain(
      '❔ Target health: 2/2 targets healthy, 1 group(s) unknown (expected 100% healthy)',
    );
    expect(lines).toContain(
      '   UNKNOWN; runbook: Daily Operations > Morning Health Check (do this step by hand)',
    );
    expect(lines).toContain('   green: unknown (AccessDenied: no)');
    expect(text.match(/runbook:/g)).toHaveLength(2);
  });

  it('chooses the report topic: most severe failure, P2 when only unknown, P3 or nothing when healthy', () => {
    expect(reportSeverity(report([failing, { ...failing, severity: 'P0' }, unknown]))).toBe('P0');
    expect(reportSeverity(report([pass('services', 'x'), unknown]))).toBe('P2');
    expect(reportSeverity(report([pass('services', 'x')], 'morning'))).toBe('P3');
    expect(reportSeverity(report([pass('services', 'x')], 'light'))).toBeUndefined();
  });

  it('keeps the subject under 100 printable ASCII characters', () => {
    const subject = reportSubject(report([failing, unknown]), `prod-${'x'.repeat(120)}-東京`);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^FA AI health: UNHEALTHY \(1 failing, 1 unknown\) \[prod-x+\.\.\.$/);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});
