import { declareCalls } from '../../core/calls';
import { AUDIT_PK, AUTOMATION_ACTION_PK } from '../../core/ops-table/keys';

/** What the verifier calls (lib/constructs/automation.ts grants exactly this). */
export const AUTOMATION_VERIFY_CALLS = declareCalls({
  // The alarm that called for the action: back to OK?
  alarms: { actions: ['cloudwatch:DescribeAlarms'] },
  // Desired and running counts, the PRIMARY deployment.
  services: { actions: ['ecs:DescribeServices'] },
  // The live weights: no resource-level permissions.
  listeners: { actions: ['elasticloadbalancing:DescribeListeners'] },
  weightsParameter: { actions: ['ssm:GetParameter'] },
  // The kill switch's effect.
  batchSchedule: { actions: ['scheduler:GetSchedule'] },
  batchStateMachine: { actions: ['states:ListExecutions'] },
  // The action's record: read, then its verification written once (conditional); put whole when
  // the acting Lambda could not write it.
  records: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    partitions: [AUTOMATION_ACTION_PK],
  },
  audit: { actions: ['dynamodb:PutItem'], partitions: [AUDIT_PK] },
  escalations: { actions: ['sns:Publish'] },
});

/** What the scheduler's role does: deliver the verification, or dead-letter it. */
export const AUTOMATION_VERIFY_SCHEDULER_CALLS = declareCalls({
  verifier: { actions: ['lambda:InvokeFunction'] },
  deadLetterQueue: { actions: ['sqs:SendMessage'] },
});
