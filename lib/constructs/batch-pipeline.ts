import { Duration, type RemovalPolicy, Stack, type TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { declareCalls } from '../../core/calls';
import { BATCH_RUN_PK } from '../../core/ops-table/keys';
import type { AlarmFactory } from './alarm-factory';
import type { AlertTopics } from './alert-topics';
import { APP_METRICS_NAMESPACE } from './app-metrics';
import { grantDeclaredCalls, STATE_MACHINE_LOG_DELIVERY_ACTIONS, TRACING_ACTIONS } from './calls';
import { acknowledgeApplicationTask, addLoggedFargateTask, type TaskCpuArchitecture } from './fargate-task';
import { nagArn } from './nag';

/** What the batch application calls in AWS: its run record, and the application metrics. */
export const BATCH_TASK_CALLS = declareCalls({
  runRecord: { actions: ['dynamodb:UpdateItem'], partitions: [BATCH_RUN_PK] },
  metrics: { actions: ['cloudwatch:PutMetricData'] },
});

/** What the batch state machine's tasks call (RunTask.sync as AWS documents it for Step Functions). */
export const BATCH_STATE_MACHINE_CALLS = declareCalls({
  runRecords: { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], partitions: [BATCH_RUN_PK] },
  taskDefinition: { actions: ['ecs:RunTask'] },
  taskTags: { actions: ['ecs:TagResource'] },
  runningTasks: { actions: ['ecs:StopTask', 'ecs:DescribeTasks'] },
  taskRoles: { actions: ['iam:PassRole'] },
  // The managed rule through which Step Functions learns that the task stopped (.sync).
  taskEventsRule: { actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'] },
  notifications: { actions: ['sns:Publish'] },
  logDelivery: { actions: STATE_MACHINE_LOG_DELIVERY_ACTIONS },
  tracing: { actions: TRACING_ACTIONS },
});

/** Properties of {@link BatchPipeline}. */
export interface BatchPipelineProps {
  readonly cluster: ecs.ICluster;
  readonly repository: ecr.IRepository;
  readonly imageTag: string;
  readonly command: readonly string[];
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly cpuArchitecture: TaskCpuArchitecture;
  /** Physical names: task family, log group, state machine, schedule. */
  readonly names: {
    readonly family: string;
    readonly logGroup: string;
    readonly stateMachine: string;
    readonly schedule: string;
  };
  /** Plain container environment (settings and endpoints). */
  readonly environment: Readonly<Record<string, string>>;
  /** Container secrets (credentials, API keys). */
  readonly secrets: Readonly<Record<string, ecs.Secret>>;
  /** Lets the task execution role decrypt the secrets. */
  readonly grantSecretsDecrypt: (role: iam.IRole) => void;
  /** The ops table that records runs (pk BATCH_RUN). */
  readonly opsTable: dynamodb.ITable;
  /** Failed and timed-out runs are reported to P2. */
  readonly alerts: AlertTopics;
  /** EventBridge Scheduler cron, e.g. cron(0 2 ? * SUN *). */
  readonly scheduleCron: string;
  readonly timeZone: TimeZone;
  /** ENABLED or DISABLED, resolved at deploy time from the live SSM parameter. */
  readonly scheduleState: string;
  readonly timeout: Duration;
  /** Retries of a failed run (a timed-out run is not retried). */
  readonly retries: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Builds the failed and timed-out alarms (batch-failed, batch-timed-out) from the catalogue. */
  readonly alarms: AlarmFactory;
}

const RETRY_INTERVAL = Duration.minutes(5);
const RETRY_BACKOFF_RATE = 2;
/** Time to record the outcome, notify P2 and stop the task after the last attempt. */
const RECORD_MARGIN = Duration.minutes(15);

/**
 * The execution's own limit. The batch's time limit (the runbook's 4 hours) is per attempt:
 * the task state's timeout stops the ECS task, and the Catch records TIMED_OUT and notifies
 * P2. Step Functions' execution timeout ends a run without running any state, so it must
 * never fire first: it covers every attempt at its full limit, every backoff between them,
 * and the margin to record and notify. It is only a backstop (ExecutionsTimedOut alarms).
 * With the defaults (240 min, 1 retry): 240 + 5 + 240 + 15 = 500 minutes.
 */
export function executionTimeout(attemptTimeout: Duration, retries: number): Duration {
  let minutes = attemptTimeout.toMinutes() * (retries + 1) + RECORD_MARGIN.toMinutes();
  for (let retry = 0; retry < retries; retry++) {
    minutes += RETRY_INTERVAL.toMinutes() * RETRY_BACKOFF_RATE ** retry;
  }
  return Duration.minutes(minutes);
}

/**
 * The runbook's weekly batch: a Fargate task with the service's image, run by a Step
 * Functions state machine that records each run, stops a run past the timeout (4 hours)
 * and alarms on failures and timeouts, started by an EventBridge Scheduler schedule whose
 * state (ENABLED/DISABLED) belongs to the kill switch, not to the template.
 */
export class BatchPipeline extends Construct {
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly logGroup: logs.LogGroup;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine's role: granted exactly BATCH_STATE_MACHINE_CALLS. */
  public readonly stateMachineRole: iam.Role;
  public readonly schedule: scheduler.Schedule;
  public readonly scheduleRole: iam.Role;
  public readonly failedAlarm: cloudwatch.Alarm;
  public readonly timedOutAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchPipelineProps) {
    super(scope, id);
    const { opsTable } = props;

    ({ logGroup: this.logGroup, taskDefinition: this.taskDefinition } = addLoggedFargateTask(this, props));
    this.container = this.taskDefinition.addContainer('Batch', {
      containerName: 'batch',
      image: ecs.ContainerImage.fromEcrRepository(props.repository, props.imageTag),
      command: [...props.command],
      essential: true,
      environment: { ...props.environment, OPS_TABLE_NAME: opsTable.tableName },
      secrets: { ...props.secrets },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'batch' }),
    });
    const executionRole = this.taskDefinition.obtainExecutionRole();
    props.grantSecretsDecrypt(executionRole);

    // The task may report its own progress on its run record, and publish app metrics.
    grantDeclaredCalls(this.taskDefinition.taskRole, 'task batch (application)', BATCH_TASK_CALLS, {
      runRecord: { resources: [opsTable.tableArn] },
      metrics: {
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': APP_METRICS_NAMESPACE } },
        requestContext: { 'cloudwatch:namespace': APP_METRICS_NAMESPACE },
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'FA AI System batch tasks',
      // The batch calls the Anthropic and OpenAI APIs on the internet.
      allowAllOutbound: true,
    });

    this.stateMachineRole = new iam.Role(this, 'StateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Step Functions: the weekly batch (record, run the task, record the outcome, notify)',
    });
    this.stateMachine = this.buildStateMachine(props);
    this.grantStateMachineCalls(props);

    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: start the weekly batch state machine',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: props.names.schedule,
      description: 'Runbook weekly batch (Sunday 00:00 by default); disabled by the budget kill switch',
      schedule: scheduler.ScheduleExpression.expression(props.scheduleCron, props.timeZone),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        role: this.scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        retryAttempts: 3,
      }),
    });
    // The state comes from the live SSM parameter (see SeededParameter), never from config.
    (this.schedule.node.defaultChild as scheduler.CfnSchedule).state = props.scheduleState;

    const atLeastOnce = {
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    this.failedAlarm = props.alarms.metricAlarm(this, 'batch-failed', {
      constructId: 'FailedAlarm',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      ...atLeastOnce,
    });
    this.timedOutAlarm = props.alarms.metricAlarm(this, 'batch-timed-out', {
      constructId: 'TimedOutAlarm',
      metric: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
      figures: { hours: props.timeout.toHours() },
      ...atLeastOnce,
    });

    this.acknowledgeFindings(props.cluster);
  }

  private buildStateMachine(props: BatchPipelineProps): sfn.StateMachine {
    const { opsTable } = props;
    const runKey = {
      pk: tasks.DynamoAttributeValue.fromString('BATCH_RUN'),
      sk: tasks.DynamoAttributeValue.fromString(
        sfn.JsonPath.format(
          '{}#{}',
          sfn.JsonPath.stringAt('$$.Execution.StartTime'),
          sfn.JsonPath.executionName,
        ),
      ),
    };
    const finish = (stateId: string, status: string) =>
      new tasks.DynamoUpdateItem(this, stateId, {
        table: opsTable,
        key: runKey,
        updateExpression: 'SET #status = :status, endedAt = :endedAt',
        expressionAttributeNames: { '#status': 'status' },
        expressionAttributeValues: {
          ':status': tasks.DynamoAttributeValue.fromString(status),
          ':endedAt': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
        },
        resultPath: sfn.JsonPath.DISCARD,
      });
    const notify = (stateId: string, subject: string) =>
      new tasks.SnsPublish(this, stateId, {
        topic: props.alerts.topics.P2,
        subject,
        message: sfn.TaskInput.fromObject({
          execution: sfn.JsonPath.executionId,
          startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
          error: sfn.JsonPath.stringAt('$.error.Error'),
          cause: sfn.JsonPath.stringAt('$.error.Cause'),
          runbook: 'Weekly Batch Processing / Batch Processing Taking Too Long',
        }),
        resultPath: sfn.JsonPath.DISCARD,
      });

    const recordStart = new tasks.DynamoPutItem(this, 'RecordStart', {
      table: opsTable,
      item: {
        ...runKey,
        status: tasks.DynamoAttributeValue.fromString('RUNNING'),
        startedAt: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.StartTime')),
        executionArn: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.executionId),
        trigger: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.trigger')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });

    const runBatch = new tasks.EcsRunTask(this, 'RunBatch', {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      propagatedTagSource: ecs.PropagatedTagSource.TASK_DEFINITION,
      containerOverrides: [
        {
          containerDefinition: this.container,
          environment: [
            { name: 'BATCH_RUN_ID', value: sfn.JsonPath.executionName },
            {
              name: 'BATCH_RUN_SK',
              value: sfn.JsonPath.format(
                '{}#{}',
                sfn.JsonPath.stringAt('$$.Execution.StartTime'),
                sfn.JsonPath.executionName,
              ),
            },
          ],
        },
      ],
      // Past this, Step Functions fails the state and stops the ECS task it started.
      taskTimeout: sfn.Timeout.duration(props.timeout),
      resultPath: '$.task',
    });
    if (props.retries > 0) {
      runBatch.addRetry({
        errors: ['States.TaskFailed'],
        maxAttempts: props.retries,
        interval: RETRY_INTERVAL,
        backoffRate: RETRY_BACKOFF_RATE,
      });
    }

    const timedOut = finish('RecordTimedOut', 'TIMED_OUT')
      .next(notify('NotifyTimedOut', 'FA AI batch stopped: past its time limit'))
      .next(
        new sfn.Fail(this, 'TimedOut', {
          error: 'BatchTimedOut',
          cause: 'The batch ran past its time limit',
        }),
      );
    const failed = finish('RecordFailed', 'FAILED')
      .next(notify('NotifyFailed', 'FA AI batch failed'))
      .next(new sfn.Fail(this, 'Failed', { error: 'BatchFailed', cause: 'The batch task failed' }));
    runBatch.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: '$.error' });
    runBatch.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });

    const definition = recordStart.next(runBatch).next(finish('RecordSucceeded', 'SUCCEEDED'));

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    return new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.names.stateMachine,
      // Imported as immutable, so the tasks' generated grants are dropped: the role has exactly
      // what grantStateMachineCalls declares (CDK's pinned one task-definition revision, missed
      // ecs:TagResource for PropagateTags and left StopTask/DescribeTasks without a cluster).
      role: iam.Role.fromRoleArn(this, 'StateMachineRoleRef', this.stateMachineRole.roleArn, {
        mutable: false,
      }),
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: executionTimeout(props.timeout, props.retries),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }

  private grantStateMachineCalls(props: BatchPipelineProps): void {
    const stack = Stack.of(this);
    const cluster = props.cluster;
    const tasksOfCluster = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${cluster.clusterName}/*`,
    });
    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
    grantDeclaredCalls(this.stateMachineRole, 'state machine weekly batch', BATCH_STATE_MACHINE_CALLS, {
      runRecords: { resources: [props.opsTable.tableArn] },
      taskDefinition: {
        // Every revision of the family: a new revision must not need a new grant to run.
        resources: [
          stack.formatArn({
            service: 'ecs',
            resource: 'task-definition',
            resourceName: `${this.taskDefinition.family}:*`,
          }),
        ],
        conditions: inCluster,
        requestContext: { 'ecs:cluster': cluster.clusterArn },
      },
      // RunTask with PropagateTags tags the task it creates, which ECS authorizes as TagResource.
      taskTags: {
        resources: [tasksOfCluster],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
        requestContext: { 'ecs:CreateAction': 'RunTask' },
      },
      runningTasks: {
        resources: [tasksOfCluster],
        conditions: inCluster,
        requestContext: { 'ecs:cluster': cluster.clusterArn },
      },
      taskRoles: {
        resources: [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        requestContext: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
      taskEventsRule: {
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForECSTaskRule',
          }),
        ],
      },
      notifications: props.alerts.publishGrant(['P2']),
      logDelivery: { resources: ['*'] },
      tracing: { resources: ['*'] },
    });
  }

  private acknowledgeFindings(cluster: ecs.ICluster): void {
    acknowledgeApplicationTask(this.taskDefinition, 'the batch log group');
    Validations.of(this.stateMachineRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery and X-Ray tracing of Step Functions have no resource-level permissions.',
    });
    Validations.of(this.stateMachineRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'ecs', `task-definition/${this.taskDefinition.family}:*`)}]`,
      reason:
        'RunTask on every revision of the batch task family, in this cluster only (ecs:cluster condition).',
    });
    Validations.of(this.stateMachineRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'ecs', 'task/', { element: cluster, attribute: '' }, '/*')}]`,
      reason:
        'StopTask, DescribeTasks and TagResource on the tasks the batch starts (ids unknown in advance), in this ' +
        'cluster only.',
    });
    Validations.of(this.taskDefinition.taskRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData has no resource-level permissions; it is limited by condition to the ' +
        "application's metric namespace.",
    });
  }
}
