import { declareCalls } from '../../lambdas/shared/calls';
import {
  AUDIT_PK,
  AUTOMATION_ACTION_PK,
  AUTOMATION_PK,
  BATCH_RUN_PK,
  KILL_SWITCH_PK,
  TRAFFIC_PK,
} from '../../lambdas/shared/ops-keys';

/**
 * What the ops CLI calls, all commands together: the operator policy of the service stack
 * grants exactly this (lib/constructs/operator-policy.ts), and test/ops checks the commands the
 * CLI tests send against it.
 */
export const OPS_CLI_CALLS = declareCalls({
  // The OpsManifest output: every resource name the CLI needs, in one call.
  serviceStack: { actions: ['cloudformation:DescribeStacks'] },
  // weights, status, health: no resource-level permissions.
  reads: {
    actions: [
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeTargetHealth',
      'cloudwatch:GetMetricData',
    ],
  },
  listener: { actions: ['elasticloadbalancing:ModifyListener'] },
  weightsParameter: { actions: ['ssm:GetParameter', 'ssm:PutParameter'] },
  // batch status reads it; batch disable and enable write it.
  scheduleStateParameter: { actions: ['ssm:GetParameter', 'ssm:PutParameter'] },
  services: { actions: ['ecs:DescribeServices'] },
  shiftStateMachine: { actions: ['states:StartExecution', 'states:ListExecutions'] },
  shiftExecutions: { actions: ['states:DescribeExecution', 'states:StopExecution'] },
  batchStateMachine: { actions: ['states:ListExecutions'] },
  batchExecutions: { actions: ['states:StopExecution'] },
  batchSchedule: { actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'] },
  batchScheduleRole: { actions: ['iam:PassRole'] },
  clusterTaskList: { actions: ['ecs:ListTasks'] },
  clusterTasks: { actions: ['ecs:StopTask'] },
  killSwitchBudget: { actions: ['budgets:ViewBudget'] },
  opsTable: {
    actions: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    ],
    // Not HEALTH: `health` runs the side-effect-free check (runHealthCheck) and reads only
    // BATCH_RUN; the light alert item is the scheduled Lambda's (deliverLightReport).
    // AUTOMATION: `automation pause|resume` write the pause; AUTOMATION_ACTION: `automation status` reads.
    partitions: [TRAFFIC_PK, KILL_SWITCH_PK, AUDIT_PK, BATCH_RUN_PK, AUTOMATION_PK, AUTOMATION_ACTION_PK],
  },
  alerts: { actions: ['sns:Publish'] },
});
