import { describe, expect, it } from 'vitest';
import {
  automationUnreadableNotice,
  engagedNotice,
  incompleteNotice,
  notRecordedNotice,
  REENABLE_HELP,
  reenabledNotice,
  reenableIncompleteNotice,
  scheduleEnabledNotice,
  verificationNotScheduledNotice,
} from '../../../core/kill-switch/messages';
import type { EngageTrigger, KillSwitchConfig } from '../../../core/kill-switch/types';

const CONFIG: KillSwitchConfig = {
  environment: 'prod',
  opsTableName: 'ops',
  batchScheduleName: 'weekly',
  batchScheduleGroup: 'batch',
  batchScheduleStateParameter: '/fa/prod/batch/state',
  batchStateMachineArn: 'arn:sm',
  ecsCluster: 'cluster',
  batchTaskFamily: 'batch-task',
  alertTopicArn: 'arn:topic',
};
const TRIGGER: EngageTrigger = {
  source: 'budget-guard',
  action: 'kill-switch-engage',
  actor: 'budget-guard',
  reason: 'actual spend reached the kill threshold',
  deduplicate: true,
  budget: {
    name: 'monthly',
    actualAmount: 1500,
    budgetedAmount: 2000,
    thresholdAmount: 1500,
    thresholdPercent: 75,
  },
  messageId: 'msg-1',
};
const STATE = {
  engaged: true,
  complete: false,
  engagedAt: '2026-11-25T04:00:00.000Z',
  engagedBy: 'budget-guard',
  reason: 'over budget',
};
const FAILURE = { call: 'StopTask', target: 'arn:task/1', error: 'AccessDenied: no' };
const SCHEDULE = 'batch/weekly';

