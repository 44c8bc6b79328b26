import 'aws-sdk-client-mock-vitest/extend';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueryResultsCommand, StartQueryCommand, StopQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeReplicationGroupsCommand } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it } from 'vitest';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { checkSentAgainst } from '../iam/declared-calls';
import { awsError, lastShiftItem } from '../lambdas/traffic-shift/harness';
import { dw, errorLine, LOG_GROUPS, metricDataAnswer, resetDiagnose } from './diagnose-world';
import { awsCalls, cliMocks, opsTable, runOps, service } from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['diagnose', '--env', 'prod'];
// runOps' clock: 2026-11-25T04:12:35Z.
const NOW_S = Date.parse('2026-11-25T04:12:35.000Z') / 1000;

beforeEach(async () => {
  await resetDiagnose();
});

const lines = (stdout: string) => stdout.split('\n');

describe('diagnose, healthy', () => {
  it('reports every source, no P1 condition and nothing to follow (exit 0)', async () => {
    const run = await runOps(PROD);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)[0]).toBe(
      'Diagnosis: prod (us-east-1) at 2026-11-25 04:12:35Z; logs and actions since 2026-11-25 03:12:35Z (1h)',
    );
    expect(run.stdout).toContain('No P1 condition met.');
    expect(run.stdout).toContain('Next: nothing to follow');
    expect(run.stdout).toMatch(/blue\s+12,000\s+3\s+0\.03%\s+0\.42 s/);
    expect(run.stdout).toMatch(/green\s+0\s+0\s+no traffic\s+-/);
    expect(run.stdout).toContain(
      'blue: fa-ai-system-blue-service ACTIVE, tasks 2/2 running (0 pending), deployment COMPLETED; targets 2/2 healthy',
    );
    expect(run.stdout).toContain('fa-ai-system-db: available (db.t4g.medium, PostgreSQL 17.9, Multi-AZ no)');
    expect(run.stdout).toContain('connections: 42 now, at most 42 in 5 min; alarm above 80');
    expect(run.stdout).toContain('fa-ai-system-cache: available (cache.t4g.micro, 1 node(s))');
    expect(run.stdout).toContain('memory: 34.5% (fullest node); alarm above 80%');
    expect(run.stdout).toMatch(/Alarms in ALARM \(0\)\n\s+none/);
    expect(run.stdout).toMatch(/"Connection timeout"\s+0\s+0\s+0 \/ 5 min\s+5/);
    expect(run.stdout).toMatch(/blue: none\n\s+green: none/);
    expect(run.stdout).toContain('Last shift: none recorded.');
    expect(run.stdout).not.toContain('Could not read');
  });

  it('asks CloudWatch, Logs Insights, RDS and ElastiCache for what the manifest names', async () => {
    await runOps(PROD);
    expect(cliMocks.cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNamePrefix: 'fa-ai-system-prod-',
      StateValue: 'ALARM',
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
    expect(cliMocks.rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      DBInstanceIdentifier: 'fa-ai-system-db',
    });
    expect(cliMocks.elasticache).toHaveReceivedCommandWith(DescribeReplicationGroupsCommand, {
      ReplicationGroupId: 'fa-ai-system-cache',
    });
    // One counting query over both colours and one sample query per colour, the last hour.
    expect(dw.queries.map((q) => q.logGroupNames)).toEqual(
      expect.arrayContaining([[LOG_GROUPS.blue, LOG_GROUPS.green], [LOG_GROUPS.blue], [LOG_GROUPS.green]]),
    );
    expect(dw.queries).toHaveLength(3);
    for (const q of dw.queries) expect([q.startTime, q.endTime]).toEqual([NOW_S - 3600, NOW_S]);
  });

  it('reads the window given with --since', async () => {
    const run = await runOps([...PROD, '--since', '30m']);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)[0]).toContain('since 2026-11-25 03:42:35Z (30m)');
    for (const q of dw.queries) expect(q.startTime).toBe(NOW_S - 1800);
  });
});

