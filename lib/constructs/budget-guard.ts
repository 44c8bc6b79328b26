import { Duration, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { budgetGuardContract } from '../../core/contracts/budget-guard';
import type { SpendBudgetId } from '../../core/spend/budgets';
import { BUDGET_GUARD_CALLS } from '../../lambdas/budget-guard/calls';
import type { BudgetsConfig } from '../config';
import type { AlarmFactory } from './alarm-factory';
import { type AlertTopics, allowBudgetsToPublish } from './alert-topics';
import { type AppFunction, type FunctionLogProps, functionLogs } from './app-function';
import type { Automation } from './automation';
import type { BatchPipeline } from './batch-pipeline';
import { acknowledgeKillSwitchGrants, killSwitchGrants } from './kill-switch-grants';

/** Properties of {@link BudgetGuard}. */
export interface BudgetGuardProps extends FunctionLogProps {
  readonly config: BudgetsConfig;
  /** Prefix of budget names, e.g. fa-ai-system-prod. */
  readonly namePrefix: string;
  readonly envName: string;
  /** Addresses the 50% warning is emailed to. */
  readonly emails: readonly string[];
  /** Severity topics: P2 (chat) at 75% and the forecast, P1 (page) at 90%; their key. */
  readonly alerts: AlertTopics;
  /** Builds the dead-letter queue's alarm (lambda-budget-guard-dlq) from the catalogue. */
  readonly alarms: AlarmFactory;
  readonly batch: BatchPipeline;
  readonly cluster: ecs.ICluster;
  /** SSM parameter the schedule's state is read from at deploy time. */
  readonly scheduleStateParameterName: string;
  readonly opsTable: dynamodb.ITable;
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
  /** The AWS budget of each of the runbook's budgets (the monthly one for the total): what the spend guard reads. */
  public readonly budgetNames: Readonly<Record<SpendBudgetId, string>>;
  public readonly killSwitchTopic: sns.Topic;
  public readonly handler: AppFunction;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BudgetGuardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    const monthlyName = `${props.namePrefix}-monthly`;
    this.budgetNames = {
      batch: `${props.namePrefix}-batch`,
      interactive: `${props.namePrefix}-interactive`,
      infrastructure: `${props.namePrefix}-infrastructure`,
      total: monthlyName,
    };

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

    const component = (
      componentId: string,
      tag: 'batch' | 'interactive' | 'infrastructure',
      amount: number,
    ) =>
      new budgets.CfnBudget(this, componentId, {
        budget: {
          budgetName: this.budgetNames[tag],
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
    this.handler = props.automation.actingFunction(this, 'Handler', {
      contract: budgetGuardContract,
      description: 'Budget kill switch: disables the weekly batch at 100% of the monthly budget',
      // Three rounds of calls with explicit retries (each call capped at ~16 s) fit in this.
      timeout: Duration.minutes(2),
      ...functionLogs(props),
      config: {
        environment: props.envName,
        opsTableName: props.opsTable.tableName,
        batchScheduleName: batch.schedule.scheduleName,
        batchScheduleGroup: 'default',
        batchScheduleStateParameter: props.scheduleStateParameterName,
        batchStateMachineArn: batch.stateMachine.stateMachineArn,
        ecsCluster: props.cluster.clusterName,
        batchTaskFamily: batch.taskDefinition.family,
        alertTopicArn: props.alerts.topics.P1.topicArn,
        killSwitchBudgetName: monthlyName,
        killThresholdPercent: config.killSwitchPercent,
        budgetAccountId: stack.account,
        automation: props.automation.settings,
      },
    });
    this.deadLetterQueue = this.handler.deadLetterQueue as sqs.IQueue;
    this.handler.lambda.addEventSource(new lambdaEvents.SnsEventSource(this.killSwitchTopic));
    this.grantKillSwitch(props);

    this.deadLetterAlarm = props.alarms.metricAlarm(this, 'lambda-budget-guard-dlq', {
      constructId: 'DeadLetterAlarm',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }

  private grantKillSwitch(props: BudgetGuardProps): void {
    this.handler.grantCalls(BUDGET_GUARD_CALLS, {
      ...killSwitchGrants(this, props),
      alerts: props.alerts.publishGrant(['P1']),
    });
    acknowledgeKillSwitchGrants(
      this,
      this.handler.role,
      props,
      'ecs:ListTasks has no resource-level permissions (limited by the ecs:cluster condition to this cluster), ' +
        'and X-Ray tracing needs xray:Put* on *.',
    );
  }
}
