import { declareCalls } from '../../core/calls';
import { KILL_SWITCH_CALLS } from '../../core/kill-switch/calls';
import { BATCH_RUN_PK, SPEND_ALERT_PK, SPEND_GUARD_PK } from '../../core/ops-table/keys';

/** What the spend guard calls (lib/constructs/spend-guard.ts grants exactly this). */
export const SPEND_GUARD_CALLS = declareCalls({
  // At the kill threshold it engages the kill switch itself: the same code path, the same calls.
  ...KILL_SWITCH_CALLS,
  // LLM spend (LlmCostUsd) and the queries it is checked against; no resource-level permissions.
  metrics: { actions: ['cloudwatch:GetMetricData'] },
  // AWS spend: DescribeBudget of the four budgets.
  budgets: { actions: ['budgets:ViewBudget'] },
  // The thresholds acted on (claimed, completed, read per month) and the "spend unknown" state.
  spendTable: {
    actions: [
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ],
    partitions: [SPEND_ALERT_PK, SPEND_GUARD_PK],
  },
  // Whether a batch run is going on (cost data must flow while it does).
  batchRuns: { actions: ['dynamodb:Query'], partitions: [BATCH_RUN_PK] },
  alerts: { actions: ['sns:Publish'] },
});