describe('diagnose, P1 conditions and the section to follow', () => {
  it('sends on-call to "Database Connection Pool Exhausted" on pool errors and high connections (exit 1)', async () => {
    dw.connections = [86, 84, 83, 81, 82];
    dw.counts = [
      {
        bin: '2026-11-25 04:05:00.000',
        log: 'blue',
        counts: { DbPoolExhausted: 2, ErrorLogs: 4, ConnectionTimeout: 1 },
      },
      { bin: '2026-11-25 04:10:00.000', log: 'blue', counts: { DbPoolExhausted: 1, ErrorLogs: 2 } },
    ];
    dw.samples.blue = [
      { at: '2026-11-25 04:11:58.120', message: errorLine('could not obtain connection from pool') },
    ];
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('P1 CONDITION MET (2):');
    expect(run.stdout).toContain("P1 database connections 86 > 80 (the alarm's threshold)");
    expect(run.stdout).toContain(
      'P1 3 lines matching "could not obtain connection from pool" (blue 3, green 0); peak 2 per 5 min, alarm at 1',
    );
    const out = lines(run.stdout);
    const next = out.indexOf('Next: Common Issues > Issue: "Database Connection Pool Exhausted"');
    expect(next).toBeGreaterThan(0);
    expect(out[next + 1]).toContain('Restart the tasks');
    expect(run.stdout).toContain(
      'Incident Response > P1: High Error Rate > Common Patterns: "Connection timeout"',
    );
    expect(run.stdout).toMatch(
      /2026-11-25 04:11:58Z \{"level":"ERROR".*could not obtain connection from pool/,
    );
  });

  it('judges each colour against the P1 error rate: green at 14% while the whole is at 1% (exit 1)', async () => {
    dw.traffic.green = { requests: [1000], target5xx: [140], elb5xx: [], p95: [0.8] };
    dw.traffic.lb = { requests: [13_000], target5xx: [143], elb5xx: [], p95: [0.5] };
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('P1 green: error rate 14% > 10% (140 5xx of 1000 requests in 15 min)');
    expect(run.stdout).toMatch(/load balancer\s+13,000\s+143\s+1\.1%/);
    expect(run.stdout).toContain('Next: Incident Response > P1: High Error Rate\n');
  });

  it('says to roll back first when the colour that fails got its traffic from a shift in the window', async () => {
    dw.traffic.green = { requests: [1000], target5xx: [140], elb5xx: [], p95: [0.8] };
    await opsTable().seed(
      lastShiftItem({ startedAt: '2026-11-25T03:58:00.000Z', completedAt: '2026-11-25T04:05:00.000Z' }),
    );
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    const out = lines(run.stdout);
    const next = out.findIndex((l) => l.startsWith('Next: '));
    expect(out[next]).toBe(
      'Next: Incident Response > P0: Complete Service Outage > Immediate Actions: 3. If recent deployment, rollback immediately',
    );
    expect(out[next + 1]).toContain('npm run ops -- rollback --reason "..."');
    expect(out[next + 2]).toContain('the last shift moved traffic to green (completed 2026-11-25 04:05:00Z)');
    expect(run.stdout).toContain('Last shift: to green, completed at 2026-11-25 04:05:00Z (8 min ago)');
  });

  it.each([
    ['before the window', { startedAt: '2026-11-25T02:00:00.000Z', completedAt: '2026-11-25T02:20:00.000Z' }],
    ['already rolled back', { status: 'rolled-back', rolledBackAt: '2026-11-25T04:08:00.000Z' }],
    ['to the other colour', { to: 'blue', from: { blue: 0, green: 100 } }],
  ])('does not blame a shift %s', async (_, overrides) => {
    dw.traffic.green = { requests: [1000], target5xx: [140], elb5xx: [], p95: [0.8] };
    await opsTable().seed(lastShiftItem(overrides));
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Next: Incident Response > P1: High Error Rate\n');
    expect(run.stdout).not.toContain('rollback immediately');
  });

  it('peaks per alarm period: 15 clock-aligned minutes for fact checks, 5 for the rest', async () => {
    dw.counts = [
      { bin: '2026-11-25 04:00:00.000', log: 'green', counts: { FactCheckFailed: 6, ErrorLogs: 30 } },
      { bin: '2026-11-25 04:10:00.000', log: 'blue', counts: { FactCheckFailed: 3, ErrorLogs: 30 } },
      { bin: '2026-11-25 03:55:00.000', log: 'green', counts: { FactCheckFailed: 8 } },
    ];
    const run = await runOps(PROD);
    // 04:00 and 04:10 share the 04:00-04:15 period (9); 03:55 is in the one before (8).
    expect(run.stdout).toMatch(/"Fact check failed"\s+3\s+14\s+9 \/ 15 min\s+10/);
    expect(run.stdout).toMatch(/\{ \$\.level = "ERROR" \}\s+30\s+30\s+30 \/ 5 min\s+50/);
    expect(run.code).toBe(0);
  });

  it("points 429s at the error table's rate-limit row and High API Costs", async () => {
    dw.counts = [{ bin: '2026-11-25 04:00:00.000', log: 'green', counts: { RateLimited: 25 } }];
    const run = await runOps(PROD);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Next: Incident Response > P1: High Error Rate > Common Patterns: "429 Too Many Requests"',
    );
    expect(run.stdout).toContain('Common Issues > Issue: "High API Costs"');
  });

  it('puts an outage first: the P0 composite and zero healthy targets', async () => {
    cliMocks.elbv2.reset();
    cliMocks.elbv2.resolves({ TargetHealthDescriptions: [] });
    dw.alarms = [
      {
        id: 'p0',
        composite: true,
        description: 'P0 complete service outage: zero healthy targets or a 5xx storm.',
      },
      {
        id: 'db-connections-high',
        description: 'P1 database connections above 80% of max_connections (100).',
      },
    ];
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Next: Incident Response > P0: Complete Service Outage');
    expect(run.stdout).toContain('P0 fa-ai-system-prod-p0 since 2026-11-25 04:02:00Z (11 min ago)');
    expect(run.stdout).toContain('P1 database connections above 80% of max_connections (100).');
    expect(run.stdout).toMatch(
      /Then:\n\s+- Common Issues > Issue: "Database Connection Pool Exhausted" \(P1\)/,
    );
  });

  it("judges tasks by the health check's rules: a service short of tasks is P1", async () => {
    cliMocks.ecs.on(DescribeServicesCommand).resolves({
      services: [service('blue', { runningCount: 1, pendingCount: 1 }), service('green')],
      failures: [],
    });
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('P1 services: 1/2 services running as desired');
    expect(run.stdout).toContain(
      'Next: Incident Response > P0: Complete Service Outage (Check ECS service status)',
    );
    expect(run.stdout).toContain('blue: fa-ai-system-blue-service ACTIVE, tasks 1/2 running (1 pending)');
  });

  it('prints the whole diagnosis as JSON with --json', async () => {
    dw.cacheMemory = [91.2];
    const run = await runOps([...PROD, '--json']);
    expect(run.code).toBe(0);
    const data = JSON.parse(run.stdout);
    expect(data).toMatchObject({
      environment: 'prod',
      region: 'us-east-1',
      exitCode: 0,
      p1: false,
      unavailable: [],
      conditions: [{ id: 'cache-memory-high', level: 'P2' }],
      steps: [{ section: 'Common Issues > Issue: "Batch Processing Taking Too Long"', level: 'P2' }],
      limits: { errorRateHigh: 0.1, errorRateMax: 0.01, p95MaxSeconds: 3, dbConnectionsThreshold: 80 },
    });
  });
});

