/**
 * The remediation Lambda's configuration: its contract's values (core/contracts/remediation.ts),
 * which the construct writes and this function parses. Every setting is config's (lib/config).
 */
import type { FunctionEnv } from '../../core/contracts/contract';
import {
  type RemediationSettings,
  type RemediationValues,
  remediationContract,
} from '../../core/contracts/remediation';

/** The alarm severities; each has its own SNS topic. */
export { SEVERITIES, type Severity } from '../../core/alarms/vocabulary';
export {
  REMEDIATION_ACTIONS,
  type RemediationAction,
  type RemediationSettings,
} from '../../core/contracts/remediation';

/** The switches and limits of one action. */
export type ActionSettings = RemediationSettings['actions']['force-new-deployment'];

/** What the remediation Lambda acts on and whom it tells. */
export type RemediationConfig = RemediationValues;

/** The environment variables of the remediation Lambda (see {@link configFromEnv}). */
export type RemediationEnv = FunctionEnv;

/**
 * The configuration from the function's environment (the variables of remediationContract).
 * Throws InvalidInputError naming every bad variable.
 */
export function configFromEnv(env: RemediationEnv): RemediationConfig {
  return remediationContract.parse(env);
}
