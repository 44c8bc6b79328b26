import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUTOMATION_ACTING_CALLS, AUTOMATION_RECORDING_CALLS } from '../../core/automation/calls';
import { type AutomationSettings, automationVerifyContract } from '../../core/contracts/automation';
import {
  AUTOMATION_VERIFY_CALLS,
  AUTOMATION_VERIFY_SCHEDULER_CALLS,
} from '../../lambdas/automation-verify/calls';
import type { AutomationConfig } from '../config';
import type { AlertTopics } from './alert-topics';
import { AppFunction, type AppFunctionProps, type FunctionLogProps, functionLogs } from './app-function';
import { ssmParameterArn } from './arns';
import type { BatchPipeline } from './batch-pipeline';
import type { BlueGreenService } from './blue-green-service';
import { grantDeclaredCalls } from './calls';
import { nagArn } from './nag';

/** Properties of {@link Automation}. */
export interface AutomationProps extends FunctionLogProps {
  readonly envName: string;
  /** e.g. fa-ai-system-prod: names the schedule group and scopes the alarms read. */
  readonly namePrefix: string;
  readonly config: AutomationConfig;
  readonly service: BlueGreenService;
  readonly weightsParameterName: string;
  /** The kill switch's effect is read from its schedule and state machine. */
  readonly batch: BatchPipeline;
  readonly opsTable: dynamodb.ITable;
  readonly alerts: AlertTopics;
}

/** Properties of {@link Automation.actingFunction}: an AppFunction's, less what every acting Lambda shares. */
export type ActingFunctionProps<Values, Input> = Omit<
  AppFunctionProps<Values, Input>,
  'retryAttempts' | 'deadLetterQueue' | 'reservedConcurrentExecutions'
>;

/**
 * The automation that checks its own work (core/automation/): the verifier Lambda, the
 * schedule group its one-time verification schedules live in, and the role those schedules
 * invoke it with. Every acting Lambda gets the AUTOMATION variable ({@link environment}) and
 * the calls of the pause, the repeat guard and the scheduling ({@link grantActing}).
 */
export class Automation extends Construct {
  public readonly verifier: AppFunction;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role the verification schedules pass: it may invoke only the verifier. */
  public readonly schedulerRole: iam.Role;
  private readonly props: AutomationProps;

  constructor(scope: Construct, id: string, props: AutomationProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    const { service, batch, opsTable, alerts } = props;

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'VerifyGroup', {
      scheduleGroupName: `${props.namePrefix}-verify`,
    });
    this.verifier = new AppFunction(this, 'Verifier', {
      contract: automationVerifyContract,
      description: "Reads an automated action's effect back and escalates one severity up when it is missing",
      timeout: Duration.seconds(60),
      deadLetterQueue: true,
      ...functionLogs(props),
      // Its own settings: the topics and the ops table (the verifier fields would point at itself).
      config: { automation: this.settingsOf(false) },
    });
    this.deadLetterQueue = this.verifier.deadLetterQueue as sqs.IQueue;
    const fn = this.verifier.lambda;

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `EventBridge Scheduler: deliver the verifications of ${props.envName}'s automated actions`,
    });
    grantDeclaredCalls(this.schedulerRole, 'verification schedules', AUTOMATION_VERIFY_SCHEDULER_CALLS, {
      verifier: { resources: [fn.functionArn] },
      deadLetterQueue: { resources: [this.deadLetterQueue.queueArn] },
    });

    this.verifier.grantCalls(AUTOMATION_VERIFY_CALLS, {
      alarms: {
        resources: [
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: `${props.namePrefix}-*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      },
      services: { resources: service.colours.map((c) => c.service.serviceArn) },
      listeners: { resources: ['*'] },
      weightsParameter: {
        resources: [ssmParameterArn(stack, props.weightsParameterName)],
      },
      batchSchedule: { resources: [batch.schedule.scheduleArn] },
      batchStateMachine: { resources: [batch.stateMachine.stateMachineArn] },
      records: { resources: [opsTable.tableArn] },
      audit: { resources: [opsTable.tableArn] },
      escalations: alerts.publishGrant(),
    });
    const role = this.verifier.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'DescribeListeners and X-Ray have no resource-level permissions; the alarm grant is the environment prefix.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'cloudwatch', `alarm:${props.namePrefix}-*`)}]`,
      reason: "The alarm that called for an action is read back: any alarm of this environment's prefix.",
    });
  }

  /** The AUTOMATION variable's value of an acting Lambda (its contract's `automation` field). */
  get settings(): AutomationSettings {
    return this.settingsOf(true);
  }

  /**
   * A Lambda that acts on its own (remediation, the automatic rollback, the kill switches), with
   * the calls of the pause, repeat guard and verification ({@link grantActing}). Its events are
   * worth two retries, then its dead-letter queue; it runs one invocation at a time, since two
   * deliveries at once (an alarm storm, a repeated event, two scheduled runs) would each pass the
   * claims and records that keep an action to one.
   */
  actingFunction<Values, Input>(
    scope: Construct,
    id: string,
    props: ActingFunctionProps<Values, Input>,
  ): AppFunction<Values, Input> {
    const fn = new AppFunction(scope, id, {
      ...props,
      retryAttempts: 2,
      deadLetterQueue: true,
      reservedConcurrentExecutions: 1,
    });
    this.grantActing(fn);
    return fn;
  }

  /**
   * Grants `fn` (an acting Lambda) the calls of the pause, repeat guard, record and schedule;
   * with `recordOnly`, only the record and schedule (the shift's own rollback).
   */
  grantActing(fn: AppFunction, options: { readonly recordOnly?: boolean } = {}): void {
    const { role, caller } = fn;
    const stack = Stack.of(this);
    const { opsTable, alerts } = this.props;
    const recording = {
      automationRecords: { resources: [opsTable.tableArn] },
      automationVerifySchedules: {
        resources: [
          stack.formatArn({
            service: 'scheduler',
            resource: 'schedule',
            resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
          }),
        ],
      },
      automationVerifySchedulerRole: {
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        requestContext: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      },
    };
    if (options.recordOnly) grantDeclaredCalls(role, caller, AUTOMATION_RECORDING_CALLS, recording);
    else
      grantDeclaredCalls(role, caller, AUTOMATION_ACTING_CALLS, {
        ...recording,
        automationPause: { resources: [opsTable.tableArn] },
        automationRepeats: { resources: [opsTable.tableArn] },
        automationAudit: { resources: [opsTable.tableArn] },
        automationTopics: alerts.publishGrant(),
      });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'scheduler', `schedule/${this.props.namePrefix}-verify/*`)}]`,
      reason:
        'Each action creates its own one-time verification schedule, named when it acts, in this group only.',
    });
  }

  private settingsOf(acting: boolean): AutomationSettings {
    const { config, opsTable, alerts, envName } = this.props;
    return {
      environment: envName,
      opsTableName: opsTable.tableName,
      repeat: config.repeat,
      verifyAfterMinutes: config.verifyAfterMinutes,
      topics: alerts.topicArns,
      // The verifier schedules nothing (and must not name itself).
      verifier: acting
        ? {
            functionArn: this.verifier.lambda.functionArn,
            roleArn: this.schedulerRole.roleArn,
            scheduleGroup: this.scheduleGroup.scheduleGroupName,
            deadLetterQueueArn: this.deadLetterQueue.queueArn,
          }
        : undefined,
    };
  }
}
