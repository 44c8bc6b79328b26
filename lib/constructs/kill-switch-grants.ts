import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { KILL_SWITCH_CALLS } from '../../core/kill-switch/calls';
import { ssmParameterArn } from './arns';
import type { BatchPipeline } from './batch-pipeline';
import type { DeclaredGrants } from './calls';
import { nagArn } from './nag';

/** What the kill switch acts on. */
export interface KillSwitchTargets {
  readonly batch: BatchPipeline;
  readonly cluster: ecs.ICluster;
  /** SSM parameter the schedule's state is read from at deploy time. */
  readonly scheduleStateParameterName: string;
  readonly opsTable: dynamodb.ITable;
}

/**
 * The resources of the kill switch's declared calls (KILL_SWITCH_CALLS), for every role that
 * engages it (the budget guard, the spend guard): one grant, one code path.
 */
export function killSwitchGrants(
  scope: Construct,
  targets: KillSwitchTargets,
): DeclaredGrants<typeof KILL_SWITCH_CALLS> {
  const stack = Stack.of(scope);
  const { batch } = targets;
  const cluster = { ArnEquals: { 'ecs:cluster': targets.cluster.clusterArn } };
  return {
    batchSchedule: { resources: [batch.schedule.scheduleArn] },
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
        resourceName: `${targets.cluster.clusterName}/sample`,
      }),
      conditions: cluster,
      requestContext: { 'ecs:cluster': targets.cluster.clusterArn },
    },
    clusterTasks: {
      resources: [
        stack.formatArn({
          service: 'ecs',
          resource: 'task',
          resourceName: `${targets.cluster.clusterName}/*`,
        }),
      ],
      conditions: cluster,
      requestContext: { 'ecs:cluster': targets.cluster.clusterArn },
    },
    scheduleStateParameter: {
      resources: [ssmParameterArn(stack, targets.scheduleStateParameterName)],
    },
    opsTable: { resources: [targets.opsTable.tableArn] },
  };
}

/**
 * The cdk-nag acknowledgements of a role granted {@link killSwitchGrants}. `wildcardReason` is the
 * role's whole reason for `Resource::*` (one finding per role), the kill switch's ListTasks in it.
 */
export function acknowledgeKillSwitchGrants(
  scope: Construct,
  role: iam.IRole,
  targets: KillSwitchTargets,
  wildcardReason: string,
): void {
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(scope, 'states', 'execution:', { element: targets.batch.stateMachine, attribute: 'Name' }, ':*')}]`,
    reason:
      'StopExecution on the executions of the batch state machine only (their names are not known in advance).',
  });
  Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: wildcardReason });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(scope, 'ecs', 'task/', { element: targets.cluster, attribute: '' }, '/*')}]`,
    reason: 'StopTask on tasks of the service cluster only (task ids are not known in advance).',
  });
}
