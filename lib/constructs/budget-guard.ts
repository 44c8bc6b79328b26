import { ArnFormat, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUDGET_GUARD_CALLS } from '../../lambdas/budget-guard/calls';
import type { BudgetsConfig } from '../config';
import { type AlertTopics, allowBudgetsToPublish } from './alert-topics';
import { AppFunction } from './app-function';
import type { Automation } from './automation';
import type { BatchPipeline } from './batch-pipeline';
import { grantDeclaredCalls } from './calls';
import { nagArn } from './nag';

/** Properties of {@link BudgetGuard}. */
export interface BudgetGuardProps {
  readonly config: BudgetsConfig;
  /** Prefix of budget names, e.g. fa-ai-system-prod. */
  readonly namePrefix: string;
  readonly envName: string;
  /** Addresses the 50% warning is emailed to. */
  readonly emails: readonly string[];
  /** Severity topics: P2 (chat) at 75% and the forecast, P1 (page) at 90%; their key. */
  readonly alerts: AlertTopics;
  readonly batch: BatchPipeline;
  readonly cluster: ecs.ICluster;
  /** SSM parameter the schedule's state is read from at deploy time. */
  readonly scheduleStateParameterName: string;
  readonly opsTable: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** The pause, repeat guard and verification of the kill switch. */
  readonly automation: Automation;
}

/**
 * The runbook's budget alerts and kill switch: a monthly budget with ACTUAL notifications at
 * 50% (email), 75% (chat), 90% (page) and 100% (the kill switch), a FORECASTED 100% warning,
 * and component budgets by the Component tag. At 100% the budget-guard Lambda disables the
 * batch schedule, stops running batch work, audits and tells humans.
 */
export class BudgetGuard extends Construct {
  public readonly monthlyBudget: budgets.CfnBudget;
  public readonly componentBudgets: Readonly<
    Record<'batch' | 'interactive' | 'infrastructure', budgets.CfnBudget>
  >;
  public readonly killSwitchTopic: sns.Topic;
  public readonly handler: AppFunction;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BudgetGuardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    const monthlyName = `${props.namePrefix}-monthly`;

    this.killSwitchTopic = new sns.Topic(this, 'KillSwitchTopic', {
      topicName: `${props.namePrefix}-budget-kill-switch`,
      displayName: 'FA AI budget kill switch',
      masterKey: props.alerts.key,
      enforceSSL: true,
    });
    allowBudgetsToPublish(this.killSwitchTopic);

    const actual = (percent: number, subscribers: budgets.CfnBudget.SubscriberProperty[]) => ({
      notification: {
        notificationType: 'ACTUAL',
        comparisonOperator: 'GREATER_THAN',
        threshold: percent,
        thresholdType: 'PERCENTAGE',
      },
      subscribers,
    });
    const topic = (t: sns.ITopic) => ({ subscriptionType: 'SNS', address: t.topicArn });
    const emails = props.emails.map((address) => ({ subscriptionType: 'EMAIL', address }));

