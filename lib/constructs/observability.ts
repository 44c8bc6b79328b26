import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ALARM_IDS, type AlarmId, type WatchedFunctionName } from '../../core/alarms/catalogue';
import type { ObservabilityConfig } from '../config';
import type { AlarmFactory, MetricAlarmSpec } from './alarm-factory';
import type { AppFunction } from './app-function';
import { APP_METRICS_NAMESPACE, appMetric, MODELS, QUERY_TIERS } from './app-metrics';
import type { BlueGreenService, Colour, ColourService } from './blue-green-service';
import type { Cache } from './cache';
import type { Database } from './database';
import { dbConnectionsThreshold, LOG_PATTERNS, RUNBOOK } from './runbook';

// The runbook's sections and error table live in ./runbook (no aws-cdk-lib: the ops CLI reads them).
export { LOG_PATTERNS, RUNBOOK };

/** A Lambda to watch: errors alarm, and DLQ depth when it has one. */
export interface WatchedFunction {
  /** Its name in the catalogue's alarms `lambda-<name>-errors` / `-dlq`, e.g. budget-guard. */
  readonly name: WatchedFunctionName;
  readonly fn: AppFunction;
  /** Its construct alarms on its dead-letter queue itself (what to do differs). @default false */
  readonly ownDeadLetterAlarm?: boolean;
}

/** Properties of {@link Observability}. */
export interface ObservabilityProps {
  readonly envName: string;
  /** The runbook's FA-AI-System-Production in prod. */
  readonly dashboardName: string;
  readonly config: ObservabilityConfig;
  /** Builds the alarms from the catalogue and puts them on the dashboard. */
  readonly alarms: AlarmFactory;
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
 * The runbook's monitoring: the six-widget dashboard with the alarm rows under it, an alarm
 * for every threshold (built from the catalogue: name, severity, runbook section, topic),
 * per-colour alarms for traffic shifting, the runbook's error table as log metric filters, and
 * one composite P0 alarm.
 */
export class Observability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** Alarms that judge one colour; a traffic shift gates on the target colour's. */
  public readonly colourAlarms: Readonly<Record<Colour, readonly cloudwatch.IAlarm[]>>;
  /** Any of: zero healthy targets, 5xx storm. Pages P0. */
  public readonly p0Alarm: cloudwatch.CompositeAlarm;
  public readonly logMetricsNamespace: string;

  private readonly props: ObservabilityProps;

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
    this.alarm('zero-healthy-targets', {
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
    });
    this.alarm('5xx-storm', {
      figures: { share: pct(config.errorRateStorm) },
      metric: errorRate(minute),
      threshold: config.errorRateStorm,
      evaluationPeriods: 3,
    });
    this.alarm('error-rate-high', {
      figures: { threshold: pct(config.errorRateHigh) },
      metric: errorRate(five),
      threshold: config.errorRateHigh,
      evaluationPeriods: 2,
    });
    this.alarm('error-rate-elevated', {
      figures: { threshold: pct(config.errorRateElevated) },
      metric: errorRate(five),
      threshold: config.errorRateElevated,
      evaluationPeriods: 3,
    });
    this.alarm('latency-p95', {
      figures: { seconds: config.p95Seconds },
      metric: alb.metrics.targetResponseTime({ period: five, statistic: 'p95' }),
      threshold: config.p95Seconds,
      evaluationPeriods: 3,
    });
    this.alarm('latency-p99', {
      figures: { seconds: config.p99Seconds },
      metric: alb.metrics.targetResponseTime({ period: five, statistic: 'p99' }),
      threshold: config.p99Seconds,
      evaluationPeriods: 3,
    });

    // Zero healthy targets or a 5xx storm (the catalogue's anyOf): pages once for both.
    this.p0Alarm = props.alarms.compositeAlarm(this, 'p0', { constructId: 'P0' });

