import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  rollbackToLastKnownGood,
  WeightsNotWrittenError,
  WeightsPartiallyWrittenError,
} from '../../../core/traffic';
import {
  awsError,
  CONFIG,
  engine,
  engineClients,
  executionArn,
  lastShiftItem,
  lockItem,
  mocks,
  RoundTripTracker,
  rollbackItem,
  stored,
  storedAudit,
  world,
} from '../../lambdas/traffic-shift/harness';

import { AUTO, CLI, NOW, OPTIONS, reset, writes } from './traffic-fixtures';

beforeEach(() => reset());

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
