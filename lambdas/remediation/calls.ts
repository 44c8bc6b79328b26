import { declareCalls } from '../../core/calls';
import { AUDIT_PK, REMEDIATION_EVENT_PK, REMEDIATION_RATE_PK, TRAFFIC_PK } from '../../core/ops-table/keys';

/** What remediation calls (lib/constructs/remediation.ts grants exactly this). */
export const REMEDIATION_CALLS = declareCalls({
  services: { actions: ['ecs:DescribeServices', 'ecs:UpdateService'] },
  weightsParameter: { actions: ['ssm:GetParameter'] },
  // The shift lock is read so that no remediation runs in the middle of a traffic shift.
  shiftLock: { actions: ['dynamodb:GetItem'], partitions: [TRAFFIC_PK] },
  // The event's claim: put, then updated with its outcome.
  claims: { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], partitions: [REMEDIATION_EVENT_PK] },
  // The hour's counter: a slot taken or refunded by update, read when a take's condition fails
  // (the limit, or a slot this event already holds).
  rateLimit: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], partitions: [REMEDIATION_RATE_PK] },
  audit: { actions: ['dynamodb:PutItem'], partitions: [AUDIT_PK] },
  alerts: { actions: ['sns:Publish'] },
});
