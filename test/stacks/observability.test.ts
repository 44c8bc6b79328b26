import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateMaxConnections } from '../../lib/constructs/max-connections';
import { LOG_PATTERNS } from '../../lib/constructs/observability';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let alarms: Record<string, any>;

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'service');
  alarms = Object.fromEntries(
    Object.values(prod.findResources('AWS::CloudWatch::Alarm'))
      .filter((a) => typeof a.Properties.AlarmName === 'string')
      .map((a) => [String(a.Properties.AlarmName).replace(/^fa-ai-system-prod-/, ''), a.Properties]),
  );
});

/** The topic an alarm notifies, e.g. 'P1'. */
const topicOf = (alarm: any) =>
  JSON.stringify(alarm.AlarmActions ?? [])
    .match(/AlertsP(\d)/)?.[0]
    .replace('Alerts', '');
/** The metric names inside an alarm (plain or math). */
const metricsOf = (alarm: any): string[] =>
  alarm.MetricName
    ? [alarm.MetricName]
    : (alarm.Metrics ?? []).map((m: any) => m.MetricStat?.Metric.MetricName).filter(Boolean);

describe('dashboard', () => {
  it("is named as the runbook says in prod, with the runbook's six widgets in order", () => {
    const [dashboard] = Object.values(prod.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard?.Properties.DashboardName).toBe('FA-AI-System-Production');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    const titles = [...body.matchAll(/\\"title\\":\\"([^\\]+)\\"/g)].map((m) => m[1]);
    expect(titles.slice(0, 6)).toEqual([
      '1. Batch Volume & Success Rate',
      '2. Query Volume by Tier',
      '3. Response Times (P50, P95, P99)',
      '4. Error Rates',
      '5. Cost Metrics',
      '6. System Health (CPU, Memory, Connections)',
    ]);
  });

  it('shows tiers, models, percentiles and system health from their sources', () => {
    const body = JSON.stringify(
      Object.values(prod.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody,
    );
    for (const expected of [
      'QueryCount',
      'expanded',
      'ModelInvocations',
      'haiku',
      'sonnet',
      'TargetResponseTime',
      'p99',
      'DatabaseConnections',
      'CurrConnections',
      'MemoryUtilization',
      'CostPerStock',
    ]) {
      expect(body).toContain(expected);
    }
  });

  it('names the other environments after them', () => {
    synth.template('dev', 'service').hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'FA-AI-System-Development',
    });
  });
});

