/**
 * What every acting Lambda calls for the automation (pause, repeat guard, record, the
 * verification schedule, the escalation), declared once; lib/constructs/automation.ts grants it
 * next to the Lambda's own declaration. Types and data only.
 */

import { declareCalls } from '../../lambdas/shared/calls';
import { AUDIT_PK, AUTOMATION_ACTION_PK, AUTOMATION_PK } from '../../lambdas/shared/ops-keys';

export const AUTOMATION_ACTING_CALLS = declareCalls({
  // The pause is read, never written, by the Lambdas.
  automationPause: { actions: ['dynamodb:GetItem'], partitions: [AUTOMATION_PK] },
  // The repeat guard counts the records; each action taken puts one.
  automationActions: { actions: ['dynamodb:Query', 'dynamodb:PutItem'], partitions: [AUTOMATION_ACTION_PK] },
  // A held action (paused, repeating) is audited.
  automationAudit: { actions: ['dynamodb:PutItem'], partitions: [AUDIT_PK] },
  automationVerifySchedules: { actions: ['scheduler:CreateSchedule'] },
  // CreateSchedule passes the scheduler's role, which may invoke only the verifier.
  automationVerifySchedulerRole: { actions: ['iam:PassRole'] },
  // Reports and escalations, on any severity's topic.
  automationTopics: { actions: ['sns:Publish'] },
});
