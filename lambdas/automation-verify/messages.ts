/**
 * The words of the verifier's escalation: what the automated action did and what the verifier
 * saw instead of its effect, from the facts logic.ts hands over. Nothing here decides or calls AWS.
 */

import type { VerificationRequest } from '../../core/automation/checks';
import type { Verification } from '../../core/automation/record';
import type { Severity } from '../../core/automation/severity';
import type { Notice } from '../../core/notice';

/** An action whose effect is missing, and where its escalation goes. */
export interface EscalationFacts {
  readonly environment: string;
  readonly request: VerificationRequest;
  readonly verification: Pick<Verification, 'at' | 'saw' | 'lateMinutes'>;
  /** The severity escalated to; `capped` when the request's was already the highest. */
  readonly to: Severity;
  readonly capped: boolean;
}

export function escalationNotice({
  environment,
  request,
  verification,
  to,
  capped,
}: EscalationFacts): Notice {
  return {
    subject: `[${environment}] ${to} ESCALATED: ${request.action} did not fix ${request.trigger}`,
    message: [
      `The automated ${request.action} did NOT have its effect: ESCALATED ${capped ? `(already ${to})` : `${request.severity} -> ${to}`}.`,
      '',
      `What it did (${request.source}, ${request.actedAt}): ${request.did}`,
      `Called for by: ${request.trigger} (${request.severity}).`,
      '',
      `What the verifier saw at ${verification.at}${verification.lateMinutes ? ` (${verification.lateMinutes} minutes late)` : ''}:`,
      ...verification.saw.map((s) => `- ${s}`),
      '',
      'A human decides now: follow the runbook section of the alarm; `npm run ops -- automation status` lists the ' +
        'recent automated actions and their verification, `npm run ops -- automation pause` stops the automation.',
      '',
      `Record ${request.recordSk} (${environment}).`,
    ].join('\n'),
  };
}
