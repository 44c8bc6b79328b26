import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The CPU architecture of a Fargate task (config `…cpuArchitecture`). */
export type TaskCpuArchitecture = 'ARM64' | 'X86_64';

/** Properties of {@link addLoggedFargateTask}. */
export interface LoggedFargateTaskProps {
  /** Physical names of the task family and of its log group. */
  readonly names: { readonly family: string; readonly logGroup: string };
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly cpuArchitecture: TaskCpuArchitecture;
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** @default - Fargate's 20 GiB */
  readonly ephemeralStorageGiB?: number;
  /** @default - none */
  readonly volumes?: ecs.Volume[];
}

/**
 * The log group (id `LogGroup`) and the Linux Fargate task definition (id `TaskDefinition`)
 * every task of this project starts from, added to `scope` itself. A function and not a
 * construct: a construct of its own would add a level to the paths, and so change the logical
 * ids of the log groups and task definitions already deployed.
 */
export function addLoggedFargateTask(
  scope: Construct,
  props: LoggedFargateTaskProps,
): { readonly logGroup: logs.LogGroup; readonly taskDefinition: ecs.FargateTaskDefinition } {
  const logGroup = new logs.LogGroup(scope, 'LogGroup', {
    logGroupName: props.names.logGroup,
    retention: props.logRetention,
    removalPolicy: props.removalPolicy,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
    family: props.names.family,
    cpu: props.cpu,
    memoryLimitMiB: props.memoryMiB,
    // Only the options given, so the task definition's recorded props stay as they were.
    ...(props.ephemeralStorageGiB === undefined ? {} : { ephemeralStorageGiB: props.ephemeralStorageGiB }),
    runtimePlatform: {
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      cpuArchitecture: ecs.CpuArchitecture.of(props.cpuArchitecture),
    },
    ...(props.volumes === undefined ? {} : { volumes: props.volumes }),
  });
  return { logGroup, taskDefinition };
}

/**
 * The cdk-nag findings of a task of the application image (a service colour, the batch): its
 * plain environment, and the ECR token of its execution role. `logGroup` says whose log group
 * the role writes to, e.g. `the batch log group`.
 */
export function acknowledgeApplicationTask(
  taskDefinition: ecs.FargateTaskDefinition,
  logGroup: string,
): void {
  Validations.of(taskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason:
      'Plain environment holds only non-secret tuning settings and endpoints from config; credentials and API ' +
      'keys reach the container as ECS secrets from Secrets Manager.',
  });
  Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken has no resource-level permissions and must be granted on *; image pulls and ' +
      `log writes are scoped to the repository and ${logGroup}.`,
  });
}
