import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ObservabilityConfig } from '../config';
import type { Severity } from './alert-topics';
import { APP_METRICS_NAMESPACE, appMetric, MODELS, QUERY_TIERS } from './app-metrics';
import type { BlueGreenService, Colour, ColourService } from './blue-green-service';
import type { Cache } from './cache';
import type { Database } from './database';
import { dbConnectionsThreshold, LOG_PATTERNS, logPatternAlarmId, RUNBOOK } from './runbook';

// The runbook's sections and error table live in ./runbook (no aws-cdk-lib: the ops CLI reads them).
export { LOG_PATTERNS, RUNBOOK };

/** A Lambda to watch: errors alarm, and DLQ depth when it has one. */
export interface WatchedFunction {
  /** Short name used in the alarm name, e.g. budget-guard. */
  readonly name: string;
  readonly fn: lambda.IFunction;
  readonly deadLetterQueue?: sqs.IQueue;
  readonly severity: Severity;
}

/** Properties of {@link Observability}. */
export interface ObservabilityProps {
  readonly envName: string;
  /** Prefix of alarm names, e.g. fa-ai-system-prod. */
  readonly namePrefix: string;
  /** The runbook's FA-AI-System-Production in prod. */
  readonly dashboardName: string;
  readonly config: ObservabilityConfig;
  readonly alertTopics: Readonly<Record<Severity, sns.ITopic>>;
  readonly service: BlueGreenService;
  readonly database: Database;
  /** max_connections of the database. */
  readonly dbMaxConnections: number;
  readonly cache: Cache;
  /** Nodes of the cache replication group (1 + replicas). */
  readonly cacheNodes: number;
  readonly functions: readonly WatchedFunction[];
}

/**
 * The runbook's monitoring: the six-widget dashboard, an alarm for every threshold routed
 * by severity (the description names the severity and the runbook section), per-colour
 * alarms for traffic shifting, the runbook's error table as log metric filters, and one
 * composite P0 alarm. Alarm names are stable: automation matches on them.
 */