describe('diagnose, sources that fail', () => {
  it('reports Logs Insights denied as unavailable and still prints the rest (exit 3)', async () => {
    cliMocks.logs
      .on(StartQueryCommand)
      .rejects(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:sts::222222222222:assumed-role/oncall/alice is not authorized to perform: logs:StartQuery',
        ),
      );
    const run = await runOps(PROD);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('No P1 condition found, but 3 source(s) could not be read');
    expect(run.stdout).toMatch(
      /Error-table patterns since .*\n\s+unavailable: AccessDeniedException: User: .*logs:StartQuery/,
    );
    expect(run.stdout).toMatch(/blue: unavailable: AccessDeniedException/);
    expect(run.stdout).toMatch(/blue\s+12,000\s+3/);
    expect(run.stdout).toContain('fa-ai-system-db: available');
    expect(run.stdout).toContain('- error-table pattern counts: AccessDeniedException');
  });

  it('still finds a P1 condition when another source fails (exit 1)', async () => {
    cliMocks.rds.on(DescribeDBInstancesCommand).rejects(awsError('AccessDenied', 'not authorized'));
    dw.connections = [95];
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Database\n  unavailable: AccessDenied: not authorized');
    expect(run.stdout).toContain('P1 database connections 95 > 80');
  });

  it('retries a throttled GetMetricData and uses its answer', async () => {
    dw.connections = [91];
    cliMocks.cloudwatch
      .on(GetMetricDataCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .callsFake(metricDataAnswer);
    const run = await runOps(PROD);
    expect(run.code).toBe(1);
    expect(cliMocks.cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 5);
    expect(run.stdout).toMatch(/blue\s+12,000\s+3/);
    expect(run.stdout).toContain('P1 database connections 91 > 80');
    expect(run.stdout).toContain('memory: 34.5%');
    expect(run.stdout).not.toContain('Could not read');
  });

  it('reports a source throttled past its retries as unavailable, the others still print', async () => {
    cliMocks.elasticache
      .on(DescribeReplicationGroupsCommand)
      .rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    const run = await runOps(PROD);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('Cache\n  unavailable: ThrottlingException: Rate exceeded');
    expect(run.stdout).toContain('memory: unavailable: ThrottlingException: Rate exceeded');
    expect(cliMocks.elasticache).toHaveReceivedCommandTimes(DescribeReplicationGroupsCommand, 5);
    expect(run.stdout).toContain('fa-ai-system-db: available');
  });

  it('stops a Logs Insights query still running after 60 s and says so', async () => {
    dw.queryStatus = 'Running';
    const run = await runOps(PROD);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(
      'unavailable: InsightsQueryError: the Logs Insights query was still Running after 60 s (stopped)',
    );
    expect(cliMocks.logs).toHaveReceivedCommandTimes(StopQueryCommand, 3);
    // 60 polls a second apart per query, three queries.
    expect(run.sleeps.filter((ms) => ms === 1000)).toHaveLength(180);
    expect(cliMocks.logs).toHaveReceivedCommandTimes(GetQueryResultsCommand, 183);
  });

  it('reports a failed query as unavailable', async () => {
    dw.queryStatus = 'Failed';
    const run = await runOps(PROD);
    expect(run.stdout).toContain('unavailable: InsightsQueryError: the Logs Insights query ended Failed');
    expect(cliMocks.logs).toHaveReceivedCommandTimes(StopQueryCommand, 0);
  });

  it('says what a stack deployed before diagnose lacks, and reads the rest', async () => {
    await resetDiagnose({ diagnose: undefined });
    const run = await runOps(PROD);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(
      'Database\n  unavailable: Error: the OpsManifest of fa-ai-system-prod-service predates ops diagnose: redeploy the service stack',
    );
    expect(run.stdout).toMatch(/blue\s+12,000\s+3/);
    expect(cliMocks.rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 0);
  });
});