describe('alarms', () => {
  it('name their severity and runbook section in every description, and notify that severity', () => {
    expect(Object.keys(alarms).length).toBeGreaterThan(30);
    for (const [name, alarm] of Object.entries(alarms)) {
      const severity = String(alarm.AlarmDescription).match(/^(P[0-3]) /)?.[1];
      expect(severity, name).toBeDefined();
      expect(alarm.AlarmDescription, name).toMatch(/Runbook: /);
      // P0 parts page once, through the composite alarm.
      if (!['zero-healthy-targets', '5xx-storm'].includes(name)) expect(topicOf(alarm), name).toBe(severity);
    }
  });

  it.each([
    ['error-rate-high', 'P1', 0.1],
    ['error-rate-elevated', 'P2', 0.01],
    ['latency-p95', 'P1', 3],
    ['latency-p99', 'P2', 5],
    ['batch-success-rate-low', 'P2', 95],
    ['batch-duration-long', 'P2', 240],
    ['batch-throughput-low', 'P2', 250],
    ['cost-per-stock-high', 'P2', 0.4],
    ['cost-per-query-high', 'P2', 0.08],
    ['cache-memory-high', 'P2', 80],
    ['db-connections-high', 'P1', Math.floor(estimateMaxConnections('t4g.small') * 0.8)],
    ['blue-cpu-high', 'P2', 85],
    ['green-memory-high', 'P2', 85],
  ])('%s fires at the runbook threshold (%s, %d)', (name, severity, threshold) => {
    expect(alarms[name]?.Threshold).toBe(threshold);
    expect(alarms[name]?.AlarmDescription).toMatch(new RegExp(`^${severity} `));
  });

  it('computes the error rate as 5xx over requests from the ALB', () => {
    const alarm = alarms['error-rate-high'];
    expect(alarm.Metrics.find((m: any) => m.Expression)?.Expression).toBe(
      'IF(FILL(req, 0) > 0, (FILL(t5, 0) + FILL(e5, 0)) / req, 0)',
    );
    expect(metricsOf(alarm).sort()).toEqual([
      'HTTPCode_ELB_5XX_Count',
      'HTTPCode_Target_5XX_Count',
      'RequestCount',
    ]);
  });

  it('reads P95 and P99 latency as ALB percentiles', () => {
    expect(alarms['latency-p95']).toMatchObject({
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p95',
    });
    expect(alarms['latency-p99']).toMatchObject({
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p99',
    });
  });

  it('treats missing healthy-host data as an outage', () => {
    expect(alarms['zero-healthy-targets']).toMatchObject({
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
    });
    expect(metricsOf(alarms['zero-healthy-targets'])).toEqual(['HealthyHostCount', 'HealthyHostCount']);
  });

  it.each(['blue', 'green'])('judges %s on its own target group (error rate, P95, health)', (colour) => {
    for (const kind of ['error-rate', 'latency-p95', 'unhealthy-targets']) {
      const alarm = alarms[`${colour}-${kind}`];
      expect(alarm, kind).toBeDefined();
      const tgDimension = JSON.stringify(alarm).match(/"Name":"TargetGroup"/);
      expect(tgDimension, `${colour}-${kind} has a TargetGroup dimension`).not.toBeNull();
      expect(JSON.stringify(alarm)).toContain(
        `Service${colour[0]?.toUpperCase()}${colour.slice(1)}TargetGroup`,
      );
    }
  });

  it('pages P0 through one composite alarm of zero healthy targets or a 5xx storm', () => {
    const [composite] = Object.values(prod.findResources('AWS::CloudWatch::CompositeAlarm'));
    const rule = ((composite as any).Properties.AlarmRule['Fn::Join'][1] as unknown[])
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
      .join('');
    expect(rule).toMatch(
      /^\(ALARM\(".*Observabilityzerohealthytargets.*"\) OR ALARM\(".*Observability5xxstorm.*"\)\)$/,
    );
    prod.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'fa-ai-system-prod-p0',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertsP0') }],
      AlarmDescription: Match.stringLikeRegexp('^P0 .*Runbook: Incident Response > P0'),
    });
  });

  it('watches the automation Lambdas and the maintenance dead-letter queue', () => {
    for (const name of [
      'lambda-budget-guard-errors',
      'lambda-db-maintenance-errors',
      'lambda-db-migrate-errors',
    ]) {
      expect(alarms[name]?.MetricName, name).toBe('Errors');
    }
    expect(alarms['lambda-db-maintenance-dlq']?.MetricName).toBe('ApproximateNumberOfMessagesVisible');
  });
});

describe('log metric filters', () => {
  it.each(LOG_PATTERNS.map((p) => [p.metric, p.pattern] as const))(
    'count %s (%s) in both colour log groups',
    (metric, pattern) => {
      const filters = Object.values(
        prod.findResources('AWS::Logs::MetricFilter', {
          Properties: {
            FilterPattern: pattern,
            MetricTransformations: [Match.objectLike({ MetricName: metric })],
          },
        }),
      );
      expect(filters.map((f) => JSON.stringify(f.Properties.LogGroupName)).sort()).toEqual([
        expect.stringContaining('ServiceBlueLogGroup'),
        expect.stringContaining('ServiceGreenLogGroup'),
      ]);
    },
  );

  it("uses the runbook's own ERROR filter and alarms on each pattern", () => {
    prod.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ $.level = "ERROR" }' });
    for (const p of LOG_PATTERNS) {
      const alarm = Object.values(alarms).find((a) => a.MetricName === p.metric);
      expect(alarm, p.metric).toMatchObject({ Namespace: 'FA-AI-System/Logs/prod', Threshold: p.threshold });
    }
  });

  it('pages (P1) when the connection pool is exhausted', () => {
    expect(alarms['log-db-pool-exhausted']).toMatchObject({ Threshold: 1, MetricName: 'DbPoolExhausted' });
    expect(topicOf(alarms['log-db-pool-exhausted'])).toBe('P1');
  });
});

describe('max_connections estimate', () => {
  it.each([
    ['t4g.micro', 112],
    ['t4g.small', 225],
    ['m7g.large', 901],
    ['r7g.large', 1802],
  ])('estimates %s at %d', (instanceClass, expected) => {
    expect(estimateMaxConnections(instanceClass)).toBe(expected);
  });

  it('refuses to guess an unknown class and says which setting to use', () => {
    expect(() => estimateMaxConnections('z1d.metal')).toThrow('set database.maxConnections in config');
  });
});

// That every alarm of every environment is named, routed and on the dashboard: alarm-catalogue.test.ts.
