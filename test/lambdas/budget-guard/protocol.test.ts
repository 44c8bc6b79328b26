import 'aws-sdk-client-mock-vitest/extend';
// The kill switch protocol on the local engine: its rounds, retries and concurrent writers.
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { handleEvent } from '../../../lambdas/budget-guard/handler';
import { KillSwitchIncompleteError } from '../../../lambdas/budget-guard/logic';
import { ACTUAL_100, snsEvent } from './fixtures';
import {
  auditItems,
  awsError,
  engagedItem,
  HANDLER_ATTEMPT_ID,
  HANDLER_NOW,
  handlerWorld,
  mocks,
  RoundTripTracker,
  STATE_WRITTEN,
  stateItem,
} from './harness';

const _NOW = HANDLER_NOW;
const _ATTEMPT_ID = HANDLER_ATTEMPT_ID;

const hw = handlerWorld();

describe('sequential round trips', () => {
  it.each([
    [1, 1],
    [10, 10],
  ])(
    'are 3 on the happy path with %i execution(s) and %i task(s), after the pause and repeat guard and before the record',
    async (executions, tasks) => {
      const tracker = new RoundTripTracker();
      await hw.reset({ executions, tasks, tracker });

      const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());

      expect(result?.outcome).toBe('engaged');
      // core/automation adds a round before (the pause and the repeat count) and one after (the
      // record and the verification schedule): the engagement itself stays three.
      expect(tracker.depth).toBe(5);
      const round = (level: number) =>
        tracker.calls
          .filter((c) => c.level === level + 1)
          .map((c) => c.command)
          .sort();
      expect(round(0)).toEqual(['GetItem', 'Query']);
      expect(round(1)).toEqual(['GetSchedule', 'ListExecutions', 'ListTasks', 'PutItem']);
      expect(round(2)).toEqual(
        [
          'Publish',
          'PutParameter',
          'UpdateSchedule',
          ...Array<string>(executions).fill('StopExecution'),
          ...Array<string>(tasks).fill('StopTask'),
        ].sort(),
      );
      expect(round(3)).toEqual(['PutItem', 'UpdateItem']);
      expect(round(4)).toEqual(['CreateSchedule', 'PutItem']);
    },
  );

  it('are 2 for a duplicate (the failed condition, then the state read), 3 after a failed action, after the pause and repeat guard', async () => {
    const duplicate = new RoundTripTracker();
    await hw.reset({ scheduleState: 'DISABLED', tracker: duplicate });
    await hw.table.seed(engagedItem());
    await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    // The pause and repeat guard, then the engagement's two.
    expect(duplicate.depth).toBe(3);

    const partial = new RoundTripTracker();
    await hw.reset({ tracker: partial });
    mocks.ssm
      .on(PutParameterCommand)
      .callsFake(
        partial.wrap('PutParameter', () => Promise.reject(awsError('AccessDeniedException', 'denied'))),
      );
    await expect(handleEvent(snsEvent(ACTUAL_100), hw.deps())).rejects.toBeInstanceOf(
      KillSwitchIncompleteError,
    );
    // The pause and repeat guard, then the engagement's three (no record: it failed).
    expect(partial.depth).toBe(4);
  });
});
describe('a retry', () => {
  it('after a partial failure engages again and redoes the actions; a later duplicate changes nothing', async () => {
    let attempt = 0;
    const next = () => `attempt-${++attempt}`;
    mocks.ecs.on(StopTaskCommand).rejectsOnce(awsError('AccessDeniedException', 'denied')).resolves({});

    await expect(handleEvent(snsEvent(ACTUAL_100), hw.deps({ newId: next }))).rejects.toBeInstanceOf(
      KillSwitchIncompleteError,
    );
    expect(await stateItem(hw.table)).toMatchObject({
      engaged: true,
      complete: false,
      attemptId: 'attempt-1',
    });

    // Lambda's asynchronous retry of the same event.
    const [retried] = await handleEvent(snsEvent(ACTUAL_100), hw.deps({ newId: next }));
    expect(retried?.outcome).toBe('engaged');
    expect(await stateItem(hw.table)).toMatchObject({
      engaged: true,
      complete: true,
      attemptId: 'attempt-2',
    });
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 4);
    expect((await auditItems(hw.table)).map((a) => a.outcome)).toEqual(['partial', 'ok']);

    // SNS delivering the message once more.
    const before = await hw.table.items();
    const [duplicate] = await handleEvent(snsEvent(ACTUAL_100), hw.deps({ newId: next }));
    expect(duplicate?.outcome).toBe('duplicate');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
    expect(await hw.table.items()).toEqual(before);
  });

  it('after a crash between the record and the completion redoes every action', async () => {
    // What an invocation that died after round 1 (or during round 2) leaves.
    await hw.table.seed(engagedItem({ complete: false, attemptId: 'crashed-attempt' }));

    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());

    expect(result?.outcome).toBe('engaged');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(mocks.sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 2);
    expect(await stateItem(hw.table)).toEqual(STATE_WRITTEN);
    expect(await auditItems(hw.table)).toHaveLength(1);
  });
});

describe('another writer during the engagement', () => {
  it('a later attempt that took the state over is not marked complete by this one', async () => {
    hw.table.afterCall('PutItem', 'KILL_SWITCH', () =>
      hw.table.seed(engagedItem({ complete: false, attemptId: 'later-attempt' })),
    );
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(result?.outcome).toBe('engaged');
    expect(await stateItem(hw.table)).toMatchObject({ complete: false, attemptId: 'later-attempt' });
    expect(await auditItems(hw.table)).toHaveLength(1);
  });

  it('a release in between is not undone', async () => {
    hw.table.afterCall('PutItem', 'KILL_SWITCH', async () => {
      const item = await stateItem(hw.table);
      await hw.table.seed({ ...item, engaged: false, complete: true, releasedBy: 'alice' });
    });
    await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(await stateItem(hw.table)).toMatchObject({ engaged: false, releasedBy: 'alice' });
  });

  it('never overwrites another audit entry', async () => {
    const other = { pk: 'AUDIT', sk: '2026-11-25T04:12:35.000Z#5b0e8f1c', action: 'someone-else' };
    await hw.table.seed(other);
    await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(await hw.table.item('AUDIT', other.sk)).toEqual(other);
  });
});
