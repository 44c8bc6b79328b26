import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { OPS_CLI_CALLS } from '../ops/calls';
import type { AlertTopics } from './alert-topics';
import type { BatchPipeline } from './batch-pipeline';
import type { BlueGreenService } from './blue-green-service';
import { addDeclaredCallsToPolicy } from './calls';
import { nagArn } from './nag';
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
  /** The prefix of the environment's alarm names, e.g. fa-ai-system-prod-. */
  readonly alarmPrefix: string;
  /** The database `ops diagnose` describes. */
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
    const parameter = (name: string) =>
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
    const executions = (stateMachineName: string) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const cluster = props.service.cluster;
    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };

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
      'StopTask (batch disable) on tasks of the service cluster only; task ids are not known in advance.',
    );
    for (const stateMachine of [props.batch.stateMachine, props.trafficShifter.stateMachine]) {
      acknowledge(
        nagArn(this, 'states', 'execution:', { element: stateMachine, attribute: 'Name' }, ':*'),
        'Executions of this state machine only (their names are not known in advance).',
      );
    }
  }
}
