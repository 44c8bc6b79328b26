import { declareCalls } from '../../core/calls';
import { KILL_SWITCH_CALLS } from '../../core/kill-switch/calls';
import { AUTOMATION_ACTION_PK, AUTOMATION_PK, BATCH_RUN_PK, TRAFFIC_PK } from '../../core/ops-table/keys';

/**
 * What the ops CLI calls, all commands together: the operator policy of the service stack
 * grants exactly this (lib/constructs/operator-policy.ts), and test/ops checks the commands the
 * CLI tests send against it.
 */
export const OPS_CLI_CALLS = declareCalls({
  // The OpsManifest output: every resource name the CLI needs, in one call.
  serviceStack: { actions: ['cloudformation:DescribeStacks'] },
  // weights, status, health, cost: no resource-level permissions (Cost Explorer's
  // GetCostAndUsage names no resource type).
  reads: {
    actions: [
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeTargetHealth',
      'cloudwatch:GetMetricData',
      'ce:GetCostAndUsage',
    ],
  },
  // diagnose: alarms in ALARM. DescribeAlarms returns composite alarms (the P0) only to a
  // grant on *, whatever the names asked for.
  alarms: { actions: ['cloudwatch:DescribeAlarms'] },
  // diagnose: Logs Insights on the two service log groups; StopQuery (of a query past its
  // bound) names no resource.
  serviceLogGroups: { actions: ['logs:StartQuery', 'logs:GetQueryResults'] },
  logQueries: { actions: ['logs:StopQuery'] },
  // diagnose: the state of the data tier.
  // backup snapshot and list: RDS authorizes both on the instance and on the snapshot.
  database: { actions: ['rds:DescribeDBInstances', 'rds:CreateDBSnapshot', 'rds:DescribeDBSnapshots'] },
  cache: { actions: ['elasticache:DescribeReplicationGroups'] },
  listener: { actions: ['elasticloadbalancing:ModifyListener'] },
  weightsParameter: { actions: ['ssm:GetParameter', 'ssm:PutParameter'] },
  // batch status reads it; batch disable and enable write it.
  scheduleStateParameter: {
    actions: ['ssm:GetParameter', ...KILL_SWITCH_CALLS.scheduleStateParameter.actions],
  },
  services: { actions: ['ecs:DescribeServices'] },
  shiftStateMachine: { actions: ['states:StartExecution', 'states:ListExecutions'] },
  shiftExecutions: { actions: ['states:DescribeExecution', 'states:StopExecution'] },
  // batch disable engages the kill switch (core/kill-switch/batch.ts): the kill switch's calls.
  batchStateMachine: KILL_SWITCH_CALLS.batchStateMachine,
  batchExecutions: KILL_SWITCH_CALLS.batchExecutions,
  batchSchedule: KILL_SWITCH_CALLS.batchSchedule,
  batchScheduleRole: KILL_SWITCH_CALLS.batchScheduleRole,
  clusterTaskList: KILL_SWITCH_CALLS.clusterTaskList,
  // backup dump watches the task it started.
  clusterTasks: { actions: [...KILL_SWITCH_CALLS.clusterTasks.actions, 'ecs:DescribeTasks'] },
  // batch enable and cost read the spend as the spend guard does: the four budgets of the
  // runbook (ViewBudget authorizes DescribeBudget and DescribeBudgetPerformanceHistory).
  budgets: { actions: ['budgets:ViewBudget'] },
  opsTable: {
    actions: [...KILL_SWITCH_CALLS.opsTable.actions, 'dynamodb:DeleteItem', 'dynamodb:Query'],
    // The kill switch's (KILL_SWITCH, AUDIT). Not HEALTH: `health` runs the side-effect-free
    // check (runHealthCheck) and reads only BATCH_RUN; the light alert item is the scheduled
    // Lambda's (deliverLightReport). AUTOMATION: `automation pause|resume` write the pause;
    // AUTOMATION_ACTION: `automation status` reads.
    partitions: [
      TRAFFIC_PK,
      ...KILL_SWITCH_CALLS.opsTable.partitions,
      BATCH_RUN_PK,
      AUTOMATION_PK,
      AUTOMATION_ACTION_PK,
    ],
  },
  alerts: { actions: ['sns:Publish'] },
  // db: the inspection reports, and the weekly maintenance now (both invoked synchronously).
  dbInspectFunction: { actions: ['lambda:InvokeFunction'] },
  dbMaintenanceFunction: { actions: ['lambda:InvokeFunction'] },
  manualSnapshots: { actions: ['rds:CreateDBSnapshot', 'rds:DescribeDBSnapshots'] },
  automatedSnapshots: { actions: ['rds:DescribeDBSnapshots'] },
  // backup dump: run the dump task (tagged from its definition) and pass it its roles.
  backupTaskDefinition: { actions: ['ecs:RunTask'] },
  backupTaskTags: { actions: ['ecs:TagResource'] },
  backupTaskRoles: { actions: ['iam:PassRole'] },
  // backup list and dump: list db/ (today's dump), read the dump's metadata (not its content:
  // no kms:Decrypt).
  backupBucket: { actions: ['s3:ListBucket'] },
  backupObjects: { actions: ['s3:GetObject'] },
});
