/**
 * The traffic Lambdas' configuration (lambdas/traffic-shift, lambdas/traffic-rollback,
 * lib/constructs/traffic-shifter.ts): the rollback reads the shift's variables and its own.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { ALARM_FACTS_VARIABLE, alarmFactsDocumentSchema } from '../alarms/facts';
import {
  arn,
  defineContract,
  json,
  nonBlank,
  number,
  ssmParameterName,
  text,
  type ValuesOf,
} from './contract';

const minutes = (max: number) => z.number().int().min(1).max(max);

/** The bounds of the rollback's settings; lib/config's `traffic` uses them. */
export const TRAFFIC_ROLLBACK_RULES = {
  windowMinutes: minutes(24 * 60),
  cooldownMinutes: minutes(24 * 60),
  maxEventAgeMinutes: minutes(6 * 60),
} as const;

const shiftFields = {
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
export const trafficShiftContract = defineContract('traffic-shift', shiftFields);
export type TrafficShiftValues = ValuesOf<typeof trafficShiftContract>;

export const trafficRollbackContract = defineContract('traffic-rollback', {
  ...shiftFields,
  /** A running shift is stopped before its weights are restored. */
  shiftStateMachineArn: text('SHIFT_STATE_MACHINE_ARN', arn),
  /** Only a shift in progress or ended at most this many minutes ago is rolled back. */
  windowMinutes: number('ROLLBACK_WINDOW_MINUTES', TRAFFIC_ROLLBACK_RULES.windowMinutes),
  /** No automatic rollback within this many minutes of the last rollback. */
  cooldownMinutes: number('ROLLBACK_COOLDOWN_MINUTES', TRAFFIC_ROLLBACK_RULES.cooldownMinutes),
  /**
   * An event whose alarm changed state longer ago than this changes nothing and pages: Lambda
   * retries asynchronous events for hours, and a late P0 must not roll back a shift it predates.
   */
  maxEventAgeMinutes: number('ROLLBACK_MAX_EVENT_AGE_MINUTES', TRAFFIC_ROLLBACK_RULES.maxEventAgeMinutes),
  /** Each alarm's severity and response by its exact name, from the alarm catalogue: what rolls back. */
  alarmFacts: json(ALARM_FACTS_VARIABLE, alarmFactsDocumentSchema),
});
export type TrafficRollbackValues = ValuesOf<typeof trafficRollbackContract>;
