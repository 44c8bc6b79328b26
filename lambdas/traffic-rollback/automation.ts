/** What core/automation needs of the automatic rollback: its intent and the checks of its effect. */

import type { Check, Intent, Severity } from '../../core/automation';
import type { TrafficConfig, Weights } from '../../core/traffic';

/**
 * The rollback an alarm calls for, for the pause, the repeat guard and the record; `severity` is
 * the alarm's, from the catalogue's facts (the P0 composite's P0), never parsed from its name.
 */
export function rollbackIntent(alarmName: string, severity: Severity): Intent {
  return {
    action: 'traffic-rollback',
    trigger: alarmName,
    severity,
    source: 'traffic-rollback',
    wouldDo: 'restored the weights from before the last traffic shift (if it started within the window)',
  };
}

/** The P0 back to OK, and `restored` on the listener and in the SSM parameter. */
export function rollbackChecks(traffic: TrafficConfig, alarmName: string, restored: Weights): Check[] {
  return [
    { kind: 'alarm-ok', alarmName },
    {
      kind: 'weights',
      listenerArn: traffic.listenerArn,
      targetGroups: traffic.targetGroups,
      weightsParameter: traffic.weightsParameter,
      expected: restored,
    },
  ];
}
