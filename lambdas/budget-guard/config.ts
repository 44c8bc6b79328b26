// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseFunctionEnv } from '../shared/env';
import type { BudgetGuardConfig } from './logic';

// Empty means unset: an optional setting left blank in a deployment arrives as "".
function emptyToUndefined(value: unknown): unknown {
  return value === '' ? undefined : value;
}

const required = z.string().trim().min(1);

const envSchema = z.object({
  ENVIRONMENT: required,
  KILL_SWITCH_BUDGET_NAME: required,
  KILL_THRESHOLD_PERCENT: z.preprocess(emptyToUndefined, z.coerce.number().positive().max(1000).default(100)),
  OPS_TABLE_NAME: required,
  BATCH_SCHEDULE_NAME: required,
  BATCH_SCHEDULE_GROUP: required,
  BATCH_SCHEDULE_STATE_PARAMETER: required,
  BATCH_STATE_MACHINE_ARN: required.startsWith('arn:'),
  ECS_CLUSTER: required,
  BATCH_TASK_FAMILY: required,
  ALERT_TOPIC_ARN: required.startsWith('arn:'),
  AWS_ACCOUNT_ID: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
  ),
});

/** The environment variables the batch controls read (see {@link configFromEnv}). */
export type BudgetGuardEnv = Readonly<Record<string, string | undefined>>;

/**
 * The batch controls' configuration from environment variables: ENVIRONMENT,
 * KILL_SWITCH_BUDGET_NAME, KILL_THRESHOLD_PERCENT (default 100), OPS_TABLE_NAME,
 * BATCH_SCHEDULE_NAME, BATCH_SCHEDULE_GROUP, BATCH_SCHEDULE_STATE_PARAMETER,
 * BATCH_STATE_MACHINE_ARN, ECS_CLUSTER, BATCH_TASK_FAMILY, ALERT_TOPIC_ARN and the optional
 * AWS_ACCOUNT_ID. Throws InvalidInputError naming every bad variable.
 */
export function configFromEnv(env: BudgetGuardEnv): BudgetGuardConfig {
  const e = parseFunctionEnv(envSchema, env);
  return {
    environment: e.ENVIRONMENT,
    killSwitchBudgetName: e.KILL_SWITCH_BUDGET_NAME,
    killThresholdPercent: e.KILL_THRESHOLD_PERCENT,
    opsTableName: e.OPS_TABLE_NAME,
    batchScheduleName: e.BATCH_SCHEDULE_NAME,
    batchScheduleGroup: e.BATCH_SCHEDULE_GROUP,
    batchScheduleStateParameter: e.BATCH_SCHEDULE_STATE_PARAMETER,
    batchStateMachineArn: e.BATCH_STATE_MACHINE_ARN,
    ecsCluster: e.ECS_CLUSTER,
    batchTaskFamily: e.BATCH_TASK_FAMILY,
    alertTopicArn: e.ALERT_TOPIC_ARN,
    budgetAccountId: e.AWS_ACCOUNT_ID,
  };
}
