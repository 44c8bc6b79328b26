import { declareCalls } from '../calls';
import { AUDIT_PK, KILL_SWITCH_PK } from '../ops-table/keys';

/**
 * What engaging the kill switch calls, whoever engages it (the budget guard, the spend guard):
 * lib/constructs/kill-switch-grants.ts grants these resources to each of them.
 */
export const KILL_SWITCH_CALLS = declareCalls({
  batchSchedule: { actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'] },
  // UpdateSchedule re-submits the schedule's target, including the role it passes.
  batchScheduleRole: { actions: ['iam:PassRole'] },
  batchStateMachine: { actions: ['states:ListExecutions'] },
  batchExecutions: { actions: ['states:StopExecution'] },
  // ListTasks has no resource-level permissions; a condition keeps it to the cluster.
  clusterTaskList: { actions: ['ecs:ListTasks'] },
  clusterTasks: { actions: ['ecs:StopTask'] },
  scheduleStateParameter: { actions: ['ssm:PutParameter'] },
  // The state item: put (round 1), marked complete (round 3), read when a duplicate's failed
  // condition does not return it; the audit item: put (round 3).
  opsTable: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    partitions: [KILL_SWITCH_PK, AUDIT_PK],
  },
});
