/** The budget guard Lambda's configuration (lambdas/budget-guard, lib/constructs/budget-guard.ts). */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { automationVariable } from './automation';
import { arn, defineContract, nonBlank, number, ssmParameterName, text, type ValuesOf } from './contract';
import { KILL_SWITCH_PERCENT } from './kill-switch';

export const budgetGuardContract = defineContract('budget-guard', {
  /** e.g. 'prod'; shown in messages and audit items. */
  environment: text('ENVIRONMENT'),
  /** The budget whose ACTUAL notifications engage the kill switch. */
  killSwitchBudgetName: text('KILL_SWITCH_BUDGET_NAME'),
  /** Percent of the monthly budget's ACTUAL spend at which the kill switch engages. */
  killThresholdPercent: number('KILL_THRESHOLD_PERCENT', KILL_SWITCH_PERCENT),
  opsTableName: text('OPS_TABLE_NAME'),
  batchScheduleName: text('BATCH_SCHEDULE_NAME'),
  batchScheduleGroup: text('BATCH_SCHEDULE_GROUP', nonBlank),
  /** The SSM parameter the schedule's state is read from at deploy time. */
  batchScheduleStateParameter: text('BATCH_SCHEDULE_STATE_PARAMETER', ssmParameterName),
  batchStateMachineArn: text('BATCH_STATE_MACHINE_ARN', arn),
  ecsCluster: text('ECS_CLUSTER'),
  batchTaskFamily: text('BATCH_TASK_FAMILY'),
  /** The P1 topic: what the kill switch did, or why it did nothing. */
  alertTopicArn: text('ALERT_TOPIC_ARN', arn),
  /** The account whose budget notifications count: one from another account changes nothing. */
  budgetAccountId: text('AWS_ACCOUNT_ID', z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
  /** The kill switch honours the pause and the repeat guard, and is read back. */
  automation: automationVariable,
});
export type BudgetGuardValues = ValuesOf<typeof budgetGuardContract>;
