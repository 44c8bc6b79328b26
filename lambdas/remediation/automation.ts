/** What core/automation needs of a remediation: its intent and the checks of its effect. */

import type { Check, Intent } from '../../core/automation';
import type { RemediationAction, RemediationConfig, Severity } from './config';

/** The action, alarm and severity of a remediation, for the pause, the guard and the record. */
export function remediationIntent(
  action: RemediationAction,
  incident: { readonly alarmName: string; readonly severity: Severity },
  wouldDo: string,
): Intent {
  return { action, trigger: incident.alarmName, severity: incident.severity, source: 'remediation', wouldDo };
}

/**
 * The alarm back to OK, and the service: a scale-out at least `target` desired and running; a
 * new deployment replacing `deploymentBefore`, completed.
 */
export function remediationChecks(
  config: Pick<RemediationConfig, 'ecsCluster'>,
  alarmName: string,
  action: { readonly action: RemediationAction; readonly service: string },
  deploymentBefore: string | undefined,
  target: number | undefined,
): Check[] {
  const service = { kind: 'service', cluster: config.ecsCluster, service: action.service } as const;
  return [
    { kind: 'alarm-ok', alarmName },
    action.action === 'scale-out'
      ? { ...service, desiredAtLeast: target }
      : { ...service, notDeployment: deploymentBefore },
  ];
}
