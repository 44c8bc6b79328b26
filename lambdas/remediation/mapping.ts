/**
 * Which alarm gets which remediation: the runbook's incidents that have a safe automatic fix.
 * Pure functions; the AWS calls are in logic.ts.
 */

import type { Colour } from '../shared/traffic';
import type { RemediationAction, RemediationConfig, Severity } from './config';

/** Why a mapped alarm led to no action. */
export type SkipReason =
  | 'disabled'
  | 'idle-colour'
  | 'no-live-colour'
  | 'at-max'
  | 'rate-limited'
  | 'shift-in-progress'
  // core/automation: the automation is paused, or the action repeats (escalated instead).
  | 'paused'
  | 'repeated';

/** The decision about one alarm. */
export type Remediation =
  | {
      readonly act: true;
      readonly action: 'force-new-deployment';
      readonly colour: Colour;
      readonly service: string;
    }
  | {
      readonly act: true;
      readonly action: 'scale-out';
      readonly colour: Colour;
      readonly service: string;
      readonly step: number;
      readonly maxCount: number;
    }
  | {
      /** An alarm without automatic remediation (P0 included): not reported, the alarm paged. */
      readonly act: false;
      readonly action: undefined;
      readonly reason: string;
    }
  | {
      /** A remediation that applies but is not taken. */
      readonly act: false;
      readonly action: RemediationAction;
      readonly skip: SkipReason;
      readonly colour: Colour | undefined;
      readonly reason: string;
    };

/** The remediation an alarm id maps to; `colour` when the alarm is about one colour. */
export interface PlannedAction {
  readonly action: RemediationAction;
  readonly colour?: Colour;
}

// A Map, not an object: an alarm id such as "constructor" must not find a prototype member.
const PLANNED: ReadonlyMap<string, PlannedAction> = new Map<string, PlannedAction>([
  // Runbook: Common Issues > Database Connection Pool Exhausted > Immediate Fix (restart tasks).
  ['log-db-pool-exhausted', { action: 'force-new-deployment' }],
  ['db-connections-high', { action: 'force-new-deployment' }],
  // Runbook: P0 > Resource exhaustion (CPU/memory) > Scale up task count.
  ['blue-cpu-high', { action: 'scale-out', colour: 'blue' }],
  ['blue-memory-high', { action: 'scale-out', colour: 'blue' }],
  ['green-cpu-high', { action: 'scale-out', colour: 'green' }],
  ['green-memory-high', { action: 'scale-out', colour: 'green' }],
]);

/** The alarm id of the composite P0 alarm. */
export const P0_ALARM_ID = 'p0';

/** Why the P0 alarm is not remediated here. */
export const P0_REASON =
  'P0 after a recent shift is rolled back by the traffic-rollback Lambda (rollbackToLastKnownGood)';

/** The remediation `alarmId` maps to, if any (the live colour aside). */
export function plannedAction(alarmId: string): PlannedAction | undefined {
  return PLANNED.get(alarmId);
}

/** The alarm ids that have a remediation. */
export function remediatedAlarmIds(): string[] {
  return [...PLANNED.keys()];
}

/** The id of `alarmName` (the name without `prefix`), or undefined if it lacks the prefix. */
export function alarmIdOf(alarmName: string, prefix: string): string | undefined {
  if (!alarmName.startsWith(prefix) || alarmName.length === prefix.length) return undefined;
  return alarmName.slice(prefix.length);
}

/** The live colour: the one with the larger weight; undefined when they are equal. */
export function liveColourOf(weights: { readonly blue: number; readonly green: number }): Colour | undefined {
  if (weights.blue === weights.green) return undefined;
  return weights.blue > weights.green ? 'blue' : 'green';
}

/**
 * The remediation of alarm `alarmId` when `liveColour` serves the traffic (undefined: no
 * single live colour, or not known yet: only consulted for an enabled action).
 *
 * - log-db-pool-exhausted, db-connections-high: force a new deployment of the live colour;
 * - <colour>-cpu-high, <colour>-memory-high: scale that colour out, only if it is the live one;
 * - p0: nothing (the traffic-rollback Lambda handles it);
 * - anything else: nothing (the alarm paged `severity`).
 * An action switched off in `config` is skipped ('disabled') before the colour is looked at.
 */
export function remediationFor(
  alarmId: string,
  liveColour: Colour | undefined,
  config: Pick<RemediationConfig, 'services' | 'maxCounts' | 'remediation'>,
  severity: Severity = 'P2',
): Remediation {
  if (alarmId === P0_ALARM_ID) return { act: false, action: undefined, reason: P0_REASON };
  const planned = plannedAction(alarmId);
  if (planned === undefined) {
    return {
      act: false,
      action: undefined,
      reason: `no automatic remediation for ${alarmId}; the alarm already paged ${severity}`,
    };
  }
  const { action } = planned;
  const settings = config.remediation.actions[action];
  if (!settings.enabled) {
    return {
      act: false,
      action,
      skip: 'disabled',
      colour: planned.colour,
      reason: `${action} is disabled in config`,
    };
  }
  if (liveColour === undefined) {
    return {
      act: false,
      action,
      skip: 'no-live-colour',
      colour: planned.colour,
      reason: 'no single live colour: blue and green carry the same weight',
    };
  }
  if (action === 'force-new-deployment') {
    return { act: true, action, colour: liveColour, service: config.services[liveColour] };
  }
  const colour = planned.colour ?? liveColour;
  if (colour !== liveColour) {
    return {
      act: false,
      action,
      skip: 'idle-colour',
      colour,
      reason: `${colour} is the idle colour (${liveColour} is live): scaling it out would not relieve the live traffic`,
    };
  }
  return {
    act: true,
    action,
    colour,
    service: config.services[colour],
    step: config.remediation.actions['scale-out'].step,
    maxCount: config.maxCounts[colour],
  };
}

/** The desired count after a scale-out by `step`, capped at `maxCount`; undefined when already there. */
export function scaleOutTarget(desiredCount: number, step: number, maxCount: number): number | undefined {
  if (desiredCount >= maxCount) return undefined;
  return Math.min(desiredCount + step, maxCount);
}
