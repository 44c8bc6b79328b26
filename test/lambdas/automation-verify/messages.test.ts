import { describe, expect, it } from 'vitest';
import type { VerificationRequest } from '../../../core/automation/checks';
import { escalationNotice } from '../../../lambdas/automation-verify/messages';

const ALARM = 'fa-ai-system-prod-blue-cpu-high';
const REQUEST: VerificationRequest = {
  kind: 'automation-verify',
  version: 1,
  recordSk: '2026-11-25T04:13:00.000Z#abc',
  environment: 'prod',
  action: 'scale-out',
  trigger: ALARM,
  severity: 'P2',
  source: 'remediation',
  did: 'Scaled the blue (live) service svc out from 2 to 3 tasks (max 10).',
  actedAt: '2026-11-25T04:13:00.000Z',
  verifyAt: '2026-11-25T04:23:00.000Z',
  checks: [{ kind: 'alarm-ok', alarmName: ALARM }],
};
const SAW = { at: '2026-11-25T04:23:01.000Z', saw: [`MISSING: ${ALARM} is ALARM`, 'OK: svc runs 3 tasks'] };
const ADVICE =
  'A human decides now: follow the runbook section of the alarm; `npm run ops -- automation status` lists the ' +
  'recent automated actions and their verification, `npm run ops -- automation pause` stops the automation.';

describe('automation verifier notices', () => {
  it('escalates one severity up with what was done, what the verifier saw and the record', () => {
    const notice = escalationNotice({
      environment: 'prod',
      request: REQUEST,
      verification: SAW,
      to: 'P1',
      capped: false,
    });
    expect(notice).toEqual({
      subject: `[prod] P1 ESCALATED: scale-out did not fix ${ALARM}`,
      message: [
        'The automated scale-out did NOT have its effect: ESCALATED P2 -> P1.',
        '',
        `What it did (remediation, 2026-11-25T04:13:00.000Z): ${REQUEST.did}`,
        `Called for by: ${ALARM} (P2).`,
        '',
        'What the verifier saw at 2026-11-25T04:23:01.000Z:',
        `- MISSING: ${ALARM} is ALARM`,
        '- OK: svc runs 3 tasks',
        '',
        ADVICE,
        '',
        'Record 2026-11-25T04:13:00.000Z#abc (prod).',
      ].join('\n'),
    });
  });

  it('says an escalation from P0 stays at P0', () => {
    const notice = escalationNotice({
      environment: 'prod',
      request: { ...REQUEST, severity: 'P0' },
      verification: SAW,
      to: 'P0',
      capped: true,
    });
    expect(notice.subject).toBe(`[prod] P0 ESCALATED: scale-out did not fix ${ALARM}`);
    expect(notice.message.split('\n')[0]).toBe(
      'The automated scale-out did NOT have its effect: ESCALATED (already P0).',
    );
  });

  it('says how late a late verification was', () => {
    const notice = escalationNotice({
      environment: 'prod',
      request: REQUEST,
      verification: { ...SAW, lateMinutes: 12 },
      to: 'P1',
      capped: false,
    });
    expect(notice.message.split('\n')[5]).toBe(
      'What the verifier saw at 2026-11-25T04:23:01.000Z (12 minutes late):',
    );
  });
});