describe('kill switch notices', () => {
  it('names the amounts in the subject of an engagement and lists what is being done', () => {
    const notice = engagedNotice(CONFIG, TRIGGER, STATE, {
      scheduleRef: SCHEDULE,
      executionArns: ['arn:sm:exec:run-1'],
      taskArns: [],
      failuresSoFar: [FAILURE],
    });
    expect(notice).toEqual({
      subject: 'Budget kill switch ENGAGED: batch disabled ($1,500.00 of $2,000.00)',
      message: [
        'Budget kill switch ENGAGED (prod): the weekly batch is being disabled.',
        '',
        'Budget monthly: ACTUAL cost $1,500.00 of budgeted $2,000.00 reached the kill threshold $1,500.00 (75%).',
        'Triggered by budget-guard at 2026-11-25T04:00:00.000Z (SNS message msg-1): actual spend reached the kill threshold.',
        '',
        'Being done now:',
        `- EventBridge Scheduler schedule ${SCHEDULE}: set to DISABLED`,
        '- SSM parameter /fa/prod/batch/state: set to DISABLED (so the next deploy keeps it disabled)',
        '- Step Functions executions stopped: 1 (run-1)',
        '- ECS batch tasks stopped (cluster, family batch-task): none running',
        '',
        'Already failed:',
        '- StopTask arn:task/1: AccessDenied: no',
        '',
        'A follow-up message reports any action that fails.',
        '',
        REENABLE_HELP,
      ].join('\n'),
    });
  });

  it('leaves the amounts out of the subject of an engagement without a budget', () => {
    const { budget: _, ...byHand } = TRIGGER;
    const notice = engagedNotice(CONFIG, byHand, STATE, {
      scheduleRef: SCHEDULE,
      executionArns: [],
      taskArns: [],
      failuresSoFar: [],
    });
    expect(notice.subject).toBe('Budget kill switch ENGAGED: batch disabled');
  });

  it('reports the failed actions of an engagement and what to check by hand', () => {
    expect(incompleteNotice(CONFIG, TRIGGER, [FAILURE], SCHEDULE)).toEqual({
      subject: 'Budget kill switch INCOMPLETE: 1 action(s) failed',
      message: [
        'The kill switch (prod) is recorded as engaged, but 1 action(s) failed:',
        '- StopTask arn:task/1: AccessDenied: no',
        '',
        'Trigger: actual spend reached the kill threshold (by budget-guard).',
        'The invocation fails so that Lambda retries it (the engagement stays recorded as incomplete, so ' +
          'the retry redoes every action); after the retries it lands in the dead-letter queue.',
        `Check by hand: schedule ${SCHEDULE} and SSM parameter /fa/prod/batch/state must be DISABLED, ` +
          'and no execution of arn:sm nor task of family batch-task may be running.',
      ].join('\n'),
    });
  });

  it('says an unrecorded engagement did NOTHING and how to disable the batch by hand', () => {
    expect(notRecordedNotice(CONFIG, TRIGGER, 'ProvisionedThroughputExceeded: slow', SCHEDULE)).toEqual({
      subject: 'Budget kill switch FAILED: batch NOT disabled',
      message: [
        'The kill switch (prod) was triggered but could not record its state in ops, so it took NO action: ' +
          'the batch is NOT disabled.',
        '',
        'Trigger: actual spend reached the kill threshold (by budget-guard, SNS message msg-1).',
        'Error: ProvisionedThroughputExceeded: slow',
        '',
        `Disable the batch by hand: \`npm run ops -- batch disable\`, or set the schedule ${SCHEDULE} ` +
          'to DISABLED AND the SSM parameter /fa/prod/batch/state to DISABLED, then stop the running ' +
          'executions of arn:sm.',
      ].join('\n'),
    });
  });

  it('says an engaged switch found its schedule ENABLED, changing nothing', () => {
    expect(scheduleEnabledNotice(CONFIG, '2026-11-25T04:00:00.000Z', 'alice')).toEqual({
      subject: 'Budget kill switch engaged but batch schedule ENABLED',
      message: [
        'The budget is still over its kill threshold and the kill switch (prod) is recorded as engaged ' +
          `since 2026-11-25T04:00:00.000Z by alice, but the schedule ${SCHEDULE} is ENABLED.`,
        '',
        'Either it was re-enabled outside `npm run ops -- batch enable`, or an earlier engagement did not finish. ' +
          'Nothing was changed. Check, then run `npm run ops -- batch disable` (or `batch enable --force` ' +
          'if running over budget is intended).',
      ].join('\n'),
    });
  });

  it('says who re-enabled the batch, the spend and the engagement it released', () => {
    const notice = reenabledNotice(
      CONFIG,
      { actor: 'alice', reason: 'budget raised' },
      {
        check: { state: 'under', figures: '$900.00 of $2,000.00', thresholdPercent: 75 },
        thresholdAmount: 1500,
        forced: false,
        state: STATE,
        scheduleRef: SCHEDULE,
      },
    );
    expect(notice).toEqual({
      subject: 'Batch re-enabled',
      message: [
        'The batch (prod) was re-enabled by alice: budget raised.',
        '',
        'Spend: $900.00 of $2,000.00; kill threshold $1,500.00 (75%).',
        '',
        'The kill switch had been engaged since 2026-11-25T04:00:00.000Z by budget-guard: over budget.',
        `Schedule ${SCHEDULE} and SSM parameter /fa/prod/batch/state: ENABLED.`,
      ].join('\n'),
    });
  });

  it('says a forced re-enable was FORCED and why, and when the switch was not engaged', () => {
    const notice = reenabledNotice(
      CONFIG,
      { actor: 'alice', reason: 'deadline' },
      {
        check: { state: 'unknown', figures: 'not read', thresholdPercent: undefined },
        thresholdAmount: 0,
        forced: true,
        state: undefined,
        scheduleRef: SCHEDULE,
      },
    );
    expect(notice.subject).toBe('Batch re-enabled (FORCED over budget)');
    expect(notice.message.split('\n').slice(2, 5)).toEqual([
      'Spend: not read; kill threshold $0.00 (?%).',
      'FORCED: the spend could not be read in full.',
      'The kill switch was not engaged.',
    ]);
  });

  it('reports a re-enable that partly failed and that running it again is safe', () => {
    expect(reenableIncompleteNotice(CONFIG, { actor: 'alice' }, [FAILURE])).toEqual({
      subject: 'Batch re-enable INCOMPLETE',
      message: [
        'Re-enabling the batch (prod, by alice) partly failed:',
        '- StopTask arn:task/1: AccessDenied: no',
        '',
        'Run `npm run ops -- batch enable` again (it is safe to repeat).',
      ].join('\n'),
    });
  });

  it('says an automated engagement did NOT act when the automation state is unreadable', () => {
    expect(automationUnreadableNotice('prod', TRIGGER.reason, 'AccessDenied: no')).toEqual({
      subject: '[prod] P1 kill switch NOT engaged: automation state unreadable',
      message:
        'actual spend reached the kill threshold. The kill switch did NOT engage: the automation pause and ' +
        'repeat guard cannot be read (AccessDenied: no). Lambda retries; disable the batch by hand if needed: ' +
        '`npm run ops -- batch disable --reason "..."`.',
    });
  });

  it('says an engagement whose verification could not be scheduled must be checked by hand', () => {
    expect(
      verificationNotScheduledNotice('prod', TRIGGER.reason, ['schedule: denied', 'record: slow']),
    ).toEqual({
      subject: '[prod] P1 kill switch engaged, its verification NOT scheduled',
      message:
        'The kill switch engaged (actual spend reached the kill threshold), but: schedule: denied; record: slow. ' +
        'Check `npm run ops -- batch status` by hand.',
    });
  });
});
