/**
 * What the automation tells humans: a notice published on an SNS topic. One way to publish it
 * for the Lambdas and the CLI, the subject made fit for SNS.
 */

import { PublishCommand, type PublishCommandOutput, type SNSClient } from '@aws-sdk/client-sns';

/** A notice for humans: its subject line and its text. */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}

const SUBJECT_MAX = 100;

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, ' ');
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3)}...`;
}

/** Publishes `notice` on `topicArn`. */
export function publishNotice(
  sns: SNSClient,
  topicArn: string,
  notice: Notice,
): Promise<PublishCommandOutput> {
  return sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: snsSubject(notice.subject), Message: notice.message }),
  );
}

/**
 * Publishes `notice` as best effort: false, after `onFailure` (the caller logs it), when it could
 * not be. For the notices whose loss must not fail what was done.
 */
export async function tryPublishNotice(
  sns: SNSClient,
  topicArn: string,
  notice: Notice,
  onFailure: (error: unknown) => void,
): Promise<boolean> {
  try {
    await publishNotice(sns, topicArn, notice);
    return true;
  } catch (error) {
    onFailure(error);
    return false;
  }
}
