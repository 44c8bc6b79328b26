/**
 * The traffic shift Lambda's configuration (lambdas/traffic-shift, lib/constructs/traffic-shifter.ts),
 * whose variables the rollback's contract (traffic-rollback.ts) reads too.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { automationVariable } from './automation';
import { arn, defineContract, json, nonBlank, ssmParameterName, text, type ValuesOf } from './contract';

/** The variables of both traffic Lambdas. */
export const TRAFFIC_SHIFT_FIELDS = {
  /** e.g. 'prod'; shown in messages and audit items. */
  environment: text('ENVIRONMENT'),
  listenerArn: text('LISTENER_ARN', arn),
  blueTargetGroupArn: text('BLUE_TARGET_GROUP_ARN', arn),
  greenTargetGroupArn: text('GREEN_TARGET_GROUP_ARN', arn),
  /** The SSM StringList "<blue>,<green>", the source of truth of the weights. */
  weightsParameter: text('WEIGHTS_PARAMETER', ssmParameterName),
  opsTableName: text('OPS_TABLE_NAME'),
  /** Where the function reports. */
  alertTopicArn: text('ALERT_TOPIC_ARN', arn),
  /** The alarm names of the shift gates: the P0 composite and each colour's own. */
  alarms: json(
    'ALARMS_JSON',
    z.strictObject({ p0: nonBlank, blue: z.array(nonBlank), green: z.array(nonBlank) }),
  ),
};

/**
 * The shift's task Lambda. It cannot name the state machine that invokes it (a cycle): each
 * task passes the execution ARN instead.
 */
export const trafficShiftContract = defineContract('traffic-shift', {
  ...TRAFFIC_SHIFT_FIELDS,
  /** Its rollback on alarm is recorded and read back (core/automation). */
  automation: automationVariable,
});
export type TrafficShiftValues = ValuesOf<typeof trafficShiftContract>;
