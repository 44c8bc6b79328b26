import { describe, expect, it } from 'vitest';
import type { Recorded } from '../../../core/automation';
import type { RollbackResult } from '../../../core/traffic';
import * as messages from '../../../lambdas/traffic-rollback/messages';

const ALARM = 'fa-ai-system-prod-p0-composite';
const STATE_TIME = '2026-11-25T04:12:31.146+0000';
const WHY = `P0 alarm ${ALARM} in ALARM since ${STATE_TIME}: Threshold Crossed`;
const WEIGHTS_PARAMETER = '/fa-ai-system/prod/traffic/weights';

const ROLLED_BACK: RollbackResult = {
  changed: true,
  outcome: 'rolled-back',
  reason: 'restored blue 100 / green 0, the weights the shift to green started from',
  restored: { blue: 100, green: 0 },
  previous: { blue: 0, green: 100 },
  problems: [],
};

/** A rollback that changed nothing, for `reason`. */
function nothingChanged(outcome: RollbackResult['outcome'], reason: string): RollbackResult {
  return { changed: false, outcome, reason, problems: [] };
}

/** The notice of a rollback in prod with `result`, recorded as `recorded` when it changed the weights. */
function resultNotice(result: RollbackResult, recorded?: Recorded) {
  return messages.resultNotice({
    environment: 'prod',
    why: WHY,
    result,
    weightsParameter: WEIGHTS_PARAMETER,
    recorded,
  });
}

describe('automatic rollback notices', () => {
  it('words the alarm with its state time, and its reason when the event has one', () => {
    expect(
      messages.alarmWhy({ alarmName: ALARM, stateTime: STATE_TIME, stateReason: 'Threshold Crossed' }),
    ).toBe(WHY);
    expect(messages.alarmWhy({ alarmName: ALARM, stateTime: STATE_TIME })).toBe(
      `P0 alarm ${ALARM} in ALARM since ${STATE_TIME}`,
    );
  });

  it('tells of an alarm the catalogue lacks that nothing was done and what to do by hand', () => {
    const facts = { environment: 'prod', alarmName: 'fa-ai-system-prod-new', stateTime: STATE_TIME };
    expect(messages.unknownAlarmReason(facts)).toBe(
      'fa-ai-system-prod-new is not in the alarm catalogue of prod, yet its event reached the automatic rollback: nothing was done',
    );
    expect(messages.unknownAlarmNotice(facts)).toEqual({
      subject: '[prod] Automatic rollback: unknown alarm fa-ai-system-prod-new, NO action',
      message: [
        `${messages.unknownAlarmReason(facts)}.`,
        '',
        `Alarm: fa-ai-system-prod-new in ALARM since ${STATE_TIME}.`,
        'Check it and the traffic by hand (`npm run ops -- weights`; to roll back: `npm run ops -- rollback`), ' +
          'and give the alarm an entry in core/alarms/catalogue.ts or take it out of the rollback rule.',
      ].join('\n'),
    });
  });

  it('tells of a stale event how old it was, against the maximum age, rounded to minutes', () => {
    const facts = {
      environment: 'prod',
      why: WHY,
      alarmAt: new Date('2026-11-25T04:12:31.146Z'),
      now: new Date('2026-11-25T04:39:31.146Z'),
      ageMinutes: 26.6,
      maxEventAgeMinutes: 15,
    };
    const reason =
      'the alarm changed state at 2026-11-25T04:12:31.146Z, 27 minutes before this event was processed ' +
      '(2026-11-25T04:39:31.146Z), over the 15-minute maximum age: its evidence is stale, nothing was done';
    expect(messages.staleReason(facts)).toBe(reason);
    expect(messages.staleNotice(facts)).toEqual({
      subject: '[prod] P0: automatic rollback did NOT act (event 27 min old)',
      message: [
        `The P0 alarm fired (${WHY}), but the automatic rollback (prod) did NOT act:`,
        `${reason}.`,
        '',
        'Check the P0 alarm and the traffic now (`npm run ops -- weights`); to roll back by hand: `npm run ops -- rollback`.',
      ].join('\n'),
    });
  });

  it('says the automation state could not be read, with the error and the manual rollback', () => {
    expect(
      messages.automationUnreadableNotice({ environment: 'prod', why: WHY, error: 'AccessDenied: no' }),
    ).toEqual({
      subject: '[prod] P0: automatic rollback did NOT act (automation state unreadable)',
      message:
        `The P0 alarm fired (${WHY}); the automatic rollback did NOT act: the automation pause and repeat guard ` +
        'cannot be read (AccessDenied: no). Lambda retries the event; roll back by hand if needed: ' +
        '`npm run ops -- rollback`.',
    });
  });

  it('says the rollback FAILED with the error and that Lambda retries', () => {
    expect(
      messages.rollbackFailedNotice({ environment: 'prod', why: WHY, error: 'WeightsNotWrittenError: x' }),
    ).toEqual({
      subject: '[prod] Automatic traffic rollback FAILED',
      message: [
        `The P0 alarm fired (${WHY}) and the automatic rollback (prod) FAILED:`,
        'WeightsNotWrittenError: x',
        '',
        'Lambda retries the event; if this repeats, run `npm run ops -- rollback` and check `npm run ops -- weights`.',
      ].join('\n'),
    });
  });

  it('names the restored weights of a rollback, the stopped shift, failed follow-ups and the verification', () => {
    const recorded: Recorded = {
      recordSk: '2026-11-25T04:13:00.000Z#x',
      verifyAt: '2026-11-25T04:23:00.000Z',
      scheduleName: 'verify-traffic-rollback-1-x',
      scheduled: true,
      problems: [],
    };
    const notice = resultNotice(
      { ...ROLLED_BACK, stoppedExecution: 'arn:exec:1', problems: ['release the lock: x'] },
      recorded,
    );
    expect(notice).toEqual({
      subject: '[prod] P0: traffic rolled back to blue 100 / green 0',
      message: [
        'The P0 alarm fired and the traffic was rolled back automatically (prod).',
        '',
        `Alarm: ${WHY}.`,
        `Done: ${ROLLED_BACK.reason}.`,
        'Stopped the running shift: arn:exec:1.',
        '',
        'These follow-up actions failed:',
        '- release the lock: x',
        '',
        `Weights now blue 100 / green 0 on the listener and in ${WEIGHTS_PARAMETER}. Check: \`npm run ops -- weights\`.`,
        '',
        'Verification: at 2026-11-25T04:23:00.000Z the effect is read back; if it is missing, this escalates one severity up.',
      ].join('\n'),
    });
  });

  it('says why nothing changed, pointing at the runbook when no shift is in effect', () => {
    const notice = resultNotice(nothingChanged('already-rolled-back', 'the weights are already x'));
    expect(notice.subject).toBe('[prod] P0: automatic rollback did nothing (already-rolled-back)');
    const [first, , alarm, ...rest] = notice.message.split('\n');
    expect(first).toBe('The P0 alarm fired; the automatic rollback changed nothing (prod).');
    expect(alarm).toBe(`Alarm: ${WHY}.`);
    expect(rest).toEqual([
      'Why nothing: the weights are already x.',
      '',
      'The alarm is not caused by a traffic shift still in effect: follow the P0 runbook.',
    ]);
  });

  it('offers the manual rollback when the window or the cool-down held it', () => {
    const notice = resultNotice(nothingChanged('cooldown', 'rolled back 3 minutes ago'));
    expect(notice.subject).toBe('[prod] P0: automatic rollback did nothing (cooldown)');
    expect(notice.message.split('\n').at(-1)).toBe('To roll back anyway: `npm run ops -- rollback`.');
  });
});
