/**
 * The spend guard's configuration contract: the environment variables its construct writes
 * (lib/constructs/spend-guard.ts, `serialize`) and its handler reads (`schema` / `parse`), one
 * definition for both sides. Bundled into the Lambda: zod and core/spend only.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { SPEND_BUDGETS, type SpendBudgetId } from '../spend/budgets';
import { type AutomationSettings, automationVariable } from './automation';
import { wholeNumber } from './common';
import type { FunctionContract } from './contract';
import { parseFunctionEnv } from './env';
import { jsonEnvVar } from './env-json';
import { KILL_SWITCH_PERCENT } from './kill-switch';

/** One budget as the guard gets it. */
export interface SpendGuardBudget {
  readonly id: SpendBudgetId;
  readonly limitUsd: number;
  /** The AWS Budgets budget holding this budget's AWS spend (the monthly one for the total). */
  readonly awsBudgetName: string;
}

/** Everything the spend guard is configured with. */
export interface SpendGuardValues {
  /** e.g. 'prod': the metric's Environment dimension, and the name in messages. */
  readonly environment: string;
  /** The account owning the AWS budgets. */
  readonly accountId: string;
  readonly opsTableName: string;
  /** The runbook's channels: email (P3), chat (P2), page (P1; also the kill switch's reports). */
  readonly topics: { readonly email: string; readonly chat: string; readonly page: string };
  /** What the kill switch acts on. */
  readonly batch: {
    readonly scheduleName: string;
    readonly scheduleGroup: string;
    readonly scheduleStateParameter: string;
    readonly stateMachineArn: string;
    readonly ecsCluster: string;
    readonly taskFamily: string;
  };
  /** Every budget of SPEND_BUDGETS, once. */
  readonly budgets: readonly SpendGuardBudget[];
  /** The kill threshold, % of a budget (the runbook's 100%). */
  readonly killSwitchPercent: number;
  /** The budgets whose kill threshold disables the batch (the total always). */
  readonly killSwitchBudgets: readonly SpendBudgetId[];
  /** No month-end projection before this many days of the month have passed. */
  readonly forecastMinDays: number;
  /** A single model call reported above this is not believed. */
  readonly maxCallCostUsd: number;
  /** Hours at the start of a month in which AWS Budgets' figure is not counted (it lags). */
  readonly awsSettleHours: number;
  /** Minutes after a month ends in which the guard still looks at it (late data), notifying only. */
  readonly lateDataMinutes: number;
  /** While spend stays unknown, the page is repeated after this many minutes. */
  readonly unknownRenotifyMinutes: number;
  /** The window in which LLM cost data must appear while queries or a batch run go on. */
  readonly silenceWindowMinutes: number;
  /** The kill switch's pause, repeat guard and verification, as the budget guard's (core/automation). */
  readonly automation: AutomationSettings;
}

const text = z.string({ error: 'is required' }).trim().min(1, 'is required');
const arn = text.startsWith('arn:', 'must be an ARN');
const budgetId = z.enum(SPEND_BUDGETS, { error: `must be one of ${SPEND_BUDGETS.join(', ')}` });

/** A decimal number in a variable: a blank or half-numeric text ("1h") fails. */
const num = (rule: z.ZodType<number, number>) => text.transform(Number).pipe(rule);

/** A JSON document in a variable. */
const json = <T extends z.ZodType>(rule: T) => jsonEnvVar(rule, text);

const budgetsRule = z
  .array(
    z.object({
      id: budgetId,
      limitUsd: z.number().positive('must be a positive amount in USD'),
      awsBudgetName: text,
    }),
  )
  .refine(
    (budgets) =>
      budgets.length === SPEND_BUDGETS.length &&
      SPEND_BUDGETS.every((id) => budgets.some((b) => b.id === id)),
    { message: `must hold each of ${SPEND_BUDGETS.join(', ')} once` },
  );

const killSwitchBudgetsRule = z.array(budgetId).refine((ids) => ids.includes('total'), {
  message: 'must include total (the runbook: 100% of the monthly budget disables the batch)',
});

/** The bounds of the guard's settings; lib/config's `spend.guard` uses them. */
export const SPEND_GUARD_RULES = {
  killSwitchBudgets: killSwitchBudgetsRule,
  forecastMinDays: z.number().min(0).max(28),
  maxCallCostUsd: z.number().positive('must be a positive amount in USD'),
  awsSettleHours: z.number().min(0).max(48),
  lateDataMinutes: wholeNumber(0, 180),
  unknownRenotifyMinutes: wholeNumber(15, 24 * 60),
  silenceWindowMinutes: wholeNumber(5, 180),
} as const;

