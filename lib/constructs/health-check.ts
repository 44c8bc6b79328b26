import { Duration, type TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { type HealthThresholds, healthCheckContract } from '../../core/contracts/health-check';
import { HEALTH_CHECK_CALLS } from '../../lambdas/health-check/calls';
import type { ObservabilityConfig } from '../config';
import { morningCheckCron } from '../config/schedules';
import type { AlarmFactory } from './alarm-factory';
import type { AlertTopics } from './alert-topics';
import { AppFunction, type FunctionLogProps, functionLogs } from './app-function';
import { AUTOMATION_METRICS_NAMESPACE } from './app-metrics';
import type { BlueGreenService } from './blue-green-service';

/** Properties of {@link HealthCheck}. */
export interface HealthCheckProps extends FunctionLogProps {
  readonly envName: string;
  readonly service: BlueGreenService;
  readonly opsTable: dynamodb.ITable;
  readonly alerts: AlertTopics;
  /** Builds the heartbeat's alarm (health-check-heartbeat) from the catalogue. */
  readonly alarms: AlarmFactory;
  readonly timeZone: TimeZone;
  /** Hour of the morning check (runbook: 9 AM). */
  readonly morningHour: number;
  /** Minutes between light checks. */
  readonly lightEveryMinutes: number;
  /** Minutes after which a light check sends the same problem again. */
  readonly lightRenotifyMinutes: number;
  /** The runbook's thresholds (from config `observability`). */
  readonly thresholds: Pick<
    ObservabilityConfig,
    | 'errorRateElevated'
    | 'errorRateHigh'
    | 'p95Seconds'
    | 'batchMaxMinutes'
    | 'batchCheckSuccessMin'
    | 'batchCheckLookbackHours'
  >;
}

/**
 * The runbook's Morning Health Check, automated: a Lambda run daily at 09:00 (the full check,
 * with yesterday's batch and a daily summary) and every few minutes (a light check that is
 * silent while healthy and sends a problem once, again when it changes or as a reminder, and
 * says when it recovered). It publishes a heartbeat; its absence alarms, so a health check that
 * stopped running is itself noticed.
 */
export class HealthCheck extends Construct {
  public readonly handler: AppFunction;
  public readonly morning: scheduler.Schedule;
  public readonly light: scheduler.Schedule;
  public readonly heartbeatAlarm: cloudwatch.Alarm;
  /** The thresholds the Lambda applies, for the ops manifest: `ops health` applies the same. */
  public readonly appliedThresholds: HealthThresholds;

  constructor(scope: Construct, id: string, props: HealthCheckProps) {
    super(scope, id);
    const { service } = props;

    const applied: HealthThresholds = {
      errorRateMax: props.thresholds.errorRateElevated,
      errorRateHigh: props.thresholds.errorRateHigh,
      p95MaxSeconds: props.thresholds.p95Seconds,
      batchSuccessMin: props.thresholds.batchCheckSuccessMin,
      batchLookbackHours: props.thresholds.batchCheckLookbackHours,
      batchMaxRunningMinutes: props.thresholds.batchMaxMinutes,
    };
    this.appliedThresholds = applied;
    this.handler = new AppFunction(this, 'Handler', {
      contract: healthCheckContract,
      description: "Runbook Morning Health Check: services, targets, error rate, P95, yesterday's batch",
      timeout: Duration.seconds(60),
      retryAttempts: 1,
      ...functionLogs(props),
      config: {
        environment: props.envName,
        ecsCluster: service.cluster.clusterName,
        services: service.colours.map((c) => ({ colour: c.colour, serviceName: c.service.serviceName })),
        targetGroups: service.colours.map((c) => ({
          colour: c.colour,
          targetGroupArn: c.targetGroup.targetGroupArn,
          targetGroupFullName: c.targetGroup.targetGroupFullName,
        })),
        loadBalancerFullName: service.loadBalancer.loadBalancerFullName,
        opsTableName: props.opsTable.tableName,
        topicArns: props.alerts.topicArns,
        ...applied,
        lightRenotifyMinutes: props.lightRenotifyMinutes,
      },
    });
    this.handler.grantCalls(HEALTH_CHECK_CALLS, {
      services: { resources: service.colours.map((c) => c.service.serviceArn) },
      metricsAndTargets: { resources: ['*'] },
      batchRuns: { resources: [props.opsTable.tableArn] },
      lightAlert: { resources: [props.opsTable.tableArn] },
      alerts: props.alerts.publishGrant(),
    });
    Validations.of(this.handler.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'elasticloadbalancing:DescribeTargetHealth, cloudwatch:GetMetricData and X-Ray tracing have no ' +
        'resource-level permissions; the rest is scoped to the two services, the ops table and the topics.',
    });

    const target = (check: 'morning' | 'light') =>
      this.handler.schedulerTarget({ check }, { retryAttempts: 0, maxEventAge: Duration.minutes(5) });
    this.morning = new scheduler.Schedule(this, 'Morning', {
      description: 'Runbook Morning Health Check (daily 9 AM)',
      schedule: scheduler.ScheduleExpression.expression(morningCheckCron(props.morningHour), props.timeZone),
      target: target('morning'),
    });
    this.light = new scheduler.Schedule(this, 'Light', {
      description: `Light health check every ${props.lightEveryMinutes} minutes`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(props.lightEveryMinutes)),
      target: target('light'),
    });

    const heartbeatPeriod = Duration.minutes(15);
    this.heartbeatAlarm = props.alarms.metricAlarm(this, 'health-check-heartbeat', {
      constructId: 'HeartbeatAlarm',
      figures: { minutes: heartbeatPeriod.toMinutes() },
      metric: new cloudwatch.Metric({
        namespace: AUTOMATION_METRICS_NAMESPACE,
        metricName: 'Heartbeat',
        dimensionsMap: { service: 'health-check', Environment: props.envName, Kind: 'light' },
        statistic: 'SampleCount',
        period: heartbeatPeriod,
      }),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      missing: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}
