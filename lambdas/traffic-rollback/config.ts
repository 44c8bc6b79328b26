/**
 * The automatic rollback's configuration: the traffic-rollback contract's values
 * (core/contracts/traffic.ts), which the construct writes and this function parses.
 */
import type { AlarmFacts } from '../../core/alarms/facts';
import type { FunctionEnv } from '../../core/contracts/contract';
import { trafficRollbackContract } from '../../core/contracts/traffic-rollback';
import { type TrafficFunctionConfig, trafficFunctionConfig } from '../../core/traffic/env';

/** The traffic configuration plus the window and cool-down. */
export interface AutoRollbackConfig extends TrafficFunctionConfig {
  /** Only a shift in progress or ended at most this many minutes ago is rolled back. */
  readonly windowMinutes: number;
  /** No automatic rollback within this many minutes of the last rollback. */
  readonly cooldownMinutes: number;
  /** An event whose alarm changed state longer ago than this changes nothing (it pages). */
  readonly maxEventAgeMinutes: number;
  /** Each alarm's severity and response by its exact name, from the catalogue (ALARM_FACTS). */
  readonly alarmFacts: AlarmFacts;
}

/**
 * The configuration from the function's environment (the variables of trafficRollbackContract).
 * Throws InvalidInputError naming every bad variable.
 */
export function configFromEnv(env: FunctionEnv): AutoRollbackConfig {
  const v = trafficRollbackContract.parse(env);
  return {
    ...trafficFunctionConfig(v),
    windowMinutes: v.windowMinutes,
    cooldownMinutes: v.cooldownMinutes,
    maxEventAgeMinutes: v.maxEventAgeMinutes,
    alarmFacts: v.alarmFacts,
  };
}
