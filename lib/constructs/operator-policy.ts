import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OPS_CLI_CALLS } from '../ops/calls';
import type { AlertTopics } from './alert-topics';
import { ssmParameterArn } from './arns';
import type { BatchPipeline } from './batch-pipeline';
import type { BlueGreenService } from './blue-green-service';
import { addDeclaredCallsToPolicy } from './calls';
import { type DbBackupTask, DUMP_PREFIX } from './db-backup';
import { nagArn, nagText } from './nag';
import type { TrafficShifter } from './traffic-shifter';

/** Properties of {@link OperatorPolicy}. */
export interface OperatorPolicyProps {
  /** e.g. fa-ai-system-prod-operator. */
  readonly policyName: string;
  /** The stack whose OpsManifest output the CLI reads. */
  readonly serviceStackName: string;
  readonly service: BlueGreenService;
  readonly trafficShifter: TrafficShifter;
  readonly batch: BatchPipeline;
  readonly weightsParameterName: string;
  readonly scheduleStateParameterName: string;
  /** The AWS budgets `batch enable` reads (the spend guard's, the monthly one among them). */
  readonly budgetNames: readonly string[];
  readonly opsTable: dynamodb.ITable;
  readonly alerts: AlertTopics;
  /** `ops db`: the inspection and maintenance Lambdas. */
  readonly dbFunctions: { readonly inspect: lambda.IFunction; readonly maintenance: lambda.IFunction };
  /** `ops backup snapshot` and `list`: the RDS instance identifier (their snapshots are named after it). */
  readonly databaseInstanceIdentifier: string;
  /** `ops backup dump`: the task, and the bucket it writes to. */
  readonly backupTask: DbBackupTask;
  readonly backupsBucket: s3.IBucket;
  /** The prefix of the environment's alarm names, e.g. fa-ai-system-prod-. */
  readonly alarmPrefix: string;
  /** The database `ops diagnose` describes and `ops backup snapshot` snapshots. */
  readonly databaseInstanceArn: string;
  /** The cache replication group `ops diagnose` describes. */
  readonly cacheReplicationGroupId: string;
}

/**
 * What the people who run the runbook need, and nothing more: a managed policy granting exactly
 * what the ops CLI's commands call (OPS_CLI_CALLS). Attach it to the on-call engineers' role.
 */
