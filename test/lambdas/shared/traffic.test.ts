import 'aws-sdk-client-mock-vitest/extend';
import { DescribeListenersCommand, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import {
  acquireShiftLock,
  DEFAULT_SHIFT_STEPS,
  describeCause,
  InvalidWeightsError,
  ListenerNotWeightedError,
  parseWeights,
  planShift,
  readLiveWeights,
  readStoredWeights,
  releaseShiftLock,
  rollbackToLastKnownGood,
  ShiftInProgressError,
  StoredWeightsInvalidError,
  trafficConfigFromEnv,
  validateWeights,
  WeightsNotWrittenError,
  WeightsPartiallyWrittenError,
  weightsDrift,
  writeWeights,
} from '../../../lambdas/shared/traffic';
import {
  ALARMS,
  awsError,
  BLUE_TG,
  CONFIG,
  clients,
  ENV,
  engine,
  engineClients,
  executionArn,
  GREEN_TG,
  LISTENER_ARN,
  lastShiftItem,
  lockItem,
  mocks,
  NO_SLEEP,
  OPS_TABLE,
  RoundTripTracker,
  resetEngine,
  rollbackItem,
  SILENT,
  stored,
  storedAudit,
  WEIGHTS_PARAMETER,
  type WorldSetup,
  world,
} from '../traffic-shift/harness';

const NOW = new Date('2026-11-25T04:10:00.000Z');
const OPTIONS = { retry: NO_SLEEP, logger: SILENT };
const AUTO = {
  actor: 'traffic-rollback',
  reason: 'P0 alarm fa-ai-system-prod-p0 in ALARM',
  source: 'traffic-rollback',
  now: NOW,
  requireRecentShiftWithin: 60,
  cooldownMinutes: 30,
} as const;
const CLI = { actor: 'alice', reason: 'manual rollback', source: 'cli', now: NOW } as const;

/** Writes to the mocked services, plus 1 for each table item changed, added or removed. */
async function writes(): Promise<number> {
  const text = (items: unknown[]) => new Set(items.map((i) => JSON.stringify(i)));
  const before = text(seeded);
  const after = text(await engine().items());
  const changedItems =
    [...after].filter((i) => !before.has(i)).length + [...before].filter((i) => !after.has(i)).length;
  return (
    mocks.elbv2.commandCalls(ModifyListenerCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    changedItems
  );
}

/** The seeded items, to tell whether a call changed the table. */
let seeded: Array<Record<string, unknown>> = [];

async function reset(setup: WorldSetup = {}): Promise<void> {
  await resetEngine(setup);
  seeded = await engine().items();
}

beforeEach(() => reset());

describe('planShift', () => {
  it('plans the default steps 10, 50, 100 from blue to green', () => {
    expect(DEFAULT_SHIFT_STEPS).toEqual([10, 50, 100]);
    expect(planShift({ blue: 100, green: 0 }, 'green')).toEqual([
      { blue: 90, green: 10 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ]);
  });

  it('plans custom steps back to blue', () => {
    expect(planShift({ blue: 0, green: 100 }, 'blue', [25, 100])).toEqual([
      { blue: 25, green: 75 },
      { blue: 100, green: 0 },
    ]);
  });

  it('skips the steps the target colour already reaches: a shift never moves traffic back', () => {
    expect(planShift({ blue: 50, green: 50 }, 'green', [10, 50, 100])).toEqual([{ blue: 0, green: 100 }]);
    expect(planShift({ blue: 0, green: 100 }, 'green')).toEqual([]);
  });

  it.each([
    [[10, 10, 100], /step 10 after 10: steps must be strictly increasing/],
    [[50, 10, 100], /step 10 after 50/],
    [[0, 50, 100], /Invalid step 0: steps are integer percentages 1..100/],
    [[10, 150], /Invalid step 150/],
    [[10, 50], /Invalid last step 50: the steps must end at 100/],
    [[10.5, 100], /Invalid step 10.5/],
    [[], /at least one step/],
  ])('rejects steps %j naming the value', (steps, message) => {
    expect(() => planShift({ blue: 100, green: 0 }, 'green', steps)).toThrow(InvalidInputError);
    expect(() => planShift({ blue: 100, green: 0 }, 'green', steps)).toThrow(message);
  });
});

describe('weights', () => {
  it('validates percentages summing to 100', () => {
    expect(validateWeights({ blue: 90, green: 10 })).toEqual({ blue: 90, green: 10 });
    expect(() => validateWeights({ blue: 90, green: 20 })).toThrow(/blue \+ green must be 100 \(got 110\)/);
    expect(() => validateWeights({ blue: 101, green: -1 })).toThrow(InvalidWeightsError);
    expect(() => validateWeights({ blue: 99.5, green: 0.5 })).toThrow(/Invalid blue weight 99.5/);
  });

  it('parses "<blue>,<green>" strictly', () => {
    expect(parseWeights('90,10')).toEqual({ blue: 90, green: 10 });
    for (const bad of ['90, 10', ' 90,10', '90;10', 'a,b', '90,10,0', '90,20', '']) {
      expect(() => parseWeights(bad), bad).toThrow(StoredWeightsInvalidError);
    }
  });

  it('reports drift between live and stored', () => {
    expect(weightsDrift({ blue: 90, green: 10 }, { blue: 90, green: 10 })).toBeUndefined();
    expect(weightsDrift({ blue: 100, green: 0 }, { blue: 90, green: 10 })?.description).toBe(
      'live blue 100 / green 0, stored (source of truth) blue 90 / green 10',
    );
  });

  it('reads the live weights of the weighted forward', async () => {
    await reset({ listener: { blue: 90, green: 10 } });
    await expect(
      readLiveWeights(clients.elbv2, LISTENER_ARN, CONFIG.targetGroups, NO_SLEEP),
    ).resolves.toEqual({
      blue: 90,
      green: 10,
    });
    expect(mocks.elbv2).toHaveReceivedCommandWith(DescribeListenersCommand, { ListenerArns: [LISTENER_ARN] });
  });

  it.each([
    ['a plain forward to one target group', [{ Type: 'forward', TargetGroupArn: BLUE_TG }]],
    ['a fixed response', [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }]],
    [
      'a forward to another group',
      [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: BLUE_TG, Weight: 50 },
              { TargetGroupArn: `${GREEN_TG}-old`, Weight: 50 },
            ],
          },
        },
      ],
    ],
  ])('refuses a listener with %s (ListenerNotWeightedError)', async (_, actions) => {
    mocks.elbv2
      .on(DescribeListenersCommand)
      .resolves({ Listeners: [{ ListenerArn: LISTENER_ARN, DefaultActions: actions as any }] });
    await expect(readLiveWeights(clients.elbv2, LISTENER_ARN, CONFIG.targetGroups, NO_SLEEP)).rejects.toThrow(
      ListenerNotWeightedError,
    );
  });

  it('reads the stored weights and names a missing or malformed parameter', async () => {
    await reset({ parameter: '70,30' });
    await expect(readStoredWeights(clients.ssm, WEIGHTS_PARAMETER, NO_SLEEP)).resolves.toEqual({
      blue: 70,
      green: 30,
    });
    await reset({ parameter: '70,20' });
    await expect(readStoredWeights(clients.ssm, WEIGHTS_PARAMETER, NO_SLEEP)).rejects.toThrow(
      `SSM parameter ${WEIGHTS_PARAMETER}: Weights "70,20"`,
    );
    await reset({ parameter: null });
    await expect(readStoredWeights(clients.ssm, WEIGHTS_PARAMETER, NO_SLEEP)).rejects.toThrow(
      /does not exist/,
    );
  });

  it('writes the listener and the parameter', async () => {
    await expect(writeWeights(engineClients(), CONFIG, { blue: 90, green: 10 }, OPTIONS)).resolves.toEqual({
      blue: 90,
      green: 10,
    });
    expect(mocks.elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, {
      ListenerArn: LISTENER_ARN,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: BLUE_TG, Weight: 90 },
              { TargetGroupArn: GREEN_TG, Weight: 10 },
            ],
          },
        },
      ],
    });
    expect(mocks.ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: WEIGHTS_PARAMETER,
      Value: '90,10',
      Type: 'StringList',
      Overwrite: true,
    });
    expect(world.listener).toEqual({ blue: 90, green: 10 });
    expect(world.parameter).toBe('90,10');
  });

  it('writes nothing for invalid weights', async () => {
    await expect(writeWeights(engineClients(), CONFIG, { blue: 95, green: 10 }, OPTIONS)).rejects.toThrow(
      InvalidWeightsError,
    );
    expect(await writes()).toBe(0);
  });

  it('says which half landed when one fails (WeightsPartiallyWrittenError)', async () => {
    mocks.elbv2
      .on(ModifyListenerCommand)
      .rejects(
        awsError('AccessDenied', 'User is not authorized to perform: elasticloadbalancing:ModifyListener'),
      );
    const error = await writeWeights(engineClients(), CONFIG, { blue: 50, green: 50 }, OPTIONS).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WeightsPartiallyWrittenError);
    expect((error as WeightsPartiallyWrittenError).outcomes).toEqual({
      listener: 'AccessDenied: User is not authorized to perform: elasticloadbalancing:ModifyListener',
      parameter: 'written',
    });
    expect((error as Error).message).toMatch(/listener and parameter now disagree/);
    expect(world.parameter).toBe('50,50');
  });

  it('WeightsNotWrittenError when both fail', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'denied'));
    mocks.ssm.on(PutParameterCommand).rejects(awsError('ParameterLimitExceeded', 'too many'));
    await expect(writeWeights(engineClients(), CONFIG, { blue: 50, green: 50 }, OPTIONS)).rejects.toThrow(
      WeightsNotWrittenError,
    );
  });
});

