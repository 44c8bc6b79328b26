import { declareCalls } from '../shared/calls';
import { AUDIT_PK, TRAFFIC_PK } from '../shared/ops-keys';

/** What the automatic rollback calls (lib/constructs/traffic-shifter.ts grants exactly this). */
export const TRAFFIC_ROLLBACK_CALLS = declareCalls({
  listeners: { actions: ['elasticloadbalancing:DescribeListeners'] },
  listener: { actions: ['elasticloadbalancing:ModifyListener'] },
  weightsParameter: { actions: ['ssm:PutParameter'] },
  // A running shift is stopped before its weights are restored.
  shiftExecutions: { actions: ['states:StopExecution'] },
  opsTable: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    partitions: [TRAFFIC_PK, AUDIT_PK],
  },
  alerts: { actions: ['sns:Publish'] },
});
