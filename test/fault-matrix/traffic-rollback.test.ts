import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import { WeightsNotWrittenError, WeightsWriteError } from '../../core/traffic';
import type { HandlerDeps } from '../../lambdas/traffic-rollback/handler';
import * as source from '../../lambdas/traffic-rollback/handler';
import { underTest } from '../bundles/under-test';
import {
  ACCOUNT_ID,
  ALARMS,
  auditItems,
  executionArn,
  item,
  lastShiftItem,
  lockItem,
  mocks,
  observability,
  REGION,
  ROLLBACK_ENV,
  resetWorld,
  clients as testClients,
  world,
} from '../lambdas/traffic-shift/harness';
import { cell, denied, throttled, timedOut } from './matrix';

const lambda = underTest('traffic-rollback', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const ENV = ROLLBACK_ENV;
const NOW = new Date('2026-11-25T04:12:35.000Z');

/** The P0 composite alarm going OK -> ALARM, as EventBridge delivers it. */
function alarmEvent(extra: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '2dde0eb1-528b-d2d5-9ca6-6d590caf2329',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT_ID,
    time: '2026-11-25T04:12:31Z',
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${ALARMS.p0}`],
    detail: {
      alarmName: ALARMS.p0,
      state: { value: 'ALARM', reason: 'green 5xx in ALARM', timestamp: '2026-11-25T04:12:31.146+0000' },
      previousState: { value: 'OK', reason: 'all OK', timestamp: '2026-11-25T03:02:11.377+0000' },
      configuration: { description: 'P0: the service is down or failing for most users' },
    },
    ...extra,
  };
}

let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: testClients,
    env: ENV,
    now: () => NOW,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

function awsCalls(): number {
  return Object.values(mocks).reduce((n, mock) => n + mock.calls().length, 0);
}

function subjects(): Array<string | undefined> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
}

function reset(): void {
  resetWorld({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
}

beforeEach(() => {
  reset();
  obs = observability('traffic-rollback');
});

afterEach(() => {
  vi.restoreAllMocks();
});

lambda.describe('traffic-rollback fault matrix', () => {
  cell('traffic-rollback', 'malformed-event', async () => {
    for (const event of [
      'ALARM',
      { ...alarmEvent(), 'detail-type': 'CloudWatch Alarm Configuration Change' },
      { ...alarmEvent(), detail: { alarmName: ALARMS.p0, state: { value: 'RED' } } },
      { Records: [{ EventSource: 'aws:sns', Sns: { Message: '{}' } }] },
    ]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });

  cell('traffic-rollback', 'empty-event', async () => {
    await expect(handleEvent({}, deps())).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, deps())).rejects.toBeErrorOf(InvalidInputError);
    expect(awsCalls()).toBe(0);
  });

  cell('traffic-rollback', 'extra-fields', async () => {
    const plain = await handleEvent(alarmEvent(), deps());
    reset();
    const event = alarmEvent({ unexpected: [1, 2] });
    (event.detail as Record<string, unknown>).surprise = { nested: true };

    const result = await handleEvent(event, deps());

    expect(result).toEqual(plain);
    expect(result).toMatchObject({ rollback: { changed: true, restored: { blue: 100, green: 0 } } });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  cell('traffic-rollback', 'throttling', async () => {
    const plain = await handleEvent(alarmEvent(), deps());
    reset();
    let attempts = 0;
    mocks.elbv2.on(ModifyListenerCommand).callsFake(async (input: any) => {
      attempts += 1;
      if (attempts <= 2) throw throttled();
      const groups = input.DefaultActions[0].ForwardConfig.TargetGroups;
      world.listener = { blue: groups[0].Weight, green: groups[1].Weight };
      return {};
    });

    const result = await handleEvent(alarmEvent(), deps());

    expect(result).toEqual(plain);
    expect(attempts).toBe(3);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
  });

  cell('traffic-rollback', 'access-denied', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejects(denied('elasticloadbalancing:ModifyListener'));
    mocks.ssm.on(PutParameterCommand).rejects(denied('ssm:PutParameter'));

    const error = await handleEvent(alarmEvent(), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(WeightsNotWrittenError);
    expect(mocks.elbv2).toHaveReceivedCommandTimes(ModifyListenerCommand, 1);
    expect(subjects()).toEqual(['[prod] Automatic traffic rollback FAILED']);
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });

  cell('traffic-rollback', 'timeout', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejects(timedOut());

    const error = await handleEvent(alarmEvent(), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(WeightsWriteError);
    expect(mocks.elbv2).toHaveReceivedCommandTimes(ModifyListenerCommand, 5);
    expect(subjects()).toEqual(['[prod] Automatic traffic rollback FAILED']);
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });

  cell('traffic-rollback', 'partial-failure', async () => {
    const running = executionArn('to-green-1');
    resetWorld({
      listener: { blue: 50, green: 50 },
      items: [
        lastShiftItem({ status: 'in-progress', completedAt: undefined }),
        lockItem({ executionArn: running }),
      ],
    });
    mocks.sfn.on(StopExecutionCommand).rejects(denied('states:StopExecution'));

    const result = await handleEvent(alarmEvent(), deps());

    expect(result).toMatchObject({ outcome: 'handled', rollback: { changed: true } });
    const problems = result.outcome === 'handled' ? result.rollback.problems : [];
    expect(problems).toEqual([expect.stringContaining('AccessDeniedException')]);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
    expect(item('TRAFFIC', 'LAST_SHIFT')?.status).toBe('rolled-back');
    expect(item('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect(mocks.sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      'AccessDeniedException',
    );
  });

  cell('traffic-rollback', 'duplicate-delivery', async () => {
    await handleEvent(alarmEvent(), deps());
    const once = { listener: { ...world.listener }, parameter: world.parameter, audits: auditItems().length };
    mocks.elbv2.resetHistory();
    mocks.ssm.resetHistory();

    const again = await handleEvent(alarmEvent(), deps({ now: () => new Date(NOW.getTime() + 5000) }));

    expect(again).toMatchObject({ rollback: { changed: false, outcome: 'already-rolled-back' } });
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(mocks.ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect({ listener: world.listener, parameter: world.parameter, audits: auditItems().length }).toEqual(
      once,
    );
  });
});