describe('shift lock', () => {
  const arn = executionArn('to-green-2');

  it('is taken when free and refused while another execution holds it', async () => {
    await acquireShiftLock(engine().ddb, OPS_TABLE, { executionArn: arn, to: 'green', now: NOW }, NO_SLEEP);
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toMatchObject({
      executionArn: arn,
      to: 'green',
      acquiredAt: NOW.toISOString(),
      expiresAt: NOW.getTime() / 1000 + 6 * 3600,
    });
    const other = executionArn('to-blue-3');
    const error = await acquireShiftLock(
      engine().ddb,
      OPS_TABLE,
      { executionArn: other, to: 'blue', now: NOW },
      NO_SLEEP,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShiftInProgressError);
    expect((error as ShiftInProgressError).executionArn).toBe(arn);
    expect((error as Error).message).toContain(`in progress: ${arn} (since ${NOW.toISOString()})`);
  });

  it('is kept by the same execution (a retried task) and taken over once expired', async () => {
    await reset({ items: [lockItem({ executionArn: arn })] });
    await expect(
      acquireShiftLock(engine().ddb, OPS_TABLE, { executionArn: arn, to: 'green', now: NOW }, NO_SLEEP),
    ).resolves.toMatchObject({ executionArn: arn });
    // Re-taken at NOW: it expires 6 h after NOW.
    const later = new Date(NOW.getTime() + 6 * 3600_000 + 1000);
    const other = executionArn('to-blue-3');
    await acquireShiftLock(
      engine().ddb,
      OPS_TABLE,
      { executionArn: other, to: 'blue', now: later },
      NO_SLEEP,
    );
    expect((await stored('TRAFFIC', 'SHIFT_LOCK'))?.executionArn).toBe(other);
  });

  it('is released only by its holder', async () => {
    await reset({ items: [lockItem({ executionArn: arn })] });
    await expect(releaseShiftLock(engine().ddb, OPS_TABLE, executionArn('x'), NO_SLEEP)).resolves.toBe(false);
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeDefined();
    await expect(releaseShiftLock(engine().ddb, OPS_TABLE, arn, NO_SLEEP)).resolves.toBe(true);
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
  });
});

