/**
 * Which alarm gets which remediation: the alarm catalogue's response (core/alarms/catalogue.ts,
 * received as ALARM_FACTS) taken for the live colour, within config's switches. Pure
 * functions; the AWS calls are in logic.ts.
 */

import type { AlarmFact } from '../../core/alarms/facts';
import type { Colour } from '../../core/traffic';
import type { RemediationAction, RemediationConfig } from './config';

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
      /** An alarm without automatic remediation (the rollback's included): not reported, the alarm paged. */
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

/** The remediation an alarm's response asks for; `colour` when the alarm is about one colour. */
export interface PlannedAction {
  readonly action: RemediationAction;
  readonly colour?: Colour;
}

/** Why an alarm whose response is a traffic rollback is not remediated here. */
export const TRAFFIC_ROLLBACK_REASON =
  'P0 after a recent shift is rolled back by the traffic-rollback Lambda (rollbackToLastKnownGood)';

/**
 * The remediation of the alarm's catalogue response, if it is one of remediation's (the live
 * colour aside): a new deployment (the runbook's Immediate Fix of an exhausted connection
 * pool: restart the tasks), or a scale-out of the alarm's colour (the runbook's P0 cause
 * "Resource exhaustion (CPU/memory)": scale up the task count).
 */
export function plannedAction(fact: AlarmFact): PlannedAction | undefined {
  switch (fact.response) {
    case 'new-deployment':
      return { action: 'force-new-deployment' };
    case 'scale-out':
      return fact.colour === undefined
        ? { action: 'scale-out' }
        : { action: 'scale-out', colour: fact.colour };
    default:
      return undefined;
  }
}

/** The live colour: the one with the larger weight; undefined when they are equal. */
export function liveColourOf(weights: { readonly blue: number; readonly green: number }): Colour | undefined {
  if (weights.blue === weights.green) return undefined;
  return weights.blue > weights.green ? 'blue' : 'green';
}

/**
 * The remediation of the alarm `fact` describes when `liveColour` serves the traffic
 * (undefined: no single live colour, or not known yet: only consulted for an enabled action).
 *
 * - response new-deployment (log-db-pool-exhausted, db-connections-high): force a new
 *   deployment of the live colour;
 * - scale-out (<colour>-cpu-high, <colour>-memory-high): scale the alarm's colour out, only if
 *   it is the live one;
 * - traffic-rollback (p0): nothing (the traffic-rollback Lambda handles it);
 * - none: nothing (the alarm paged its severity).
 * An action switched off in `config` is skipped ('disabled') before the colour is looked at.
 */
export function remediationFor(
  fact: AlarmFact,
  liveColour: Colour | undefined,
  config: Pick<RemediationConfig, 'services' | 'maxCounts' | 'remediation'>,
): Remediation {
  if (fact.response === 'traffic-rollback') {
    return { act: false, action: undefined, reason: TRAFFIC_ROLLBACK_REASON };
  }
  const planned = plannedAction(fact);
  if (planned === undefined) {
    return {
      act: false,
      action: undefined,
      reason: `no automatic remediation for ${fact.id}; the alarm already paged ${fact.severity}`,
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
