import 'aws-sdk-client-mock-vitest/extend';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { HandlerDeps } from '../../lambdas/budget-guard/handler';
import * as source from '../../lambdas/budget-guard/handler';
import { KillSwitchIncompleteError, KillSwitchNotEngagedError } from '../../lambdas/budget-guard/logic';
import { InvalidInputError } from '../../lambdas/shared/errors';
import { underTest } from '../bundles/under-test';
import { ACTUAL_100, snsEvent } from '../lambdas/budget-guard/fixtures';
import {
  conditionalCheckFailed,
  ENV,
  mocks,
  NO_SLEEP,
  observability,
  resetMocks,
  taskArn,
  clients as testClients,
} from '../lambdas/budget-guard/harness';
import { cell, denied, stable, throttled, timedOut } from './matrix';

const lambda = underTest('budget-guard', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const NOW = new Date('2026-11-25T04:12:35.000Z');
const ATTEMPT_ID = '5b0e8f1c-2a7d-4c3e-9f61-0d2b7a9e4c18';
let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: testClients,
    env: ENV,
    now: () => NOW,
    newId: () => ATTEMPT_ID,
    retry: NO_SLEEP,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

function awsCalls(): number {
  return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0);
}

/** Calls that change something (reads and the human alert excluded). */
function mutations(): number {
  return (
    mocks.ddb.commandCalls(TransactWriteCommand).length +
    mocks.ddb.commandCalls(UpdateCommand).length +
    mocks.scheduler.commandCalls(UpdateScheduleCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    mocks.ecs.commandCalls(StopTaskCommand).length
  );
}

/** Every call's command name and input, sorted (the calls of parallel rounds interleave). */
function callLog(): Array<{ command: string; input: unknown }> {
  const calls: Array<{ args: readonly unknown[] }> = Object.values(mocks).flatMap(
    (m) => m.calls() as Array<{ args: readonly unknown[] }>,
  );
  return calls
    .map((c) => c.args[0] as { constructor: { name: string }; input: unknown })
    .map((command) => ({ command: command.constructor.name, input: command.input }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function subjects(): Array<string | undefined> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
}

async function reference() {
  resetMocks();
  const result = stable(await handleEvent(snsEvent(ACTUAL_100), deps()));
  const calls = stable(callLog());
  resetMocks();
  return { result, calls };
}

beforeEach(() => {
  resetMocks();
  obs = observability();
});

afterEach(() => {
  vi.restoreAllMocks();
});

lambda.describe('budget-guard fault matrix', () => {
  cell('budget-guard', 'malformed-event', async () => {
    for (const event of [
      'not an event',
      { Records: 'x' },
      { Records: [{ EventSource: 'aws:sqs', Sns: { MessageId: 'm', Message: ACTUAL_100 } }] },
      { Records: [] },
    ]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
  });

  cell('budget-guard', 'empty-event', async () => {
    await expect(handleEvent({}, deps())).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, deps())).rejects.toBeErrorOf(InvalidInputError);
    expect(awsCalls()).toBe(0);
  });

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
    expect(mocks.ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  cell('budget-guard', 'access-denied', async () => {
    mocks.ddb.on(TransactWriteCommand).rejects(denied('dynamodb:PutItem'));

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(KillSwitchNotEngagedError);
    expect(mutations()).toBe(1); // the denied TransactWriteItems, not retried
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(mocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(subjects()).toEqual(['[prod] Budget kill switch FAILED: batch NOT disabled']);
  });

  cell('budget-guard', 'timeout', async () => {
    mocks.ddb.on(TransactWriteCommand).rejects(timedOut());

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(KillSwitchNotEngagedError);
    expect((error as Error).message).toContain('TimeoutError');
    // Retried (a timeout is transient), then gave up without acting.
    expect(mocks.ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);
    expect(mutations()).toBe(5);
    expect(subjects()).toEqual(['[prod] Budget kill switch FAILED: batch NOT disabled']);
  });

  cell('budget-guard', 'partial-failure', async () => {
    resetMocks({ executions: 2, tasks: 3 });
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
    expect(mocks.ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':outcome': 'partial' }),
    });
  });

  cell('budget-guard', 'duplicate-delivery', async () => {
    // A model of the state item: the second engagement's condition fails as in DynamoDB.
    let engaged: { engagedAt: string; engagedBy: string } | undefined;
    mocks.ddb.on(TransactWriteCommand).callsFake(async (input) => {
      if (engaged) throw conditionalCheckFailed(engaged);
      const item = input.TransactItems[0].Put.Item;
      engaged = { engagedAt: item.engagedAt, engagedBy: item.engagedBy };
      return {};
    });
    const [first] = await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(first?.outcome).toBe('engaged');
    const before = { mutations: mutations(), publishes: subjects().length };
    mocks.scheduler.on(GetScheduleCommand).resolves({ State: 'DISABLED' });

    const [second] = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(second).toMatchObject({ outcome: 'duplicate', inconsistent: false });
    // Only the rejected conditional write: nothing changed, nobody paged again.
    expect(mutations()).toBe(before.mutations + 1);
    expect(subjects()).toHaveLength(before.publishes);
  });
});
