import 'aws-sdk-client-mock-vitest/extend';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { HandlerDeps } from '../../lambdas/budget-guard/handler';
import * as source from '../../lambdas/budget-guard/handler';
import { KillSwitchIncompleteError, KillSwitchNotEngagedError } from '../../lambdas/budget-guard/logic';
import { underTest } from '../bundles/under-test';
import type { LocalOpsTable } from '../helpers/dynalite';
import { ACTUAL_100, snsEvent } from '../lambdas/budget-guard/fixtures';
import {
  auditItems,
  envOf,
  mocks,
  observability,
  stateItem,
  taskArn,
  type World,
  world,
} from '../lambdas/budget-guard/harness';
import { cell, denied, expectRefused, stable, throttled, timedOut } from './matrix';

const lambda = underTest('budget-guard', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const NOW = new Date('2026-11-25T04:12:35.000Z');
const ATTEMPT_ID = '5b0e8f1c-2a7d-4c3e-9f61-0d2b7a9e4c18';
let obs: ReturnType<typeof observability>;
// The other services mocked (happy path), the ops table on the local engine: the state item's
// conditions are decided by the engine, and outcomes are read from the table's items.
let w: World;
let table: LocalOpsTable;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: w.clients,
    env: envOf(table),
    now: () => NOW,
    newId: () => ATTEMPT_ID,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

/** A fresh world (mocks reset, a new empty table). */
async function reset(setup: Parameters<typeof world>[0] = {}): Promise<void> {
  if (table !== undefined) await table.drop();
  w = await world(setup);
  table = w.table;
}

/** The mocked services' calls (DynamoDB is the engine's, see {@link LocalOpsTable.sent}). */
const mocked = () =>
  Object.entries(mocks)
    .filter(([name]) => name !== 'ddb')
    .map(([, m]) => m);

function awsCalls(): number {
  return mocked().reduce((n, m) => n + m.calls().length, 0) + table.sent.length;
}

/** Calls that change something (reads and the human alert excluded), failed ones included. */
function mutations(): number {
  return (
    table.sent.filter((c) => c.operation !== 'GetItem' && c.operation !== 'Query').length +
    mocks.scheduler.commandCalls(UpdateScheduleCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    mocks.ecs.commandCalls(StopTaskCommand).length
  );
}

/**
 * Every call's command name and input, sorted (the calls of parallel rounds interleave): the
 * mocked services' with their inputs, the table's by operation and partition.
 */
function callLog(): Array<{ command: string; input: unknown }> {
  const calls: Array<{ args: readonly unknown[] }> = mocked().flatMap(
    (m) => m.calls() as Array<{ args: readonly unknown[] }>,
  );
  return [
    ...calls
      .map((c) => c.args[0] as { constructor: { name: string }; input: unknown })
      .map((command) => ({ command: command.constructor.name, input: command.input })),
    ...table.sent.map((c) => ({ command: c.operation, input: { pk: c.pk } })),
  ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The table calls of the engagement itself: not the pause and repeat guard's reads (core/automation). */
function engagementCalls() {
  return table.sent
    .filter((c) => c.operation !== 'GetItem' || c.pk !== 'AUTOMATION')
    .filter((c) => c.operation !== 'Query');
}

function subjects(): Array<string | undefined> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
}

/** The plain notification's result, calls and items, on a world of its own; then a fresh one. */
async function reference() {
  await reset();
  const result = stable(await handleEvent(snsEvent(ACTUAL_100), deps()));
  const calls = stable(callLog());
  const items = stable(await table.items());
  await reset();
  return { result, calls, items };
}

beforeEach(async () => {
  await reset();
  obs = observability();
});

afterEach(() => {
  vi.restoreAllMocks();
  table.clearFaults();
});

lambda.describe('budget-guard fault matrix', () => {
  cell('budget-guard', 'malformed-event', async () => {
    await expectRefused(
      (event) => handleEvent(event, deps()),
      [
        'not an event',
        { Records: 'x' },
        { Records: [{ EventSource: 'aws:sqs', Sns: { MessageId: 'm', Message: ACTUAL_100 } }] },
        { Records: [] },
      ],
      awsCalls,
    );
  });

  cell('budget-guard', 'empty-event', () =>
    expectRefused((event) => handleEvent(event, deps()), [{}, undefined], awsCalls),
  );

  cell('budget-guard', 'extra-fields', async () => {
    const plain = await reference();
    const event = snsEvent(ACTUAL_100) as { Records: Array<Record<string, any>> };
    const extra = {
      ...event,
      unexpected: { nested: true },
      Records: event.Records.map((r) => ({ ...r, Extra: 1, Sns: { ...r.Sns, Surprise: 'field' } })),
    };

    const result = await handleEvent(extra, deps());

    expect(stable(result)).toEqual(plain.result);
    expect(stable(callLog())).toEqual(plain.calls);
    expect(stable(await table.items())).toEqual(plain.items);
  });

  cell('budget-guard', 'throttling', async () => {
    const plain = await reference();
    mocks.scheduler.on(UpdateScheduleCommand).rejectsOnce(throttled()).rejectsOnce(throttled());

    const result = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(stable(result)).toEqual(plain.result);
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 3);
    // Apart from the two throttled attempts, the same calls with the same inputs.
    const calls = callLog();
    const retried = calls.filter((c) => c.command === 'UpdateScheduleCommand');
    expect(new Set(retried.map((c) => JSON.stringify(c.input))).size).toBe(1);
    const others = (log: unknown) =>
      (log as Array<{ command: string }>).filter((c) => c.command !== 'UpdateScheduleCommand');
    expect(others(stable(calls))).toEqual(others(plain.calls));
    // The same items: the engagement complete, one audit item with outcome ok.
    expect(stable(await table.items())).toEqual(plain.items);
    expect(await stateItem(table)).toMatchObject({ engaged: true, complete: true, attemptId: ATTEMPT_ID });
    expect((await auditItems(table)).map((a) => a.outcome)).toEqual(['ok']);
  });

  cell('budget-guard', 'access-denied', async () => {
    table.failWith({ operation: 'PutItem', pk: 'KILL_SWITCH', error: () => denied('dynamodb:PutItem') });

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(KillSwitchNotEngagedError);
    expect(mutations()).toBe(1); // the denied PutItem of the state item, not retried
    expect(engagementCalls()).toEqual([{ operation: 'PutItem', pk: 'KILL_SWITCH' }]);
    expect(await table.items()).toEqual([]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(mocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(subjects()).toEqual(['[prod] Budget kill switch FAILED: batch NOT disabled']);
  });

  cell('budget-guard', 'timeout', async () => {
    table.failWith({ operation: 'PutItem', pk: 'KILL_SWITCH', error: timedOut });

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(KillSwitchNotEngagedError);
    expect((error as Error).message).toContain('TimeoutError');
    // Retried (a timeout is transient), then gave up without acting.
    expect(engagementCalls()).toEqual(
      Array.from({ length: 5 }, () => ({ operation: 'PutItem', pk: 'KILL_SWITCH' })),
    );
    expect(mutations()).toBe(5);
    expect(await table.items()).toEqual([]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(subjects()).toEqual(['[prod] Budget kill switch FAILED: batch NOT disabled']);
  });

  cell('budget-guard', 'partial-failure', async () => {
    await reset({ executions: 2, tasks: 3 });
    mocks.ecs.on(StopTaskCommand, { task: taskArn(1) }).rejects(denied('ecs:StopTask'));

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(KillSwitchIncompleteError);
    expect((error as KillSwitchIncompleteError).failures).toEqual([
      expect.objectContaining({ call: 'StopTask', target: taskArn(1) }),
    ]);
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(mocks.sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 2);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 3);
    expect(subjects()).toContain('[prod] Budget kill switch INCOMPLETE: 1 action(s) failed');
    // The state stays incomplete (the retry redoes every action); the audit says partial, and why.
    expect(await stateItem(table)).toMatchObject({ engaged: true, complete: false, attemptId: ATTEMPT_ID });
    const audits = await auditItems(table);
    expect(audits).toEqual([
      expect.objectContaining({
        action: 'kill-switch-engage',
        outcome: 'partial',
        details: expect.objectContaining({
          stoppedTasks: [taskArn(0), taskArn(2)],
          failures: [expect.objectContaining({ call: 'StopTask', target: taskArn(1) })],
        }),
      }),
    ]);
  });

  cell('budget-guard', 'duplicate-delivery', async () => {
    const [first] = await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(first?.outcome).toBe('engaged');
    const itemsAfterFirst = await table.items();
    expect(itemsAfterFirst.map((i) => [i.pk, i.complete ?? i.outcome ?? i.action])).toEqual([
      ['AUDIT', 'ok'],
      ['AUTOMATION_ACTION', 'kill-switch-engage'],
      ['KILL_SWITCH', true],
    ]);
    const before = { mutations: mutations(), publishes: subjects().length };
    mocks.scheduler.on(GetScheduleCommand).resolves({ State: 'DISABLED' });

    const [second] = await handleEvent(snsEvent(ACTUAL_100), deps({ newId: () => 'a-second-attempt' }));

    expect(second).toMatchObject({ outcome: 'duplicate', inconsistent: false });
    // Only the state put the engine rejected: nothing changed, nobody paged again.
    expect(await table.items()).toEqual(itemsAfterFirst);
    expect(mutations()).toBe(before.mutations + 1);
    expect(subjects()).toHaveLength(before.publishes);
  });
});
