import { describe, expect, it } from 'vitest';
import { unreadableNotificationNotice } from '../../../lambdas/budget-guard/messages';

const FACTS = {
  environment: 'prod',
  messageId: 'msg-1',
  missing: ['Budgeted Amount', 'Alert Threshold'],
  invalid: ['Actual Amount: "lots" is not an amount'],
  schedule: 'fa-ai-system-prod/weekly-batch',
};

describe('budget guard notices', () => {
  it('says an unreadable notification was NOT acted on, with its problems and what to check by hand', () => {
    expect(unreadableNotificationNotice({ ...FACTS, subject: 'AWS Budgets: monthly has exceeded' })).toEqual({
      subject: 'Budget kill switch: unreadable budget notification',
      message: [
        'The budget guard (prod) could not parse a budget notification ' +
          '(SNS message msg-1, subject "AWS Budgets: monthly has exceeded").',
        '',
        'Problems: missing: Budgeted Amount, Alert Threshold; Actual Amount: "lots" is not an amount.',
        '',
        'NO action was taken: the batch was NOT disabled. Check the budget in the AWS Budgets console ' +
          'and the batch schedule fa-ai-system-prod/weekly-batch by hand.',
      ].join('\n'),
    });
  });

  it('names only the SNS message when the notification had no subject', () => {
    expect(unreadableNotificationNotice(FACTS).message.split('\n')[0]).toBe(
      'The budget guard (prod) could not parse a budget notification (SNS message msg-1).',
    );
  });

  it('lists only the kinds of problem found', () => {
    expect(unreadableNotificationNotice({ ...FACTS, missing: [] }).message.split('\n')[2]).toBe(
      'Problems: Actual Amount: "lots" is not an amount.',
    );
  });
});
