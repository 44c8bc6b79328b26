/**
 * The AUTOMATION variable (core/automation/): the repeat guard, the verification delay, the
 * topics of the escalations and where verifications are scheduled. One JSON variable that every
 * acting Lambda's contract carries (remediation, traffic-rollback, traffic-shift, budget-guard,
 * spend-guard), and the verifier's own contract (lambdas/automation-verify).
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { topicArnsRule, wholeNumber } from './common';
import { arn, defineContract, json, nonBlank, type ValuesOf } from './contract';

/** The bounds of the automation settings; lib/config's `automation` uses them. */
export const AUTOMATION_RULES = {
  /** More than this many of the same action for the same alarm within the window escalates. */
  repeatMax: wholeNumber(1, 20),
  repeatWindowMinutes: wholeNumber(5, 24 * 60),
  /** Each action's effect is read back this long after it. */
  verifyAfterMinutes: wholeNumber(1, 60),
} as const;

const settingsRule = z.strictObject({
  environment: nonBlank,
  opsTableName: nonBlank,
  repeat: z.strictObject({
    max: AUTOMATION_RULES.repeatMax,
    windowMinutes: AUTOMATION_RULES.repeatWindowMinutes,
  }),
  verifyAfterMinutes: AUTOMATION_RULES.verifyAfterMinutes,
  topics: topicArnsRule,
  /** Where the acting Lambdas schedule verifications; absent in the verifier's own settings. */
  verifier: z
    .strictObject({
      functionArn: arn,
      roleArn: arn,
      scheduleGroup: z.string().regex(/^[0-9a-zA-Z-_.]{1,64}$/, 'must be a schedule group name'),
      deadLetterQueueArn: arn,
    })
    .optional(),
});

/** The automation settings of a Lambda (the AUTOMATION variable's value). */
export type AutomationSettings = z.output<typeof settingsRule>;

/** The AUTOMATION variable: a field of every acting Lambda's contract. */
export const automationVariable = json('AUTOMATION', settingsRule);

export const automationVerifyContract = defineContract('automation-verify', {
  /** Its own settings: the topics and the ops table (it schedules nothing, so no `verifier`). */
  automation: automationVariable,
});
export type AutomationVerifyValues = ValuesOf<typeof automationVerifyContract>;