describe('diagnose, no data points', () => {
  it('reads missing datapoints as no traffic and no datapoint, never as a breach (exit 0)', async () => {
    dw.traffic = {
      blue: { requests: [], target5xx: [], elb5xx: [], p95: [] },
      green: { requests: [], target5xx: [], elb5xx: [], p95: [] },
      lb: { requests: [], target5xx: [], elb5xx: [], p95: [] },
    };
    dw.connections = [];
    dw.cacheMemory = [];
    const run = await runOps(PROD);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/blue\s+0\s+0\s+no traffic\s+-/);
    expect(run.stdout).toMatch(/load balancer\s+0\s+0\s+no traffic\s+-/);
    expect(run.stdout).toContain('connections: no datapoint now, at most - in 5 min');
    expect(run.stdout).toContain('memory: no datapoint (fullest node)');
  });
});

describe('diagnose, bad input', () => {
  it.each([
    ['90', '--since 90: expected a number and a unit (m, h), e.g. 5m'],
    ['2d', '--since 2d: expected a number and a unit (m, h), e.g. 5m'],
    ['25h', '--since 25h: at most 24h'],
    ['0m', '--since 0m: must be more than 0'],
  ])('refuses --since %s naming the option (exit 2), calling nothing', async (since, message) => {
    const before = awsCalls();
    const run = await runOps([...PROD, '--since', since]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(awsCalls()).toBe(before);
  });

  it('refuses an option of another command', async () => {
    const run = await runOps([...PROD, '--to', 'green']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Option --to does not apply to diagnose');
  });
});
