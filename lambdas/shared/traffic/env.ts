/** The traffic Lambdas' configuration from their environment. */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseFunctionEnv } from '../env';
import { jsonEnvVar } from '../env-json';
import type { AlarmNames, TrafficConfig } from './common';

// ---------------------------------------------------------------------------------------------
// Configuration from the environment

// Empty means unset: an optional setting left blank in a deployment arrives as "".
function emptyToUndefined(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

const required = z.string().trim().min(1);
const arn = required.startsWith('arn:', 'must be an ARN');

const alarmNamesSchema = z.object({
  p0: required,
  blue: z.array(required),
  green: z.array(required),
});

const trafficEnvSchema = z.object({
  ENVIRONMENT: required,
  LISTENER_ARN: arn,
  BLUE_TARGET_GROUP_ARN: arn,
  GREEN_TARGET_GROUP_ARN: arn,
  WEIGHTS_PARAMETER: required.startsWith('/', 'must be an SSM parameter name starting with /'),
  OPS_TABLE_NAME: required,
  ALERT_TOPIC_ARN: arn,
  ALARMS_JSON: jsonEnvVar(alarmNamesSchema),
  SHIFT_STATE_MACHINE_ARN: z.preprocess(emptyToUndefined, arn.optional()),
});

/** The configuration shared by the traffic Lambdas. */
export interface TrafficFunctionConfig {
  readonly traffic: TrafficConfig & { readonly alertTopicArn: string };
  readonly alarms: AlarmNames;
}

/**
 * The traffic Lambdas' configuration from ENVIRONMENT, LISTENER_ARN, BLUE_TARGET_GROUP_ARN,
 * GREEN_TARGET_GROUP_ARN, WEIGHTS_PARAMETER, OPS_TABLE_NAME, ALERT_TOPIC_ARN, ALARMS_JSON
 * (`{"p0": "...", "blue": ["..."], "green": ["..."]}`) and the optional
 * SHIFT_STATE_MACHINE_ARN. Throws InvalidInputError naming every bad variable.
 */
export function trafficConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): TrafficFunctionConfig {
  const e = parseFunctionEnv(trafficEnvSchema, env);
  return {
    traffic: {
      environment: e.ENVIRONMENT,
      listenerArn: e.LISTENER_ARN,
      targetGroups: { blue: e.BLUE_TARGET_GROUP_ARN, green: e.GREEN_TARGET_GROUP_ARN },
      weightsParameter: e.WEIGHTS_PARAMETER,
      opsTable: e.OPS_TABLE_NAME,
      alertTopicArn: e.ALERT_TOPIC_ARN,
      shiftStateMachineArn: e.SHIFT_STATE_MACHINE_ARN,
    },
    alarms: e.ALARMS_JSON,
  };
}