    // --- Per colour: what a traffic shift is judged on ----------------------------------------
    for (const c of service.colours) {
      const tg = c.targetGroup;
      this.alarm(`${c.colour}-error-rate`, {
        figures: { threshold: pct(config.errorRateElevated) },
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
      });
      this.alarm(`${c.colour}-latency-p95`, {
        figures: { seconds: config.p95Seconds },
        metric: tg.metrics.targetResponseTime({ period: minute, statistic: 'p95' }),
        threshold: config.p95Seconds,
        evaluationPeriods: 3,
      });
      this.alarm(`${c.colour}-unhealthy-targets`, {
        metric: tg.metrics.unhealthyHostCount({ period: minute, statistic: 'Maximum' }),
        threshold: 1,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
      });
      // Near the limits: remediation scales the colour out on these.
      const average = { period: five, statistic: 'Average' };
      for (const [alarm, maxPercent, metric] of [
        ['cpu-high', config.ecsCpuMaxPercent, c.service.metricCpuUtilization(average)],
        ['memory-high', config.ecsMemoryMaxPercent, c.service.metricMemoryUtilization(average)],
      ] as const) {
        this.alarm(`${c.colour}-${alarm}`, {
          figures: { percent: maxPercent },
          metric,
          threshold: maxPercent,
          evaluationPeriods: 3,
        });
      }
    }
    this.colourAlarms = { blue: props.alarms.shiftGates('blue'), green: props.alarms.shiftGates('green') };

    // --- Data tier -----------------------------------------------------------------------------
    this.alarm('db-connections-high', {
      figures: { percent: config.dbConnectionsMaxPercent, maxConnections: props.dbMaxConnections },
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
      figures: { percent: config.cacheMemoryMaxPercent },
      metric: cacheMetric('DatabaseMemoryUsagePercentage', 'Maximum'),
      threshold: config.cacheMemoryMaxPercent,
      evaluationPeriods: 3,
    });

    // --- Batch and cost (application metrics) ---------------------------------------------------
    const hourly = Duration.hours(1);
    const app = (name: Parameters<typeof appMetric>[1], statistic: string) =>
      appMetric(props.envName, name, { statistic, period: hourly });
    this.alarm('batch-success-rate-low', {
      figures: { percent: config.batchSuccessRateMinPercent },
      metric: app('BatchSuccessRate', 'Minimum'),
      threshold: config.batchSuccessRateMinPercent,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    this.alarm('batch-duration-long', {
      figures: { minutes: config.batchMaxMinutes },
      metric: app('BatchDurationMinutes', 'Maximum'),
      threshold: config.batchMaxMinutes,
    });
    this.alarm('batch-throughput-low', {
      figures: { stocksPerHour: config.batchMinStocksPerHour },
      metric: app('BatchThroughput', 'Minimum'),
      threshold: config.batchMinStocksPerHour,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    this.alarm('cost-per-stock-high', {
      figures: { usd: `$${config.costPerStockMaxUsd.toFixed(2)}` },
      metric: app('CostPerStock', 'Maximum'),
      threshold: config.costPerStockMaxUsd,
    });
    this.alarm('cost-per-query-high', {
      figures: { usd: `$${config.costPerQueryMaxUsd.toFixed(2)}` },
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
      this.alarm(p.alarm, {
        figures: { count: p.threshold, pattern: p.pattern, minutes: period.toMinutes() },
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
    this.dashboard = this.buildDashboard(errorRate(five), cacheMetric);
  }

  /** Alarms on errors of each Lambda, and on the depth of its dead-letter queue. */
  watch(functions: readonly WatchedFunction[]): void {
    const five = Duration.minutes(5);
    for (const f of functions) {
      this.alarm(`lambda-${f.name}-errors`, {
        metric: f.fn.lambda.metricErrors({ period: five, statistic: 'Sum' }),
        threshold: 1,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      const deadLetterQueue = f.ownDeadLetterAlarm ? undefined : f.fn.deadLetterQueue;
      if (deadLetterQueue) {
        const id = `lambda-${f.name}-dlq`;
        if (!isAlarmId(id)) throw new Error(`the alarm catalogue has no ${id}: add it to watch this queue`);
        this.alarm(id, {
          metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: five,
            statistic: 'Maximum',
          }),
          threshold: 1,
          comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        });
      }
    }
  }

  /** The catalogue's alarm `id`, in this construct (its logical ids are the alarm ids). */
  private alarm(id: AlarmId, spec: MetricAlarmSpec): cloudwatch.Alarm {
    return this.props.alarms.metricAlarm(this, id, spec);
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
    // One row each: the rows list alarms built later (heartbeat, batch, dead-letter queues) too.
    for (const row of props.alarms.dashboardWidgets()) dashboard.addWidgets(row);
    return dashboard;
  }
}

const pct = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
const isAlarmId = (id: string): id is AlarmId => (ALARM_IDS as readonly string[]).includes(id);
