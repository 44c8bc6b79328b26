/**
 * AWS Budgets notifications as Budgets publishes them to SNS (plain text, also the e-mail body),
 * and the SNS -> Lambda event around them.
 */

export const ACCOUNT_ID = '222222222222';
export const REGION = 'ap-northeast-1';
export const BUDGET_NAME = 'fa-ai-system-prod-monthly';

/** The runbook's 100% notification, exactly as Budgets writes it. */
export const ACTUAL_100 = `AWS Budget Notification November 25, 2026
AWS Account 222222222222

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your fa-ai-system-prod-monthly budget is greater than $2,000.00 for the current month. The ACTUAL Cost associated with this budget is $2,001.37. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: fa-ai-system-prod-monthly
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: ACTUAL
Alert Threshold: > $2,000.00
ACTUAL Amount: $2,001.37

[1] https://console.aws.amazon.com/billing/home#/budgets
`;

/** The same notification as forwarded from an e-mail client, with its subject line on top. */
export const ACTUAL_100_WITH_SUBJECT = `Subject: AWS Budgets: fa-ai-system-prod-monthly has exceeded your alert threshold

${ACTUAL_100}`;

/** The 90% (P1 page) notification: under the kill threshold. */
export const ACTUAL_90 = `AWS Budget Notification November 22, 2026
AWS Account 222222222222

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your fa-ai-system-prod-monthly budget is greater than $1,800.00 for the current month. The ACTUAL Cost associated with this budget is $1,812.40. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: fa-ai-system-prod-monthly
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: ACTUAL
Alert Threshold: > $1,800.00
ACTUAL Amount: $1,812.40

[1] https://console.aws.amazon.com/billing/home#/budgets
`;

/** The forecast warning: predicted over 100%, actual spend still well under. */
export const FORECASTED_100 = `AWS Budget Notification November 12, 2026
AWS Account 222222222222

Dear AWS Customer,

You requested that we alert you when the FORECASTED Cost associated with your fa-ai-system-prod-monthly budget is greater than $2,000.00 for the current month. The FORECASTED Cost associated with this budget is $2,310.55. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: fa-ai-system-prod-monthly
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: FORECASTED
Alert Threshold: > $2,000.00
FORECASTED Amount: $2,310.55

[1] https://console.aws.amazon.com/billing/home#/budgets
`;

/** A threshold written as a percentage of the budgeted amount. */
export const ACTUAL_100_PERCENT_THRESHOLD = `AWS Budget Notification November 26, 2026
AWS Account 222222222222

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your fa-ai-system-prod-monthly budget is greater than 100.00% of $2,000.00 for the current month. The ACTUAL Cost associated with this budget is $2,004.10. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: fa-ai-system-prod-monthly
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: ACTUAL
Alert Threshold: > 100.00%
ACTUAL Amount: $2,004.10

[1] https://console.aws.amazon.com/billing/home#/budgets
`;

/**
 * CRLF line endings, padded and re-ordered fields, lower- and upper-case labels, a
 * non-breaking space, a large amount with two thousands separators.
 */
export const ACTUAL_CRLF_MESSY = [
  'AWS Budget Notification November 27, 2026  ',
  '  AWS Account 222222222222',
  '',
  'Dear AWS Customer,',
  '',
  '   actual amount :   $1,002,500.75   ',
  'ALERT TYPE:actual',
  '\tBudget Name:\u00a0 fa-ai-system-prod-monthly  ',
  'alert threshold:  >  $1,000,000.00',
  'Budgeted  Amount: $1,000,000.00',
  'budget type: Cost',
  '',
  '[1] https://console.aws.amazon.com/billing/home#/budgets',
  '',
].join('\r\n');

/** Another budget (the batch component budget) at 100%: never engages the kill switch. */
export const OTHER_BUDGET_100 = `AWS Budget Notification November 25, 2026
AWS Account 222222222222

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your fa-ai-system-prod-batch budget is greater than $900.00 for the current month. The ACTUAL Cost associated with this budget is $951.02. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: fa-ai-system-prod-batch
Budget Type: Cost
Budgeted Amount: $900.00
Alert Type: ACTUAL
Alert Threshold: > $900.00
ACTUAL Amount: $951.02

[1] https://console.aws.amazon.com/billing/home#/budgets
`;

/** The 100% notification without its Budgeted Amount line. */
export const MISSING_BUDGETED_AMOUNT = ACTUAL_100.replace('Budgeted Amount: $2,000.00\n', '');

/** Not a Budgets notification at all (a test message published by hand). */
export const GARBAGE = 'Hello from the SNS console! Testing 1, 2, 3.';

/** The subject Budgets sets (SNS subjects are capped at 100 characters). */
export const SUBJECT = `AWS Budgets: ${BUDGET_NAME} has exceeded your alert threshold`;

export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-budget-kill-switch`;

/** An SNS -> Lambda event delivering `message`, as Lambda receives it. */
export function snsEvent(
  message: string,
  options: { messageId?: string; subject?: string | null } = {},
): Record<string, unknown> {
  const messageId = options.messageId ?? '95df01b4-ee98-5cb9-9903-4c221d41eb5e';
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: TOPIC_ARN,
          Subject: options.subject === undefined ? SUBJECT : options.subject,
          Message: message,
          Timestamp: '2026-11-25T04:12:33.190Z',
          SignatureVersion: '1',
          Signature:
            'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
          SigningCertUrl:
            'https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
          UnsubscribeUrl: `https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:2bcfbf39`,
          MessageAttributes: {},
        },
      },
    ],
  };
}
