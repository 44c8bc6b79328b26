/**
 * What every acting Lambda calls for the automation (pause, repeat guard, record, the
 * verification schedule, the escalation), declared once; lib/constructs/automation.ts grants it
 * next to the Lambda's own declaration. Types and data only.
 */

import { declareCalls } from '../calls';
import { AUDIT_PK, AUTOMATION_ACTION_PK, AUTOMATION_PK } from '../ops-table/keys';

/** Recording an action and scheduling its verification (every acting Lambda). */
export const AUTOMATION_RECORDING_CALLS = declareCalls({
  // Each action taken puts its record.
  automationRecords: { actions: ['dynamodb:PutItem'], partitions: [AUTOMATION_ACTION_PK] },
  automationVerifySchedules: { actions: ['scheduler:CreateSchedule'] },
  // CreateSchedule passes the scheduler's role, which may invoke only the verifier.
  automationVerifySchedulerRole: { actions: ['iam:PassRole'] },
});

/** The above, and the pause and repeat guard before acting (all but the shift's rollback). */
export const AUTOMATION_ACTING_CALLS = declareCalls({
  ...AUTOMATION_RECORDING_CALLS,
  // The pause is read, never written, by the Lambdas.
  automationPause: { actions: ['dynamodb:GetItem'], partitions: [AUTOMATION_PK] },
  // The repeat guard counts the records.
  automationRepeats: { actions: ['dynamodb:Query'], partitions: [AUTOMATION_ACTION_PK] },
  // A held action (paused, repeating) is audited.
  automationAudit: { actions: ['dynamodb:PutItem'], partitions: [AUDIT_PK] },
  // Reports and escalations, on any severity's topic.
  automationTopics: { actions: ['sns:Publish'] },
});