    this.monthlyBudget = new budgets.CfnBudget(this, 'Monthly', {
      budget: {
        budgetName: monthlyName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: config.monthlyUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [
        actual(50, emails),
        actual(75, [topic(props.alerts.topics.P2)]),
        actual(90, [topic(props.alerts.topics.P1)]),
        actual(config.killSwitchPercent, [topic(this.killSwitchTopic)]),
        {
          notification: {
            notificationType: 'FORECASTED',
            comparisonOperator: 'GREATER_THAN',
            threshold: 100,
            thresholdType: 'PERCENTAGE',
          },
          subscribers: [topic(props.alerts.topics.P2)],
        },
      ],
    });

    const component = (componentId: string, tag: string, amount: number) =>
      new budgets.CfnBudget(this, componentId, {
        budget: {
          budgetName: `${props.namePrefix}-${tag}`,
          budgetType: 'COST',
          timeUnit: 'MONTHLY',
          budgetLimit: { amount, unit: 'USD' },
          // Cost-allocation tag filter: user:<key>$<value> (the tag must be activated in Billing).
          costFilters: { TagKeyValue: [`user:Component$${tag}`, `user:Environment$${props.envName}`] },
        },
        notificationsWithSubscribers: [actual(80, emails), actual(100, [topic(props.alerts.topics.P2)])],
      });
    this.componentBudgets = {
      batch: component('BatchBudget', 'batch', config.componentsUsd.batch),
      interactive: component('InteractiveBudget', 'interactive', config.componentsUsd.interactive),
      infrastructure: component(
        'InfrastructureBudget',
        'infrastructure',
        config.componentsUsd.infrastructure,
      ),
    };

    const batch = props.batch;
    const scheduleArn = batch.schedule.scheduleArn;
    this.handler = new AppFunction(this, 'Handler', {
      name: 'budget-guard',
      description: 'Budget kill switch: disables the weekly batch at 100% of the monthly budget',
      // Three rounds of calls with explicit retries (each call capped at ~16 s) fit in this.
      timeout: Duration.minutes(2),
      retryAttempts: 2,
      deadLetterQueue: true,
      // Two deliveries at once must not race past the idempotency record.
      reservedConcurrentExecutions: 1,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        ENVIRONMENT: props.envName,
        OPS_TABLE_NAME: props.opsTable.tableName,
        BATCH_SCHEDULE_NAME: batch.schedule.scheduleName,
        BATCH_SCHEDULE_GROUP: 'default',
        BATCH_SCHEDULE_STATE_PARAMETER: props.scheduleStateParameterName,
        BATCH_STATE_MACHINE_ARN: batch.stateMachine.stateMachineArn,
        ECS_CLUSTER: props.cluster.clusterName,
        BATCH_TASK_FAMILY: batch.taskDefinition.family,
        ALERT_TOPIC_ARN: props.alerts.topics.P1.topicArn,
        KILL_SWITCH_BUDGET_NAME: monthlyName,
        KILL_THRESHOLD_PERCENT: String(config.killSwitchPercent),
        AWS_ACCOUNT_ID: stack.account,
        ...props.automation.environment,
      },
    });
    this.deadLetterQueue = this.handler.deadLetterQueue as sqs.IQueue;
    this.handler.lambda.addEventSource(new lambdaEvents.SnsEventSource(this.killSwitchTopic));
    this.grantKillSwitch(props, scheduleArn);

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmName: `${props.namePrefix}-lambda-budget-guard-dlq`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'P1 the budget kill switch failed on a notification (DLQ not empty): the batch may still be enabled over ' +
        'budget. Runbook: Budget Alerts; run `npm run ops -- batch disable` and read the DLQ message.',
    });
    this.deadLetterAlarm.addAlarmAction(new cwActions.SnsAction(props.alerts.topics.P1));
  }

  private grantKillSwitch(props: BudgetGuardProps, scheduleArn: string): void {
    const stack = Stack.of(this);
    const role = this.handler.lambda.role as iam.IRole;
    const batch = props.batch;
    const cluster = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };
    props.automation.grantActing(role, 'lambda budget-guard');
    grantDeclaredCalls(role, 'lambda budget-guard', BUDGET_GUARD_CALLS, {
      batchSchedule: { resources: [scheduleArn] },
      batchScheduleRole: { resources: [batch.scheduleRole.roleArn] },
      batchStateMachine: { resources: [batch.stateMachine.stateMachineArn] },
      batchExecutions: {
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${batch.stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      },
      // Granted on * with the cluster condition, as ECS documents it: a Fargate ListTasks names no
      // container instance.
      clusterTaskList: {
        resources: ['*'],
        requestResource: stack.formatArn({
          service: 'ecs',
          resource: 'container-instance',
          resourceName: `${props.cluster.clusterName}/sample`,
        }),
        conditions: cluster,
        requestContext: { 'ecs:cluster': props.cluster.clusterArn },
      },
      clusterTasks: {
        resources: [
          stack.formatArn({
            service: 'ecs',
            resource: 'task',
            resourceName: `${props.cluster.clusterName}/*`,
          }),
        ],
        conditions: cluster,
        requestContext: { 'ecs:cluster': props.cluster.clusterArn },
      },
      scheduleStateParameter: {
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: props.scheduleStateParameterName.replace(/^\//, ''),
          }),
        ],
      },
      opsTable: { resources: [props.opsTable.tableArn] },
      alerts: props.alerts.publishGrant(['P1']),
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'states', 'execution:', { element: batch.stateMachine, attribute: 'Name' }, ':*')}]`,
      reason:
        'StopExecution on the executions of the batch state machine only (their names are not known in advance).',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecs:ListTasks has no resource-level permissions (limited by the ecs:cluster condition to this cluster), ' +
        'and X-Ray tracing needs xray:Put* on *.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'ecs', 'task/', { element: props.cluster, attribute: '' }, '/*')}]`,
      reason: 'StopTask on tasks of the service cluster only (task ids are not known in advance).',
    });
  }
}