export class Observability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm by its short id (the name without the environment prefix). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Alarms that judge one colour; a traffic shift gates on the target colour's. */
  public readonly colourAlarms: Readonly<Record<Colour, readonly cloudwatch.Alarm[]>>;
  /** Any of: zero healthy targets, 5xx storm. Pages P0. */
  public readonly p0Alarm: cloudwatch.CompositeAlarm;
  public readonly logMetricsNamespace: string;

  private readonly props: ObservabilityProps;
  private readonly byId: Record<string, cloudwatch.Alarm> = {};
  /** Every alarm's severity by its id: what the automation is told (it never parses descriptions). */
  public readonly severities: Record<string, Severity> = {};
  /** The dashboard's alarm widget reads this list at synth, so alarms added later are on it too. */
  private readonly dashboardAlarms: cloudwatch.IAlarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.props = props;
    const { config, service } = props;
    const alb = service.loadBalancer;
    const five = Duration.minutes(5);
    const minute = Duration.minutes(1);
    this.logMetricsNamespace = `${APP_METRICS_NAMESPACE}/Logs/${props.envName}`;

    // --- Service: outage, errors, latency -------------------------------------------------
    const requests = alb.metrics.requestCount({ period: minute, statistic: 'Sum' });
    const target5xx = alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
      period: minute,
      statistic: 'Sum',
    });
    const elb5xx = alb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
      period: minute,
      statistic: 'Sum',
    });
    const errorRate = (period: Duration) =>
      new cloudwatch.MathExpression({
        expression: 'IF(FILL(req, 0) > 0, (FILL(t5, 0) + FILL(e5, 0)) / req, 0)',
        usingMetrics: {
          req: requests.with({ period }),
          t5: target5xx.with({ period }),
          e5: elb5xx.with({ period }),
        },
        period,
        label: '5xx / requests',
      });

    const healthy = (c: ColourService) =>
      c.targetGroup.metrics.healthyHostCount({ period: minute, statistic: 'Minimum' });
    const zeroHealthy = this.alarm('zero-healthy-targets', {
      severity: 'P0',
      summary: 'no healthy target behind the ALB (blue + green)',
      runbook: RUNBOOK.outage,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(hb, 0) + FILL(hg, 0)',
        usingMetrics: { hb: healthy(service.blue), hg: healthy(service.green) },
        period: minute,
        label: 'healthy targets',
      }),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      missing: cloudwatch.TreatMissingData.BREACHING,
      withoutActions: true,
    });
    const storm = this.alarm('5xx-storm', {
      severity: 'P0',
      summary: `more than ${pct(config.errorRateStorm)} of requests fail with 5xx`,
      runbook: RUNBOOK.outage,
      metric: errorRate(minute),
      threshold: config.errorRateStorm,
      evaluationPeriods: 3,
      withoutActions: true,
    });
    this.alarm('error-rate-high', {
      severity: 'P1',
      summary: `error rate above ${pct(config.errorRateHigh)}`,
      runbook: RUNBOOK.errorRate,
      metric: errorRate(five),
      threshold: config.errorRateHigh,
      evaluationPeriods: 2,
    });
    this.alarm('error-rate-elevated', {
      severity: 'P2',
      summary: `error rate above ${pct(config.errorRateElevated)} (expected result: < 1%)`,
      runbook: RUNBOOK.partial,
      metric: errorRate(five),
      threshold: config.errorRateElevated,
      evaluationPeriods: 3,
    });
    this.alarm('latency-p95', {
      severity: 'P1',
      summary: `P95 response time above ${config.p95Seconds} s (slow responses)`,
      runbook: RUNBOOK.latency,
      metric: alb.metrics.targetResponseTime({ period: five, statistic: 'p95' }),
      threshold: config.p95Seconds,
      evaluationPeriods: 3,
    });
    this.alarm('latency-p99', {
      severity: 'P2',
      summary: `P99 response time above ${config.p99Seconds} s`,
      runbook: RUNBOOK.latency,
      metric: alb.metrics.targetResponseTime({ period: five, statistic: 'p99' }),
      threshold: config.p99Seconds,
      evaluationPeriods: 3,
    });

    this.p0Alarm = new cloudwatch.CompositeAlarm(this, 'P0', {
      compositeAlarmName: `${props.namePrefix}-p0`,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        cloudwatch.AlarmRule.fromAlarm(zeroHealthy, cloudwatch.AlarmState.ALARM),
        cloudwatch.AlarmRule.fromAlarm(storm, cloudwatch.AlarmState.ALARM),
      ),
      alarmDescription: `P0 complete service outage: zero healthy targets or a 5xx storm. Runbook: ${RUNBOOK.outage}. First action after a recent deployment: npm run ops -- rollback`,
    });
    this.p0Alarm.addAlarmAction(new cwActions.SnsAction(props.alertTopics.P0));
    this.p0Alarm.addOkAction(new cwActions.SnsAction(props.alertTopics.P0));

    // --- Per colour: what a traffic shift is judged on ----------------------------------------
    const colourAlarms: Record<Colour, cloudwatch.Alarm[]> = { blue: [], green: [] };
    for (const c of service.colours) {
      const tg = c.targetGroup;
      colourAlarms[c.colour].push(
        this.alarm(`${c.colour}-error-rate`, {
          severity: 'P2',
          summary: `${c.colour}: target 5xx above ${pct(config.errorRateElevated)} of its requests`,
          runbook: RUNBOOK.errorRate,
          metric: new cloudwatch.MathExpression({
            expression: 'IF(FILL(req, 0) > 0, FILL(t5, 0) / req, 0)',
            usingMetrics: {
              req: tg.metrics.requestCount({ period: minute, statistic: 'Sum' }),
              t5: tg.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
                period: minute,
                statistic: 'Sum',
              }),
            },
            period: minute,
            label: `${c.colour} 5xx / requests`,
          }),
          threshold: config.errorRateElevated,
          evaluationPeriods: 3,
        }),
        this.alarm(`${c.colour}-latency-p95`, {
          severity: 'P2',
          summary: `${c.colour}: P95 response time above ${config.p95Seconds} s`,
          runbook: RUNBOOK.latency,
          metric: tg.metrics.targetResponseTime({ period: minute, statistic: 'p95' }),
          threshold: config.p95Seconds,
          evaluationPeriods: 3,
        }),
        this.alarm(`${c.colour}-unhealthy-targets`, {
          severity: 'P2',
          summary: `${c.colour}: target health below 100% (expected result: 100% healthy)`,
          runbook: RUNBOOK.outage,
          metric: tg.metrics.unhealthyHostCount({ period: minute, statistic: 'Maximum' }),
          threshold: 1,
          comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 3,
        }),
      );
      // Near the limits: remediation scales the colour out on these.
      this.alarm(`${c.colour}-cpu-high`, {
        severity: 'P2',
        summary: `${c.colour}: ECS CPU above ${config.ecsCpuMaxPercent}%`,
        runbook: RUNBOOK.resources,
        metric: c.service.metricCpuUtilization({ period: five, statistic: 'Average' }),
        threshold: config.ecsCpuMaxPercent,
        evaluationPeriods: 3,
      });
      this.alarm(`${c.colour}-memory-high`, {
        severity: 'P2',
        summary: `${c.colour}: ECS memory above ${config.ecsMemoryMaxPercent}%`,
        runbook: RUNBOOK.resources,
        metric: c.service.metricMemoryUtilization({ period: five, statistic: 'Average' }),
        threshold: config.ecsMemoryMaxPercent,
        evaluationPeriods: 3,
      });
    }
    this.colourAlarms = colourAlarms;

    // --- Data tier -----------------------------------------------------------------------------
    this.alarm('db-connections-high', {
      severity: 'P1',
      summary: `database connections above ${config.dbConnectionsMaxPercent}% of max_connections (${props.dbMaxConnections})`,
      runbook: RUNBOOK.pool,
      metric: props.database.instance.metricDatabaseConnections({ period: minute, statistic: 'Maximum' }),
      threshold: dbConnectionsThreshold(props.dbMaxConnections, config.dbConnectionsMaxPercent),
      evaluationPeriods: 5,
    });
    // The worst node of the replication group; ids are unique per metric so that several
    // of these can share a graph.
    const cacheMetric = (metricName: string, statistic: string) => {
      const idOf = (i: number) => `${metricName.replace(/[^A-Z]/g, '').toLowerCase()}${i + 1}`;
      const ids = Array.from({ length: props.cacheNodes }, (_, i) => idOf(i));
      return new cloudwatch.MathExpression({
        expression:
          ids.length === 1 ? `FILL(${ids[0]}, 0)` : `MAX([${ids.map((id) => `FILL(${id}, 0)`).join(', ')}])`,
        usingMetrics: Object.fromEntries(
          ids.map((id, i) => [
            id,
            new cloudwatch.Metric({
              namespace: 'AWS/ElastiCache',
              metricName,
              dimensionsMap: {
                CacheClusterId: `${props.cache.replicationGroup.replicationGroupId}-${String(i + 1).padStart(3, '0')}`,
              },
              statistic,
              period: five,
            }),
          ]),
        ),
        period: five,
        label: metricName,
      });
    };
    this.alarm('cache-memory-high', {
      severity: 'P2',
      summary: `embedding cache memory above ${config.cacheMemoryMaxPercent}% (evictions follow)`,
      runbook: RUNBOOK.batchSlow,
      metric: cacheMetric('DatabaseMemoryUsagePercentage', 'Maximum'),
      threshold: config.cacheMemoryMaxPercent,
      evaluationPeriods: 3,
    });

    // --- Batch and cost (application metrics) ---------------------------------------------------
    const hourly = Duration.hours(1);
    const app = (name: Parameters<typeof appMetric>[1], statistic: string) =>
      appMetric(props.envName, name, { statistic, period: hourly });
    this.alarm('batch-success-rate-low', {
      severity: 'P2',
      summary: `batch success rate below ${config.batchSuccessRateMinPercent}%`,
      runbook: RUNBOOK.batch,
      metric: app('BatchSuccessRate', 'Minimum'),
      threshold: config.batchSuccessRateMinPercent,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    this.alarm('batch-duration-long', {
      severity: 'P2',
      summary: `batch ran longer than ${config.batchMaxMinutes} minutes`,
      runbook: RUNBOOK.batchSlow,
      metric: app('BatchDurationMinutes', 'Maximum'),
      threshold: config.batchMaxMinutes,
    });
    this.alarm('batch-throughput-low', {
      severity: 'P2',
      summary: `batch throughput below ${config.batchMinStocksPerHour} stocks/hour`,
      runbook: RUNBOOK.batchSlow,
      metric: app('BatchThroughput', 'Minimum'),
      threshold: config.batchMinStocksPerHour,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    this.alarm('cost-per-stock-high', {
      severity: 'P2',
      summary: `cost per stock above $${config.costPerStockMaxUsd.toFixed(2)}`,
      runbook: RUNBOOK.costs,
      metric: app('CostPerStock', 'Maximum'),
      threshold: config.costPerStockMaxUsd,
    });
    this.alarm('cost-per-query-high', {
      severity: 'P2',
      summary: `average cost per query above $${config.costPerQueryMaxUsd.toFixed(2)} over an hour`,
      runbook: RUNBOOK.costs,
      metric: app('CostPerQuery', 'Average'),
      threshold: config.costPerQueryMaxUsd,
    });

    // --- The runbook's error table: log metric filters ------------------------------------------
    for (const p of LOG_PATTERNS) {
      for (const c of service.colours) {
        new logs.MetricFilter(this, `${p.metric}-${c.colour}`, {
          logGroup: c.logGroup,
          filterPattern: logs.FilterPattern.literal(p.pattern),
          metricNamespace: this.logMetricsNamespace,
          metricName: p.metric,
          metricValue: '1',
        });
      }
      const period = Duration.minutes(p.periodMinutes);
      this.alarm(logPatternAlarmId(p.metric), {
        severity: p.severity,
        summary: `${p.threshold}+ log lines matching ${p.pattern} in ${period.toMinutes()} minutes`,
        runbook: p.runbook,
        metric: new cloudwatch.Metric({
          namespace: this.logMetricsNamespace,
          metricName: p.metric,
          statistic: 'Sum',
          period,
        }),
        threshold: p.threshold,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    this.watch(props.functions);

    this.alarms = this.byId;
    this.dashboardAlarms.unshift(this.p0Alarm);
    this.severities.p0 = 'P0';
    this.dashboard = this.buildDashboard(errorRate(five), cacheMetric);
  }

  /**
   * Puts alarms made elsewhere (heartbeat, batch, dead-letter queues) on the dashboard, and their
   * severities with the others'. `id` is the alarm's name without the environment prefix.
   */
  addAlarms(
    alarms: ReadonlyArray<{
      readonly id: string;
      readonly severity: Severity;
      readonly alarm: cloudwatch.IAlarm;
    }>,
  ): void {
    for (const { id, severity, alarm } of alarms) {
      this.dashboardAlarms.push(alarm);
      this.severities[id] = severity;
    }
  }

  /** Alarms on errors of each Lambda, and on the depth of its dead-letter queue. */
  watch(functions: readonly WatchedFunction[]): void {
    const five = Duration.minutes(5);
    for (const f of functions) {
      this.alarm(`lambda-${f.name}-errors`, {
        severity: f.severity,
        summary: `the ${f.name} Lambda failed`,
        runbook: RUNBOOK.partial,
        metric: f.fn.metricErrors({ period: five, statistic: 'Sum' }),
        threshold: 1,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      if (f.deadLetterQueue) {
        this.alarm(`lambda-${f.name}-dlq`, {
          severity: f.severity,
          summary: `events of the ${f.name} Lambda are waiting in its dead-letter queue`,
          runbook: RUNBOOK.partial,
          metric: f.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: five,
            statistic: 'Maximum',
          }),
          threshold: 1,
          comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        });
      }
    }
  }

  /** Creates an alarm named `<prefix>-<shortId>` whose description tells on-call what to do. */
  private alarm(
    shortId: string,
    options: {
      severity: Severity;
      summary: string;
      runbook: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      comparison?: cloudwatch.ComparisonOperator;
      evaluationPeriods?: number;
      missing?: cloudwatch.TreatMissingData;
      /** For alarms that only feed the composite P0 (which pages once). */
      withoutActions?: boolean;
    },
  ): cloudwatch.Alarm {
    const evaluationPeriods = options.evaluationPeriods ?? 1;
    const alarm = new cloudwatch.Alarm(this, shortId, {
      alarmName: `${this.props.namePrefix}-${shortId}`,
      alarmDescription: `${options.severity} ${options.summary}. Runbook: ${options.runbook}.`,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      treatMissingData: options.missing ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (!options.withoutActions) {
      alarm.addAlarmAction(new cwActions.SnsAction(this.props.alertTopics[options.severity]));
    }
    this.byId[shortId] = alarm;
    this.severities[shortId] = options.severity;
    this.dashboardAlarms.push(alarm);
    return alarm;
  }

  private buildDashboard(
    errorRate: cloudwatch.IMetric,
    cacheMetric: (name: string, statistic: string) => cloudwatch.IMetric,
  ): cloudwatch.Dashboard {
    const { props } = this;
    const { service } = props;
    const alb = service.loadBalancer;
    const env = props.envName;
    const hour = Duration.hours(1);
    const five = Duration.minutes(5);
    const width = 12;
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(
      graph(
        '1. Batch Volume & Success Rate',
        [
          appMetric(env, 'BatchStocksProcessed', {
            statistic: 'Sum',
            period: hour,
            label: 'stocks processed',
          }),
          appMetric(env, 'BatchStocksFailed', { statistic: 'Sum', period: hour, label: 'stocks failed' }),
        ],
        [appMetric(env, 'BatchSuccessRate', { statistic: 'Minimum', period: hour, label: 'success rate %' })],
      ),
      graph(
        '2. Query Volume by Tier',
        QUERY_TIERS.map((tier) =>
          appMetric(env, 'QueryCount', { statistic: 'Sum', extra: tier, label: tier }),
        ),
      ),
    );
    dashboard.addWidgets(
      graph(
        '3. Response Times (P50, P95, P99)',
        ['p50', 'p95', 'p99'].map((statistic) =>
          alb.metrics.targetResponseTime({ statistic, period: five, label: statistic.toUpperCase() }),
        ),
      ),
      graph(
        '4. Error Rates',
        [errorRate],
        LOG_PATTERNS.map(
          (p) =>
            new cloudwatch.Metric({
              namespace: this.logMetricsNamespace,
              metricName: p.metric,
              statistic: 'Sum',
              period: five,
            }),
        ),
      ),
    );
    dashboard.addWidgets(
      graph(
        '5. Cost Metrics',
        [
          appMetric(env, 'CostPerStock', { statistic: 'Average', period: hour, label: 'cost per stock $' }),
          appMetric(env, 'CostPerQuery', { statistic: 'Average', period: hour, label: 'cost per query $' }),
        ],
        MODELS.map((model) =>
          appMetric(env, 'ModelInvocations', { statistic: 'Sum', period: hour, extra: model, label: model }),
        ),
      ),
      graph(
        '6. System Health (CPU, Memory, Connections)',
        service.colours.flatMap((c) => [
          c.service.metricCpuUtilization({ period: five, label: `${c.colour} CPU %` }),
          c.service.metricMemoryUtilization({ period: five, label: `${c.colour} memory %` }),
        ]),
        [
          props.database.instance.metricDatabaseConnections({ period: five, label: 'DB connections' }),
          cacheMetric('CurrConnections', 'Maximum'),
          cacheMetric('DatabaseMemoryUsagePercentage', 'Maximum'),
        ],
      ),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: this.dashboardAlarms,
        width: 24,
        height: 6,
      }),
    );
    return dashboard;
  }
}

const pct = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