describe('rollbackToLastKnownGood', () => {
  it("restores the last shift's from weights in two round trips, records and audits it", async () => {
    const tracker = new RoundTripTracker();
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()], tracker });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);

    expect(result).toMatchObject({
      changed: true,
      outcome: 'rolled-back',
      restored: { blue: 100, green: 0 },
      previous: { blue: 0, green: 100 },
      problems: [],
    });
    expect(result.reason).toMatch(/^Rolled back to blue 100 \/ green 0 \(was blue 0 \/ green 100\)/);
    expect(tracker.depth).toBe(2);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      status: 'rolled-back',
      rolledBackAt: NOW.toISOString(),
      rolledBackBy: 'traffic-rollback',
      rollbackReason: AUTO.reason,
    });
    expect(await stored('TRAFFIC', 'ROLLBACK')).toMatchObject({
      at: NOW.toISOString(),
      by: 'traffic-rollback',
      restored: { blue: 100, green: 0 },
      executionArn: executionArn('to-green-1'),
    });
    expect(await storedAudit()).toEqual([
      expect.objectContaining({
        action: 'traffic-rollback',
        source: 'traffic-rollback',
        actor: 'traffic-rollback',
        outcome: 'ok',
        environment: 'prod',
        details: expect.objectContaining({
          restored: { blue: 100, green: 0 },
          previous: { blue: 0, green: 100 },
        }),
      }),
    ]);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  it('changes nothing when already rolled back (a duplicate), in one round trip', async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    mocks.elbv2.resetHistory();
    mocks.ssm.resetHistory();
    const tracker = new RoundTripTracker();
    // The same world, now tracked.
    const snapshot = await engine().items();
    await reset({ listener: world.listener, items: snapshot, tracker });

    const again = await rollbackToLastKnownGood(
      engineClients(),
      CONFIG,
      { ...AUTO, now: new Date(NOW.getTime() + 60_000) },
      OPTIONS,
    );
    expect(again).toMatchObject({ changed: false, outcome: 'already-rolled-back' });
    expect(again.reason).toMatch(/^Already rolled back: listener and parameter hold .* blue 100 \/ green 0/);
    expect(await writes()).toBe(0);
    expect(tracker.depth).toBe(1);
  });

  it('repairs the parameter when only the listener holds the last known-good weights', async () => {
    await reset({ listener: { blue: 100, green: 0 }, parameter: '0,100', items: [lastShiftItem()] });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, CLI, OPTIONS);
    expect(result.changed).toBe(true);
    expect(world.parameter).toBe('100,0');
  });

  it('changes nothing within the cool-down of the last rollback, and says so', async () => {
    await reset({
      listener: { blue: 0, green: 100 },
      items: [lastShiftItem(), rollbackItem({ at: '2026-11-25T03:50:00.000Z' })],
    });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    expect(result).toMatchObject({ changed: false, outcome: 'cooldown' });
    expect(result.reason).toMatch(/30-minute cool-down: the last rollback was at 2026-11-25T03:50:00.000Z/);
    expect(await writes()).toBe(0);
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });

  it('says there is nothing to roll back when no shift is recorded', async () => {
    await reset({ listener: { blue: 100, green: 0 } });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, CLI, OPTIONS);
    expect(result).toMatchObject({ changed: false, outcome: 'no-shift-recorded' });
    expect(result.reason).toMatch(/No traffic shift is recorded/);
    expect(await writes()).toBe(0);
  });

  it('leaves an old shift alone automatically, but a human (no window) rolls it back', async () => {
    const old = lastShiftItem({ completedAt: '2026-11-25T02:00:00.000Z' });
    await reset({ listener: { blue: 0, green: 100 }, items: [old] });
    const auto = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    expect(auto).toMatchObject({ changed: false, outcome: 'outside-window' });
    expect(auto.reason).toMatch(
      /ended at 2026-11-25T02:00:00.000Z, 130 minutes ago, outside the 60-minute window/,
    );
    expect(await writes()).toBe(0);

    const cli = await rollbackToLastKnownGood(engineClients(), CONFIG, CLI, OPTIONS);
    expect(cli).toMatchObject({ changed: true, outcome: 'rolled-back', restored: { blue: 100, green: 0 } });
    expect((await storedAudit())[0]).toMatchObject({
      source: 'cli',
      actor: 'alice',
      reason: 'manual rollback',
    });
  });

  it('stops a shift still running and releases its lock, still in two round trips', async () => {
    const tracker = new RoundTripTracker();
    const running = executionArn('to-green-1');
    await reset({
      listener: { blue: 50, green: 50 },
      items: [
        lastShiftItem({ status: 'in-progress', completedAt: undefined, final: undefined }),
        lockItem({ executionArn: running }),
      ],
      tracker,
    });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    expect(result).toMatchObject({ changed: true, stoppedExecution: running, problems: [] });
    expect(mocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: running,
      error: 'TrafficRolledBack',
    });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(tracker.depth).toBe(2);
  });

  it('retries a throttled ModifyListener', async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    const original = world;
    mocks.elbv2
      .on(ModifyListenerCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .callsFake(() => {
        original.listener = { blue: 100, green: 0 };
        return { $metadata: {} };
      });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    expect(result.changed).toBe(true);
    expect(mocks.elbv2).toHaveReceivedCommandTimes(ModifyListenerCommand, 2);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('takes its cool-down back when the weights cannot be written, so that the retry acts', async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    mocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'denied'));
    await expect(rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS)).rejects.toThrow(
      WeightsPartiallyWrittenError,
    );
    expect(await stored('TRAFFIC', 'ROLLBACK')).toBeUndefined();
    // Not marked rolled back: the shift's weights are still in effect.
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toEqual(lastShiftItem());
    expect((await storedAudit())[0]).toMatchObject({
      outcome: 'partial',
      details: expect.objectContaining({ error: expect.stringMatching(/AccessDenied/) }),
    });

    // The retry, once the listener can be written: not held off by a cool-down of its own.
    await reset({ listener: world.listener, parameter: world.parameter, items: await engine().items() });
    const retried = await rollbackToLastKnownGood(
      engineClients(),
      CONFIG,
      { ...AUTO, now: new Date(NOW.getTime() + 60_000) },
      OPTIONS,
    );
    expect(retried).toMatchObject({ changed: true, outcome: 'rolled-back' });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('leaves a running shift in progress when the weights cannot be written', async () => {
    const running = lastShiftItem({ status: 'in-progress', completedAt: undefined, final: undefined });
    await reset({ listener: { blue: 50, green: 50 }, items: [running, lockItem()] });
    mocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'denied'));
    mocks.ssm.on(PutParameterCommand).rejects(awsError('AccessDeniedException', 'denied'));
    await expect(rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS)).rejects.toThrow(
      WeightsNotWrittenError,
    );
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({ status: 'in-progress' });
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).not.toHaveProperty('rolledBackAt');
  });

  it("undoes only its own records after a failed write: another rollback's and a newer shift's stay", async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    const theirs = rollbackItem({ at: '2026-11-25T04:10:00.500Z', by: 'alice', source: 'cli' });
    const newer = lastShiftItem({
      executionArn: executionArn('to-blue-2'),
      startedAt: '2026-11-25T04:10:00.600Z',
    });
    // Each lands right after this rollback's own write of the item.
    engine().intercept(async (call, next) => {
      const result = await next();
      if (call.command === 'PutItem' && call.input.Item?.sk === 'ROLLBACK') await engine().seed(theirs);
      if (call.command === 'UpdateItem' && call.input.Key?.sk === 'LAST_SHIFT') await engine().seed(newer);
      return result;
    });
    mocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'denied'));
    await expect(rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS)).rejects.toThrow(
      WeightsPartiallyWrittenError,
    );
    expect(await stored('TRAFFIC', 'ROLLBACK')).toEqual(theirs);
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toEqual(newer);
  });

  it("never marks a newer shift's record rolled back", async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    const newer = lastShiftItem({
      executionArn: executionArn('to-green-2'),
      status: 'in-progress',
      startedAt: '2026-11-25T04:10:00.100Z',
      completedAt: undefined,
      final: undefined,
    });
    // The newer shift is recorded right after this rollback read LAST_SHIFT.
    engine().intercept(async (call, next) => {
      const result = await next();
      if (call.command === 'GetItem' && call.input.Key?.sk === 'LAST_SHIFT') await engine().seed(newer);
      return result;
    });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, CLI, OPTIONS);
    expect(result.problems).toContain(
      'LAST_SHIFT not marked rolled-back: a new shift was recorded meanwhile',
    );
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toEqual(newer);
  });

  it('never overwrites an audit entry of the same key', async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    let existing: Record<string, unknown> | undefined;
    engine().intercept(async (call, next) => {
      if (call.command === 'PutItem' && call.input.Item?.pk === 'AUDIT') {
        existing = { pk: 'AUDIT', sk: call.input.Item.sk, action: 'someone-else' };
        await engine().seed(existing);
      }
      return next();
    });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    expect(result.problems).toEqual([
      expect.stringMatching(/^record the audit entry: ConditionalCheckFailed/),
    ]);
    expect(await storedAudit()).toEqual([existing]);
  });

  it('measures the window from the alarm, not from when the event is processed', async () => {
    // The shift completed at 04:00; the alarm fired at 04:30; the event arrives at 06:00.
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    const late = { ...AUTO, now: new Date('2026-11-25T06:00:00.000Z') };
    const result = await rollbackToLastKnownGood(
      engineClients(),
      CONFIG,
      { ...late, alarmAt: new Date('2026-11-25T04:30:00.000Z') },
      OPTIONS,
    );
    expect(result).toMatchObject({ changed: true, outcome: 'rolled-back' });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('leaves alone a shift started after the alarm, even one still running', async () => {
    const after = lastShiftItem({
      status: 'in-progress',
      startedAt: '2026-11-25T04:05:00.000Z',
      completedAt: undefined,
      final: undefined,
    });
    await reset({ listener: { blue: 50, green: 50 }, items: [after, lockItem()] });
    const result = await rollbackToLastKnownGood(
      engineClients(),
      CONFIG,
      { ...AUTO, alarmAt: new Date('2026-11-25T04:01:00.000Z') },
      OPTIONS,
    );
    expect(result).toMatchObject({ changed: false, outcome: 'outside-window' });
    expect(result.reason).toMatch(
      /started at 2026-11-25T04:05:00.000Z, after the alarm at 2026-11-25T04:01:00.000Z/,
    );
    expect(await writes()).toBe(0);
  });

  it('reports a failed secondary action without failing the rollback', async () => {
    await reset({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    engine().intercept(async (call, next) => {
      if (call.command === 'PutItem' && call.input.Item?.sk === 'ROLLBACK') {
        throw awsError('AccessDeniedException', 'no');
      }
      return next();
    });
    const result = await rollbackToLastKnownGood(engineClients(), CONFIG, AUTO, OPTIONS);
    expect(result.changed).toBe(true);
    expect(result.problems).toEqual(['record ROLLBACK: AccessDeniedException: no']);
  });
});

describe('configuration and causes', () => {
  it("reads the traffic Lambdas' environment", () => {
    expect(trafficConfigFromEnv(ENV)).toEqual({
      traffic: { ...CONFIG },
      alarms: ALARMS,
    });
  });

  it('names every bad variable', () => {
    expect(() => trafficConfigFromEnv({ ...ENV, ALARMS_JSON: '{"p0":', LISTENER_ARN: 'listener' })).toThrow(
      /LISTENER_ARN: must be an ARN; ALARMS_JSON: must be valid JSON/,
    );
  });

  it('reads a Lambda error cause', () => {
    expect(
      describeCause(
        'WeightsPartiallyWrittenError',
        JSON.stringify({ errorType: 'WeightsPartiallyWrittenError', errorMessage: 'only partly', trace: [] }),
      ),
    ).toBe('WeightsPartiallyWrittenError: only partly');
    expect(describeCause('ShiftRolledBack', 'Alarms firing: ["a"]')).toBe(
      'ShiftRolledBack: Alarms firing: ["a"]',
    );
  });
});
