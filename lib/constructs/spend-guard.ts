import { type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { type SpendGuardValues, spendGuardContract } from '../../core/contracts/spend-guard';
import { SPEND_BUDGETS, type SpendBudgetId } from '../../core/spend/budgets';
import {
  AUTOMATION_NAMESPACE,
  LLM_COMPONENTS,
  LLM_COST_READ_STATISTICS,
  llmCostSeries,
  QUERY_COUNT_METRIC,
  SPEND_GUARD_METRICS,
  spendGuardDimensions,
} from '../../core/spend/metric';
import { SPEND_GUARD_CALLS } from '../../lambdas/spend-guard/calls';
import type { BudgetsConfig, SpendGuardConfig } from '../config';
import { GET_METRIC_DATA_METRICS_METADATA } from '../naming';
import type { AlarmFactory } from './alarm-factory';
import type { AlertTopics } from './alert-topics';
import { type AppFunction, type FunctionLogProps, functionLogs } from './app-function';
import type { Automation } from './automation';
import type { BatchPipeline } from './batch-pipeline';
import { acknowledgeKillSwitchGrants, killSwitchGrants } from './kill-switch-grants';

/** Properties of {@link SpendGuard}. */
export interface SpendGuardProps extends FunctionLogProps {
  readonly envName: string;
  readonly config: SpendGuardConfig;
  /** The budgets' limits and kill threshold (the Budgets path's own). */
  readonly budgets: BudgetsConfig;
  /** The AWS budget holding each budget's AWS spend (BudgetGuard.budgetNames). */
  readonly budgetNames: Readonly<Record<SpendBudgetId, string>>;
  /** Email (P3), chat (P2) and page (P1, also the kill switch's reports). */
  readonly alerts: AlertTopics;
  readonly batch: BatchPipeline;
  readonly cluster: ecs.ICluster;
  /** SSM parameter the schedule's state is read from at deploy time. */
  readonly scheduleStateParameterName: string;
  readonly opsTable: dynamodb.ITable;
  /** The kill switch's pause, repeat guard and verification, as the budget guard's. */
  readonly automation: Automation;
  /** Builds its heartbeat and cost-tracking alarms from the catalogue (its errors and DLQ: Observability.watch). */
  readonly alarms: AlarmFactory;
}

/**
 * The spend guard: every `scheduleMinutes` a Lambda reads month-to-date spend per budget (LLM
 * spend from the application's LlmCostUsd metric, AWS spend from AWS Budgets), takes the runbook's
 * action once per threshold per budget per month (50% email, 75% chat, 90% page, the kill
 * threshold disables the batch through the Budgets path's kill switch), warns when the month-end
 * projection passes 100%, pages when spend cannot be read, and publishes a heartbeat and whether
 * LLM cost data stopped while queries or a batch run went on. Its alarms are the lead's
 * catalogue's (core/spend/metric.ts names the metrics).
 */
export class SpendGuard extends Construct {
  public readonly handler: AppFunction;
  public readonly schedule: scheduler.Schedule;
  /** What the function is configured with (its environment is `serialize` of this). */
  public readonly settings: SpendGuardValues;
  /** CloudWatch metrics one run requests (GetMetricData bills per metric). */
  public readonly metricsPerRun: number;
  /** spend-guard-heartbeat: no run finished in two schedule periods. */
  public readonly heartbeatAlarm: cloudwatch.Alarm;
  /** cost-tracking-not-publishing: a run found LLM cost data silent while a component worked. */
  public readonly costTrackingAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SpendGuardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config, batch } = props;
    const topics = props.alerts.topics;

    this.settings = {
      environment: props.envName,
      accountId: stack.account,
      opsTableName: props.opsTable.tableName,
      topics: { email: topics.P3.topicArn, chat: topics.P2.topicArn, page: topics.P1.topicArn },
      batch: {
        scheduleName: batch.schedule.scheduleName,
        scheduleGroup: 'default',
        scheduleStateParameter: props.scheduleStateParameterName,
        stateMachineArn: batch.stateMachine.stateMachineArn,
        ecsCluster: props.cluster.clusterName,
        taskFamily: batch.taskDefinition.family,
      },
      budgets: SPEND_BUDGETS.map((budget) => ({
        id: budget,
        limitUsd: budget === 'total' ? props.budgets.monthlyUsd : props.budgets.componentsUsd[budget],
        awsBudgetName: props.budgetNames[budget],
      })),
      killSwitchPercent: props.budgets.killSwitchPercent,
      automation: props.automation.settings,
      killSwitchBudgets: config.killSwitchBudgets,
      forecastMinDays: config.forecastMinDays,
      maxCallCostUsd: config.maxCallCostUsd,
      awsSettleHours: config.awsSettleHours,
      lateDataMinutes: config.lateDataMinutes,
      unknownRenotifyMinutes: config.unknownRenotifyMinutes,
      silenceWindowMinutes: config.silenceWindowMinutes,
    };
    this.handler = props.automation.actingFunction(this, 'Handler', {
      contract: spendGuardContract,
      description:
        'Spend guard: month-to-date LLM and AWS spend per budget, the runbook actions at 50/75/90/100%',
      // Four rounds of calls, the kill switch's three among them, with explicit retries.
      timeout: Duration.minutes(2),
      ...functionLogs(props),
      config: this.settings,
    });

    // The month-to-date reading (every allowed series, four statistics) and the silence check.
    const series = llmCostSeries(props.envName).length;
    this.metricsPerRun = series * LLM_COST_READ_STATISTICS.length + series + QUERY_COUNT_METRIC.tiers.length;
    (this.handler.lambda.node.defaultChild as CfnResource).addMetadata(
      GET_METRIC_DATA_METRICS_METADATA,
      this.metricsPerRun,
    );

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Spend guard every ${config.scheduleMinutes} minutes`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(config.scheduleMinutes)),
      // The next run comes soon: a delivery that failed is not worth retrying late.
      target: this.handler.schedulerTarget(
        {
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          executionId: scheduler.ContextAttribute.executionId,
        },
        { retryAttempts: 0, maxEventAge: Duration.minutes(config.scheduleMinutes) },
      ),
    });

    this.heartbeatAlarm = this.buildHeartbeatAlarm(props);
    this.costTrackingAlarm = this.buildCostTrackingAlarm(props);

    this.handler.grantCalls(SPEND_GUARD_CALLS, {
      ...killSwitchGrants(this, props),
      metrics: { resources: ['*'] },
      budgets: {
        resources: SPEND_BUDGETS.map(
          (budget) => `arn:${stack.partition}:budgets::${stack.account}:budget/${props.budgetNames[budget]}`,
        ),
      },
      spendTable: { resources: [props.opsTable.tableArn] },
      batchRuns: { resources: [props.opsTable.tableArn] },
      alerts: props.alerts.publishGrant(['P1', 'P2', 'P3']),
    });
    acknowledgeKillSwitchGrants(
      this,
      this.handler.role,
      props,
      'cloudwatch:GetMetricData has no resource-level permissions, ecs:ListTasks has none (limited by the ' +
        'ecs:cluster condition to this cluster), and X-Ray tracing needs xray:Put* on *.',
    );
  }

  /**
   * Two schedule periods without a finished run: one late or failed run (retried within the
   * next) does not page, a guard that stopped does. Missing data is the point: breaching.
   */
  private buildHeartbeatAlarm(props: SpendGuardProps): cloudwatch.Alarm {
    const period = Duration.minutes(2 * props.config.scheduleMinutes);
    return props.alarms.metricAlarm(this, 'spend-guard-heartbeat', {
      figures: { minutes: period.toMinutes() },
      metric: new cloudwatch.Metric({
        namespace: AUTOMATION_NAMESPACE,
        metricName: SPEND_GUARD_METRICS.heartbeat,
        dimensionsMap: spendGuardDimensions(props.envName),
        statistic: 'SampleCount',
        period,
      }),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      missing: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /**
   * The runbook's "cost tracking not publishing to CloudWatch": the larger of the components'
   * LlmCostSilent, which the guard sets to 1 only when there was activity (queries counted, a
   * batch run RUNNING) and no LlmCostUsd call in its silence window. The activity is judged
   * there, not here, because a running batch is an ops-table record, not a metric; and one
   * alarm reading two metrics costs less than one reading the 3 query tiers and 6 cost series.
   * No datapoint (the guard could not tell, or is dead: its heartbeat pages) is not breaching.
   */
  private buildCostTrackingAlarm(props: SpendGuardProps): cloudwatch.Alarm {
    const period = Duration.minutes(props.config.scheduleMinutes);
    const usingMetrics = Object.fromEntries(
      LLM_COMPONENTS.map((component) => [
        component,
        new cloudwatch.Metric({
          namespace: AUTOMATION_NAMESPACE,
          metricName: SPEND_GUARD_METRICS.llmCostSilent,
          dimensionsMap: spendGuardDimensions(props.envName, { Component: component }),
          statistic: 'Maximum',
          period,
        }),
      ]),
    );
    return props.alarms.metricAlarm(this, 'cost-tracking-not-publishing', {
      figures: { minutes: props.config.silenceWindowMinutes },
      metric: new cloudwatch.MathExpression({
        expression: `MAX([${LLM_COMPONENTS.join(', ')}])`,
        usingMetrics,
        period,
        label: 'LLM cost data silent while working (1 = yes)',
      }),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }
}
