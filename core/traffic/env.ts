/** The traffic Lambdas' configuration from their environment (core/contracts/traffic.ts). */

import type { AutomationSettings } from '../contracts/automation';
import type { FunctionEnv } from '../contracts/contract';
import { type TrafficShiftValues, trafficShiftContract } from '../contracts/traffic';
import type { AlarmNames, TrafficConfig } from './common';

/** The configuration shared by the traffic Lambdas. */
export interface TrafficFunctionConfig {
  readonly traffic: TrafficConfig & { readonly alertTopicArn: string };
  readonly alarms: AlarmNames;
  /** The pause, repeat guard and verification (the AUTOMATION variable). */
  readonly automation: AutomationSettings;
}

/** The shared configuration of a traffic contract's values. */
export function trafficFunctionConfig(
  v: TrafficShiftValues & { readonly shiftStateMachineArn?: string },
): TrafficFunctionConfig {
  return {
    traffic: {
      environment: v.environment,
      listenerArn: v.listenerArn,
      targetGroups: { blue: v.blueTargetGroupArn, green: v.greenTargetGroupArn },
      weightsParameter: v.weightsParameter,
      opsTable: v.opsTableName,
      alertTopicArn: v.alertTopicArn,
      shiftStateMachineArn: v.shiftStateMachineArn,
    },
    alarms: v.alarms,
    automation: v.automation,
  };
}

/**
 * The traffic-shift Lambda's configuration (the variables of trafficShiftContract). Throws
 * InvalidInputError naming every bad variable.
 */
export function trafficConfigFromEnv(env: FunctionEnv): TrafficFunctionConfig {
  return trafficFunctionConfig(trafficShiftContract.parse(env));
}
