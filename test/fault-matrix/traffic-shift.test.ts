import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import { WeightsPartiallyWrittenError } from '../../core/traffic';
import type { HandlerDeps } from '../../lambdas/traffic-shift/handler';
import * as source from '../../lambdas/traffic-shift/handler';
import { underTest } from '../bundles/under-test';
import {
  auditItems,
  ENV,
  executionArn,
  item,
  lastShiftItem,
  mocks,
  observability,
  resetWorld,
  clients as testClients,
  world,
} from '../lambdas/traffic-shift/harness';
import { cell, denied, throttled, timedOut } from './matrix';

const lambda = underTest('traffic-shift', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const NOW = new Date('2026-11-25T04:12:35.000Z');
const EXECUTION = executionArn('to-green-20261125T041235Z-1a2b3c4d');
const IN_PROGRESS = lastShiftItem({
  executionArn: EXECUTION,
  status: 'in-progress',
  startedAt: '2026-11-25T04:00:00.000Z',
  completedAt: undefined,
  final: undefined,
});
const SET_WEIGHTS = { action: 'setWeights', executionArn: EXECUTION, weights: { blue: 90, green: 10 } };

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

/** The traffic state: listener, parameter and the non-audit ops items. */
function trafficState() {
  return {
    listener: { ...world.listener },
    parameter: world.parameter,
    items: [...world.items.values()].filter((i) => i.pk !== 'AUDIT'),
  };
}

/** Audit items without their random id (and the key it is part of). */
function withoutIds(items: ReadonlyArray<Record<string, unknown>>) {
  return items.map(({ id: _id, sk: _sk, ...rest }) => rest);
}

beforeEach(() => {
  resetWorld({ items: [IN_PROGRESS] });
  obs = observability('traffic-shift');
});

afterEach(() => {
  vi.restoreAllMocks();
});

lambda.describe('traffic-shift fault matrix', () => {
  cell('traffic-shift', 'malformed-event', async () => {
    for (const event of [
      'setWeights',
      { action: 'explode' },
      { ...SET_WEIGHTS, weights: { blue: '90', green: 10 } },
      { ...SET_WEIGHTS, executionArn: 'not-an-arn' },
    ]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  cell('traffic-shift', 'empty-event', async () => {
    await expect(handleEvent({}, deps())).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, deps())).rejects.toBeErrorOf(InvalidInputError);
    expect(awsCalls()).toBe(0);
  });

  cell('traffic-shift', 'extra-fields', async () => {
    const result = await handleEvent(
      { ...SET_WEIGHTS, extra: 'x', weights: { ...SET_WEIGHTS.weights, red: 5 } },
      deps(),
    );

    expect(result).toEqual({ blue: 90, green: 10 });
    expect(world.listener).toEqual({ blue: 90, green: 10 });
    expect(world.parameter).toBe('90,10');
    expect(auditItems()).toEqual([expect.objectContaining({ action: 'traffic-weights-set', outcome: 'ok' })]);
  });

  cell('traffic-shift', 'throttling', async () => {
    await handleEvent(SET_WEIGHTS, deps());
    const plain = { state: trafficState(), audits: auditItems() };
    resetWorld({ items: [IN_PROGRESS] });
    // Throttle the first two attempts, then write the world's listener as the fake does.
    let attempts = 0;
    mocks.elbv2.on(ModifyListenerCommand).callsFake(async (input: any) => {
      attempts += 1;
      if (attempts <= 2) throw throttled();
      const groups = input.DefaultActions[0].ForwardConfig.TargetGroups;
      world.listener = { blue: groups[0].Weight, green: groups[1].Weight };
      return {};
    });

    const result = await handleEvent(SET_WEIGHTS, deps());

    expect(result).toEqual({ blue: 90, green: 10 });
    expect(attempts).toBe(3);
    expect(trafficState()).toEqual(plain.state);
    expect(withoutIds(auditItems())).toEqual(withoutIds(plain.audits));
  });

  cell('traffic-shift', 'access-denied', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejects(denied('elasticloadbalancing:ModifyListener'));

    const error = await handleEvent(SET_WEIGHTS, deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(WeightsPartiallyWrittenError);
    expect((error as WeightsPartiallyWrittenError).outcomes.listener).toMatch(/^AccessDeniedException/);
    expect(mocks.elbv2).toHaveReceivedCommandTimes(ModifyListenerCommand, 1);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(auditItems()).toEqual([
      expect.objectContaining({ action: 'traffic-weights-set', outcome: 'failed' }),
    ]);
  });

  cell('traffic-shift', 'timeout', async () => {
    mocks.ddb.on(GetCommand).rejects(timedOut());

    const error = await handleEvent(SET_WEIGHTS, deps()).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(mocks.ddb).toHaveReceivedCommandTimes(GetCommand, 5);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(mocks.ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(trafficState()).toEqual({
      listener: { blue: 100, green: 0 },
      parameter: '100,0',
      items: [IN_PROGRESS],
    });
  });

  cell('traffic-shift', 'partial-failure', async () => {
    mocks.ssm.on(PutParameterCommand).rejects(denied('ssm:PutParameter'));

    const error = await handleEvent(SET_WEIGHTS, deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(WeightsPartiallyWrittenError);
    expect((error as WeightsPartiallyWrittenError).outcomes).toMatchObject({ listener: 'written' });
    expect(world.listener).toEqual({ blue: 90, green: 10 });
    expect(world.parameter).toBe('100,0');
    expect(auditItems()).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        details: expect.objectContaining({ error: expect.stringContaining('AccessDeniedException') }),
      }),
    ]);
  });

  cell('traffic-shift', 'duplicate-delivery', async () => {
    await handleEvent(SET_WEIGHTS, deps());
    const once = trafficState();

    const again = await handleEvent(SET_WEIGHTS, deps());

    expect(again).toEqual({ blue: 90, green: 10 });
    expect(trafficState()).toEqual(once);
    expect(item('TRAFFIC', 'LAST_SHIFT')).toEqual(IN_PROGRESS);
  });
});
