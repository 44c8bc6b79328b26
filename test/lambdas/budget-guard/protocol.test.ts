import 'aws-sdk-client-mock-vitest/extend';
// The kill switch protocol on the local engine: its rounds, retries and concurrent writers.
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HandlerDeps, handleEvent } from '../../../lambdas/budget-guard/handler';
import { KillSwitchIncompleteError } from '../../../lambdas/budget-guard/logic';
import type { LocalOpsTable } from '../../helpers/dynalite';
import { ACTUAL_100, snsEvent } from './fixtures';
import {
  auditItems,
  awsError,
  engagedItem,
  envOf,
  HANDLER_ATTEMPT_ID,
  HANDLER_NOW,
  mocks,
  NO_SLEEP,
  observability,
  RoundTripTracker,
  STATE_WRITTEN,
  stateItem,
  type World,
  world,
} from './harness';

const NOW = HANDLER_NOW;
const ATTEMPT_ID = HANDLER_ATTEMPT_ID;

let obs: ReturnType<typeof observability>;
let w: World;
let table: LocalOpsTable;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: w.clients,
    env: envOf(table),
    now: () => NOW,
    newId: () => ATTEMPT_ID,
    retry: NO_SLEEP,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

async function reset(setup: Parameters<typeof world>[0] = {}): Promise<void> {
  if (table !== undefined) await table.drop();
  w = await world(setup);
  table = w.table;
}

beforeEach(async () => {
  await reset();
  obs = observability();
});

afterEach(async () => {
  vi.restoreAllMocks();
  table.clearFaults();
});

describe('sequential round trips', () => {
  it.each([
    [1, 1],
    [10, 10],
  ])('are 3 on the happy path with %i execution(s) and %i task(s)', async (executions, tasks) => {
    const tracker = new RoundTripTracker();
    await reset({ executions, tasks, tracker });

    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(result?.outcome).toBe('engaged');
    expect(tracker.depth).toBe(3);
    const round = (level: number) =>
      tracker.calls
        .filter((c) => c.level === level)
        .map((c) => c.command)
        .sort();
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
  });

  it('are 2 for a duplicate (the failed condition, then the state read), 3 after a failed action', async () => {
    const duplicate = new RoundTripTracker();
    await reset({ scheduleState: 'DISABLED', tracker: duplicate });
    await table.seed(engagedItem());
    await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(duplicate.depth).toBe(2);

    const partial = new RoundTripTracker();
    await reset({ tracker: partial });
    mocks.ssm
      .on(PutParameterCommand)
      .callsFake(
        partial.wrap('PutParameter', () => Promise.reject(awsError('AccessDeniedException', 'denied'))),
      );
    await expect(handleEvent(snsEvent(ACTUAL_100), deps())).rejects.toBeInstanceOf(KillSwitchIncompleteError);
    expect(partial.depth).toBe(3);
  });
});
describe('a retry', () => {
  it('after a partial failure engages again and redoes the actions; a later duplicate changes nothing', async () => {
    let attempt = 0;
    const next = () => `attempt-${++attempt}`;
    mocks.ecs.on(StopTaskCommand).rejectsOnce(awsError('AccessDeniedException', 'denied')).resolves({});

    await expect(handleEvent(snsEvent(ACTUAL_100), deps({ newId: next }))).rejects.toBeInstanceOf(
      KillSwitchIncompleteError,
    );
    expect(await stateItem(table)).toMatchObject({ engaged: true, complete: false, attemptId: 'attempt-1' });

    // Lambda's asynchronous retry of the same event.
    const [retried] = await handleEvent(snsEvent(ACTUAL_100), deps({ newId: next }));
    expect(retried?.outcome).toBe('engaged');
    expect(await stateItem(table)).toMatchObject({ engaged: true, complete: true, attemptId: 'attempt-2' });
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 4);
    expect((await auditItems(table)).map((a) => a.outcome)).toEqual(['partial', 'ok']);

    // SNS delivering the message once more.
    const before = await table.items();
    const [duplicate] = await handleEvent(snsEvent(ACTUAL_100), deps({ newId: next }));
    expect(duplicate?.outcome).toBe('duplicate');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
    expect(await table.items()).toEqual(before);
  });

  it('after a crash between the record and the completion redoes every action', async () => {
    // What an invocation that died after round 1 (or during round 2) leaves.
    await table.seed(engagedItem({ complete: false, attemptId: 'crashed-attempt' }));

    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(result?.outcome).toBe('engaged');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(mocks.sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 2);
    expect(await stateItem(table)).toEqual(STATE_WRITTEN);
    expect(await auditItems(table)).toHaveLength(1);
  });
});

describe('another writer during the engagement', () => {
  it('a later attempt that took the state over is not marked complete by this one', async () => {
    table.afterCall('PutItem', 'KILL_SWITCH', () =>
      table.seed(engagedItem({ complete: false, attemptId: 'later-attempt' })),
    );
    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(result?.outcome).toBe('engaged');
    expect(await stateItem(table)).toMatchObject({ complete: false, attemptId: 'later-attempt' });
    expect(await auditItems(table)).toHaveLength(1);
  });

  it('a release in between is not undone', async () => {
    table.afterCall('PutItem', 'KILL_SWITCH', async () => {
      const item = await stateItem(table);
      await table.seed({ ...item, engaged: false, complete: true, releasedBy: 'alice' });
    });
    await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(await stateItem(table)).toMatchObject({ engaged: false, releasedBy: 'alice' });
  });

  it('never overwrites another audit entry', async () => {
    const other = { pk: 'AUDIT', sk: '2026-11-25T04:12:35.000Z#5b0e8f1c', action: 'someone-else' };
    await table.seed(other);
    await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(await table.item('AUDIT', other.sk)).toEqual(other);
  });
});
