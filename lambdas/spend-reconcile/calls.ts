import { declareCalls } from '../../core/calls';

/** What the reconciliation calls in AWS (lib/constructs/spend-reconciliation.ts grants exactly this). */
export const SPEND_RECONCILE_CALLS = declareCalls({
  // The providers' admin keys, one secret each.
  adminKeys: { actions: ['secretsmanager:GetSecretValue'] },
  // GetMetricData has no resource-level permissions.
  reportedSpend: { actions: ['cloudwatch:GetMetricData'] },
});
