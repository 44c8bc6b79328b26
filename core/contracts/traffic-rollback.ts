/**
 * The automatic rollback Lambda's configuration (lambdas/traffic-rollback,
 * lib/constructs/traffic-shifter.ts): the shift's variables and its own. Apart from the shift's
 * module so that the shift's bundle does not carry the alarm facts.
 */

import { ALARM_FACTS_VARIABLE, alarmFactsDocumentSchema } from '../alarms/facts';
import { automationVariable } from './automation';
import { wholeNumber } from './common';
import { arn, defineContract, json, number, text, type ValuesOf } from './contract';
import { TRAFFIC_SHIFT_FIELDS } from './traffic';

const minutes = (max: number) => wholeNumber(1, max);

/** The bounds of the rollback's settings; lib/config's `traffic` uses them. */
export const TRAFFIC_ROLLBACK_RULES = {
  windowMinutes: minutes(24 * 60),
  cooldownMinutes: minutes(24 * 60),
  maxEventAgeMinutes: minutes(6 * 60),
} as const;

export const trafficRollbackContract = defineContract('traffic-rollback', {
  ...TRAFFIC_SHIFT_FIELDS,
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
  /** The pause, repeat guard and verification of its rollbacks. */
  automation: automationVariable,
});
export type TrafficRollbackValues = ValuesOf<typeof trafficRollbackContract>;