export class OperatorPolicy extends Construct {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const parameter = (name: string) => ssmParameterArn(stack, name);
    const executions = (stateMachineName: string) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const cluster = props.service.cluster;
    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
    const rds = (resource: 'db' | 'snapshot', name: string) =>
      stack.formatArn({
        service: 'rds',
        resource,
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const backupTask = props.backupTask.taskDefinition;

    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.policyName,
      description: 'Operators of the FA AI System: what the ops CLI (npm run ops) calls',
    });
    addDeclaredCallsToPolicy(this.policy, 'ops CLI (operator policy)', OPS_CLI_CALLS, {
      serviceStack: {
        resources: [
          stack.formatArn({
            service: 'cloudformation',
            resource: 'stack',
            resourceName: `${props.serviceStackName}/*`,
          }),
        ],
      },
      reads: { resources: ['*'] },
      listener: { resources: [props.service.listener.listenerArn] },
      weightsParameter: { resources: [parameter(props.weightsParameterName)] },
      scheduleStateParameter: { resources: [parameter(props.scheduleStateParameterName)] },
      services: { resources: props.service.colours.map((c) => c.service.serviceArn) },
      shiftStateMachine: { resources: [props.trafficShifter.stateMachine.stateMachineArn] },
      shiftExecutions: { resources: [executions(props.trafficShifter.stateMachine.stateMachineName)] },
      batchStateMachine: { resources: [props.batch.stateMachine.stateMachineArn] },
      batchExecutions: { resources: [executions(props.batch.stateMachine.stateMachineName)] },
      batchSchedule: { resources: [props.batch.schedule.scheduleArn] },
      batchScheduleRole: { resources: [props.batch.scheduleRole.roleArn] },
      clusterTaskList: {
        resources: ['*'],
        requestResource: stack.formatArn({
          service: 'ecs',
          resource: 'container-instance',
          resourceName: `${cluster.clusterName}/sample`,
        }),
        conditions: inCluster,
        requestContext: { 'ecs:cluster': cluster.clusterArn },
      },
      clusterTasks: {
        resources: [
          stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` }),
        ],
        conditions: inCluster,
        requestContext: { 'ecs:cluster': cluster.clusterArn },
      },
      budgets: {
        resources: props.budgetNames.map(
          (name) => `arn:${stack.partition}:budgets::${stack.account}:budget/${name}`,
        ),
      },
      // On *: CloudWatch returns composite alarms (the P0) only to a DescribeAlarms grant on *.
      alarms: {
        resources: ['*'],
        requestResource: stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${props.alarmPrefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
      serviceLogGroups: { resources: props.service.colours.map((c) => c.logGroup.logGroupArn) },
      logQueries: { resources: ['*'] },
      database: { resources: [props.databaseInstanceArn] },
      cache: {
        resources: [
          stack.formatArn({
            service: 'elasticache',
            resource: 'replicationgroup',
            resourceName: props.cacheReplicationGroupId,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      },
      opsTable: { resources: [props.opsTable.tableArn] },
      // The CLI reports batch controls and rollbacks to P1 only.
      alerts: props.alerts.publishGrant(['P1']),
      dbInspectFunction: { resources: [props.dbFunctions.inspect.functionArn] },
      dbMaintenanceFunction: { resources: [props.dbFunctions.maintenance.functionArn] },
      // Manual snapshots are named after the instance (fa-ai-system-db-YYYYMMDD-HHMM), automated
      // ones rds:<instance>-<date>.
      manualSnapshots: { resources: [rds('snapshot', `${props.databaseInstanceIdentifier}-*`)] },
      automatedSnapshots: { resources: [rds('snapshot', `rds:${props.databaseInstanceIdentifier}-*`)] },
      backupTaskDefinition: {
        // Every revision of the family: a new revision must not need a new grant to run.
        resources: [
          stack.formatArn({
            service: 'ecs',
            resource: 'task-definition',
            resourceName: `${backupTask.family}:*`,
          }),
        ],
        conditions: inCluster,
        requestContext: { 'ecs:cluster': cluster.clusterArn },
      },
      // RunTask with propagateTags tags the task it creates, which ECS authorizes as TagResource.
      backupTaskTags: {
        resources: [
          stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` }),
        ],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
        requestContext: { 'ecs:CreateAction': 'RunTask' },
      },
      backupTaskRoles: {
        resources: [backupTask.taskRole.roleArn, backupTask.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        requestContext: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
      backupBucket: {
        resources: [props.backupsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${DUMP_PREFIX}*`] } },
        requestContext: { 's3:prefix': DUMP_PREFIX },
      },
      backupObjects: { resources: [props.backupsBucket.arnForObjects(`${DUMP_PREFIX}*`)] },
    });
    this.acknowledgeFindings(props);
  }

  private acknowledgeFindings(props: OperatorPolicyProps): void {
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(this.policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    acknowledge(
      '*',
      'DescribeListeners, DescribeTargetHealth, GetMetricData and StopQuery have no resource-level permissions; ' +
        'DescribeAlarms returns composite alarms only to a grant on *; ListTasks is limited to the cluster by ' +
        'the ecs:cluster condition.',
    );
    acknowledge(
      nagArn(this, 'cloudformation', `stack/${props.serviceStackName}/*`),
      'DescribeStacks of the service stack (any of its stack ids) to read the OpsManifest output.',
    );
    acknowledge(
      nagArn(this, 'ecs', 'task/', { element: props.service.cluster, attribute: '' }, '/*'),
      'StopTask (batch disable), DescribeTasks (backup dump) and TagResource at RunTask (backup dump) on tasks ' +
        'of the service cluster only; task ids are not known in advance.',
    );
    const instance = props.databaseInstanceIdentifier;
    acknowledge(
      nagArn(this, 'rds', `snapshot:${instance}-*`),
      'backup snapshot creates and backup list reads the manual snapshots of the instance, named after it.',
    );
    acknowledge(
      nagArn(this, 'rds', `snapshot:rds:${instance}-*`),
      "backup list reads the instance's automated snapshots (RDS names them rds:<instance>-<date>).",
    );
    acknowledge(
      nagArn(this, 'ecs', `task-definition/${props.backupTask.taskDefinition.family}:*`),
      'backup dump runs every revision of the dump task family, in the service cluster only (ecs:cluster).',
    );
    acknowledge(
      `arn:aws:s3:::${nagText(this, props.backupsBucket.bucketName)}/${DUMP_PREFIX}*`,
      "backup dump reads the new dump's metadata (HeadObject) under db/ only; the content needs kms:Decrypt, " +
        'which operators are not granted.',
    );
    for (const stateMachine of [props.batch.stateMachine, props.trafficShifter.stateMachine]) {
      acknowledge(
        nagArn(this, 'states', 'execution:', { element: stateMachine, attribute: 'Name' }, ':*'),
        'Executions of this state machine only (their names are not known in advance).',
      );
    }
  }
}
