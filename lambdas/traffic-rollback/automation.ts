/** What core/automation needs of the automatic rollback: its intent and the checks of its effect. */

import type { Check, Intent } from '../../core/automation';
import type { TrafficConfig, Weights } from '../shared/traffic';

/** The rollback a P0 calls for, for the pause, the repeat guard and the record. */
export function rollbackIntent(alarmName: string): Intent {
  return {
    action: 'traffic-rollback',
    trigger: alarmName,
    severity: 'P0',
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