/** The variables, each with its rule (the handler's parser). */
export const schema = z
  .object({
    ENVIRONMENT: text,
    AWS_ACCOUNT_ID: text.regex(/^\d{12}$/, 'must be a 12-digit account id'),
    OPS_TABLE_NAME: text,
    EMAIL_TOPIC_ARN: arn,
    CHAT_TOPIC_ARN: arn,
    PAGE_TOPIC_ARN: arn,
    BATCH_SCHEDULE_NAME: text,
    BATCH_SCHEDULE_GROUP: text,
    BATCH_SCHEDULE_STATE_PARAMETER: text.startsWith('/', 'must be an SSM parameter name starting with /'),
    BATCH_STATE_MACHINE_ARN: arn,
    ECS_CLUSTER: text,
    BATCH_TASK_FAMILY: text,
    BUDGETS: json(budgetsRule),
    KILL_SWITCH_PERCENT: num(KILL_SWITCH_PERCENT),
    KILL_SWITCH_BUDGETS: json(SPEND_GUARD_RULES.killSwitchBudgets),
    FORECAST_MIN_DAYS: num(SPEND_GUARD_RULES.forecastMinDays),
    MAX_CALL_COST_USD: num(SPEND_GUARD_RULES.maxCallCostUsd),
    AWS_SETTLE_HOURS: num(SPEND_GUARD_RULES.awsSettleHours),
    LATE_DATA_MINUTES: num(SPEND_GUARD_RULES.lateDataMinutes),
    UNKNOWN_RENOTIFY_MINUTES: num(SPEND_GUARD_RULES.unknownRenotifyMinutes),
    SILENCE_WINDOW_MINUTES: num(SPEND_GUARD_RULES.silenceWindowMinutes),
    AUTOMATION: automationVariable.parser,
  })
  .transform(
    (e): SpendGuardValues => ({
      environment: e.ENVIRONMENT,
      accountId: e.AWS_ACCOUNT_ID,
      opsTableName: e.OPS_TABLE_NAME,
      topics: { email: e.EMAIL_TOPIC_ARN, chat: e.CHAT_TOPIC_ARN, page: e.PAGE_TOPIC_ARN },
      batch: {
        scheduleName: e.BATCH_SCHEDULE_NAME,
        scheduleGroup: e.BATCH_SCHEDULE_GROUP,
        scheduleStateParameter: e.BATCH_SCHEDULE_STATE_PARAMETER,
        stateMachineArn: e.BATCH_STATE_MACHINE_ARN,
        ecsCluster: e.ECS_CLUSTER,
        taskFamily: e.BATCH_TASK_FAMILY,
      },
      budgets: e.BUDGETS,
      killSwitchPercent: e.KILL_SWITCH_PERCENT,
      killSwitchBudgets: e.KILL_SWITCH_BUDGETS,
      forecastMinDays: e.FORECAST_MIN_DAYS,
      maxCallCostUsd: e.MAX_CALL_COST_USD,
      awsSettleHours: e.AWS_SETTLE_HOURS,
      lateDataMinutes: e.LATE_DATA_MINUTES,
      unknownRenotifyMinutes: e.UNKNOWN_RENOTIFY_MINUTES,
      silenceWindowMinutes: e.SILENCE_WINDOW_MINUTES,
      automation: e.AUTOMATION,
    }),
  );

/**
 * The variables of `values`, what the construct sets on the function. `json` encodes the JSON
 * variables: the construct passes CDK's Stack.toJsonString, which escapes a deploy-time value
 * inside a document as it resolves (JSON.stringify cannot).
 */
export function serialize(
  values: SpendGuardValues,
  json: (value: unknown) => string = JSON.stringify,
): Record<string, string> {
  return {
    ENVIRONMENT: values.environment,
    AWS_ACCOUNT_ID: values.accountId,
    OPS_TABLE_NAME: values.opsTableName,
    EMAIL_TOPIC_ARN: values.topics.email,
    CHAT_TOPIC_ARN: values.topics.chat,
    PAGE_TOPIC_ARN: values.topics.page,
    BATCH_SCHEDULE_NAME: values.batch.scheduleName,
    BATCH_SCHEDULE_GROUP: values.batch.scheduleGroup,
    BATCH_SCHEDULE_STATE_PARAMETER: values.batch.scheduleStateParameter,
    BATCH_STATE_MACHINE_ARN: values.batch.stateMachineArn,
    ECS_CLUSTER: values.batch.ecsCluster,
    BATCH_TASK_FAMILY: values.batch.taskFamily,
    BUDGETS: json(values.budgets),
    KILL_SWITCH_PERCENT: String(values.killSwitchPercent),
    KILL_SWITCH_BUDGETS: json(values.killSwitchBudgets),
    FORECAST_MIN_DAYS: String(values.forecastMinDays),
    MAX_CALL_COST_USD: String(values.maxCallCostUsd),
    AWS_SETTLE_HOURS: String(values.awsSettleHours),
    LATE_DATA_MINUTES: String(values.lateDataMinutes),
    UNKNOWN_RENOTIFY_MINUTES: String(values.unknownRenotifyMinutes),
    SILENCE_WINDOW_MINUTES: String(values.silenceWindowMinutes),
    AUTOMATION: automationVariable.encode(values.automation, json),
  };
}

/** The variables serialize writes. */
export const VARIABLES = Object.keys(schema.in.shape);

/** The configuration in `env` (other variables ignored); an Error naming every bad variable otherwise. */
export function parse(env: Readonly<Record<string, string | undefined>>): SpendGuardValues {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(env)'}: ${i.message}`);
    throw new Error(`Invalid spend guard configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/**
 * The spend guard's contract as AppFunction and test/contracts take every Lambda's: `serialize`
 * and `schema` above, parse failing with InvalidInputError as the handler's does.
 */
export const spendGuardContract: FunctionContract<SpendGuardValues> = {
  functionName: 'spend-guard',
  variables: VARIABLES,
  serialize,
  parse: (env) => parseFunctionEnv(schema, env),
};
