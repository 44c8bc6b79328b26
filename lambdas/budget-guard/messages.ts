/**
 * The words of the budget guard's own notice: a budget notification it could not read. The
 * kill switch's notices are core/kill-switch's. Nothing here decides or calls AWS.
 */

import type { Notice } from '../../core/notice';

/** A budget notification that could not be parsed: nothing was done. */
export interface UnreadableFacts {
  readonly environment: string;
  readonly messageId: string;
  readonly subject?: string;
  /** The labels of the fields not found. */
  readonly missing: readonly string[];
  /** What was found but unreadable. */
  readonly invalid: readonly string[];
  /** The batch schedule left as it was, group/name. */
  readonly schedule: string;
}

/** The kill switch's alert (publishAlert prefixes the environment). */
export function unreadableNotificationNotice(f: UnreadableFacts): Notice {
  const problems = [...(f.missing.length > 0 ? [`missing: ${f.missing.join(', ')}`] : []), ...f.invalid];
  return {
    subject: 'Budget kill switch: unreadable budget notification',
    message: [
      `The budget guard (${f.environment}) could not parse a budget notification ` +
        `(SNS message ${f.messageId}${f.subject ? `, subject "${f.subject}"` : ''}).`,
      '',
      `Problems: ${problems.join('; ')}.`,
      '',
      'NO action was taken: the batch was NOT disabled. Check the budget in the AWS Budgets ' +
        `console and the batch schedule ${f.schedule} by hand.`,
    ].join('\n'),
  };
}
