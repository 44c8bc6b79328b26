import { declareCalls } from '../../core/calls';
import { AUDIT_PK, TRAFFIC_PK } from '../../core/ops-table/keys';

/** What the automatic rollback calls (lib/constructs/traffic-shifter.ts grants exactly this). */
export const TRAFFIC_ROLLBACK_CALLS = declareCalls({
  listeners: { actions: ['elasticloadbalancing:DescribeListeners'] },
  listener: { actions: ['elasticloadbalancing:ModifyListener'] },
  // The stored weights are read when there is no recorded shift to roll back to.
  weightsParameter: { actions: ['ssm:GetParameter', 'ssm:PutParameter'] },
  // A running shift is stopped before its weights are restored.
  shiftExecutions: { actions: ['states:StopExecution'] },
  opsTable: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    partitions: [TRAFFIC_PK, AUDIT_PK],
  },
  alerts: { actions: ['sns:Publish'] },
});
