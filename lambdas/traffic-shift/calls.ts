import { declareCalls } from '../../core/calls';
import { AUDIT_PK, TRAFFIC_PK } from '../../core/ops-table/keys';

/** What the shift steps call (lib/constructs/traffic-shifter.ts grants exactly this). */
export const TRAFFIC_SHIFT_CALLS = declareCalls({
  // DescribeListeners has no resource-level permissions.
  listeners: { actions: ['elasticloadbalancing:DescribeListeners'] },
  listener: { actions: ['elasticloadbalancing:ModifyListener'] },
  weightsParameter: { actions: ['ssm:PutParameter'] },
  gateAlarms: { actions: ['cloudwatch:DescribeAlarms'] },
  opsTable: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    partitions: [TRAFFIC_PK, AUDIT_PK],
  },
  alerts: { actions: ['sns:Publish'] },
});
