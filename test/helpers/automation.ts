/**
 * The AUTOMATION variable (core/contracts/automation.ts) as the stack writes it, for the acting
 * Lambdas' and the verifier's tests, and a CreateSchedule answer of the documented shape.
 */
import { type AutomationSettings, automationVariable } from '../../core/contracts/automation';

export const AUTOMATION_REGION = 'ap-northeast-1';
export const AUTOMATION_ACCOUNT = '123456789012';
const arn = (service: string, rest: string) =>
  `arn:aws:${service}:${AUTOMATION_REGION}:${AUTOMATION_ACCOUNT}:${rest}`;

export const VERIFY_GROUP = 'fa-ai-system-prod-verify';
export const VERIFIER_ARN = arn('lambda', 'function:fa-ai-system-prod-automation-verify');
export const VERIFY_SCHEDULER_ROLE = `arn:aws:iam::${AUTOMATION_ACCOUNT}:role/fa-ai-system-prod-verify-scheduler`;
export const VERIFY_DLQ = arn('sqs', 'fa-ai-system-prod-verify-dlq');
export const AUTOMATION_TOPICS = {
  P0: arn('sns', 'fa-ai-system-prod-alerts-p0'),
  P1: arn('sns', 'fa-ai-system-prod-alerts-p1'),
  P2: arn('sns', 'fa-ai-system-prod-alerts-p2'),
  P3: arn('sns', 'fa-ai-system-prod-alerts-p3'),
} as const;

/** The settings of environment prod on `opsTableName`; `change` edits a copy. */
export function automationSettings(
  opsTableName: string,
  change: (s: { -readonly [K in keyof AutomationSettings]: AutomationSettings[K] }) => void = () => {},
): AutomationSettings {
  const settings = {
    environment: 'prod',
    opsTableName,
    repeat: { max: 3, windowMinutes: 60 },
    verifyAfterMinutes: 10,
    topics: { ...AUTOMATION_TOPICS },
    verifier: {
      functionArn: VERIFIER_ARN,
      roleArn: VERIFY_SCHEDULER_ROLE,
      scheduleGroup: VERIFY_GROUP,
      deadLetterQueueArn: VERIFY_DLQ,
    },
  };
  change(settings);
  return settings;
}

/** `{ AUTOMATION: <json> }` for a function's environment. */
export function automationEnv(
  opsTableName: string,
  change?: Parameters<typeof automationSettings>[1],
): { AUTOMATION: string } {
  return { AUTOMATION: automationVariable.encode(automationSettings(opsTableName, change), JSON.stringify) };
}

/** CreateSchedule's answer. */
export function scheduleCreated(input: { Name?: string; GroupName?: string }) {
  return {
    $metadata: {},
    ScheduleArn: arn('scheduler', `schedule/${input.GroupName ?? 'default'}/${input.Name ?? 'unnamed'}`),
  };
}
