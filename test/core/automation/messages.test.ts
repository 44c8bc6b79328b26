import { describe, expect, it } from 'vitest';
import type { Intent } from '../../../core/automation/guard';
import { pausedNotice, repeatedNotice } from '../../../core/automation/messages';

const ALARM = 'fa-ai-system-prod-blue-cpu-high';
const INTENT: Intent = {
  action: 'scale-out',
  trigger: ALARM,
  severity: 'P2',
  source: 'remediation',
  wouldDo: 'scale blue out from 2 to 3 tasks',
};
const REPEAT = { max: 3, windowMinutes: 60, count: 3 };

describe('held automation notices', () => {
  it('says a paused action was NOT done, who paused and until when, and how to resume', () => {
    // A two-hour pause.
    const at = new Date('2026-11-25T04:00:00.000Z');
    const until = new Date(at.getTime() + 2 * 3_600_000);
    const pause = { by: 'bob', at: at.toISOString(), until: until.toISOString(), reason: 'incident 4711' };
    expect(pausedNotice({ environment: 'prod', intent: INTENT, pause })).toEqual({
      subject: `[prod] P2 automation PAUSED: scale-out NOT done (${ALARM})`,
      message:
        'NOT done, automation is PAUSED (paused by bob at 2026-11-25T04:00:00.000Z until ' +
        '2026-11-25T06:00:00.000Z: incident 4711): remediation would have scale blue out from 2 to 3 tasks, ' +
        `for ${ALARM}. A human decides: do it by hand if needed, or \`npm run ops -- automation resume\`.`,
    });
  });

  it('escalates a repeating action one severity up with how often it ran in the window', () => {
    expect(
      repeatedNotice({ environment: 'prod', intent: INTENT, ...REPEAT, to: 'P1', capped: false }),
    ).toEqual({
      subject: `[prod] P1 ESCALATED: scale-out repeating for ${ALARM}, NOT done again`,
      message:
        `NOT done, ESCALATED P2 -> P1: scale-out already ran 3 times for ${ALARM} in the last 60 minutes ` +
        '(at most 3); repeating it is not fixing the cause. remediation would have scale blue out from 2 to 3 ' +
        'tasks. A human decides (`npm run ops -- automation status` lists what was done and verified).',
    });
  });

  it('says a repeating P0 action stays at P0', () => {
    const notice = repeatedNotice({
      environment: 'prod',
      intent: { ...INTENT, severity: 'P0' },
      ...REPEAT,
      to: 'P0',
      capped: true,
    });
    expect(notice.subject).toBe(`[prod] P0 ESCALATED: scale-out repeating for ${ALARM}, NOT done again`);
    expect(notice.message).toMatch(/^NOT done, ESCALATED \(already P0\): scale-out already ran 3 times/);
  });
});
