import 'aws-sdk-client-mock-vitest/extend';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verificationRequestSchema } from '../../../core/automation/checks';
import { InvalidInputError } from '../../../core/errors';
import { InvalidWeightsError, ShiftInProgressError } from '../../../core/traffic';
import { type HandlerDeps, handleEvent } from '../../../lambdas/traffic-shift/handler';
import { AlarmNotFoundError, ShiftNotActiveError } from '../../../lambdas/traffic-shift/logic';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  ALARMS,
  ALERT_TOPIC_ARN,
  ENV,
  engine,
  engineCalls,
  engineClients,
  executionArn,
  lastShiftItem,
  lockItem,
  metricValue,
  mocks,
  observability,
  resetEngine,
  stored,
  storedAudit,
  world,
} from './harness';

checkDeclaredCalls('traffic-shift');

const NOW = new Date('2026-11-25T04:12:35.000Z');
const EXECUTION = executionArn('to-green-20261125T041235Z-1a2b3c4d');
const IN_PROGRESS = lastShiftItem({
  executionArn: EXECUTION,
  status: 'in-progress',
  startedAt: '2026-11-25T04:00:00.000Z',
  completedAt: undefined,
  final: undefined,
});

let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: engineClients(),
    env: ENV,
    now: () => NOW,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

function published(): Array<{ Subject?: string; Message?: string; TopicArn?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

/** Calls to the mocked services and to the engine. */
function awsCalls(): number {
  return Object.values(mocks).reduce((n, mock) => n + mock.calls().length, 0) + engineCalls().length;
}

beforeEach(async () => {
  await resetEngine();
  obs = observability('traffic-shift');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('begin', () => {
  const begin = {
    action: 'begin',
    executionArn: EXECUTION,
    to: 'green',
    steps: [10, 50, 100],
    bakeSeconds: 300,
    requestedBy: 'alice',
  };

  it('takes the lock, plans from the live weights and records the shift', async () => {
    const result = await handleEvent(begin, deps());
    expect(result).toEqual({
      noop: false,
      from: { blue: 100, green: 0 },
      plan: [
        { blue: 90, green: 10 },
        { blue: 50, green: 50 },
        { blue: 0, green: 100 },
      ],
      alarmNames: [...ALARMS.green, ALARMS.p0],
    });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toMatchObject({ executionArn: EXECUTION, to: 'green' });
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      executionArn: EXECUTION,
      to: 'green',
      from: { blue: 100, green: 0 },
      status: 'in-progress',
      startedAt: NOW.toISOString(),
      requestedBy: 'alice',
    });
    expect(await storedAudit()).toEqual([
      expect.objectContaining({
        action: 'traffic-shift-start',
        source: 'traffic-shift',
        actor: 'alice',
        outcome: 'ok',
      }),
    ]);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(metricValue(obs.emf, 'TrafficShiftStarted')).toBe(1);
  });

  it('refuses a concurrent shift (ShiftInProgressError naming the running execution), changing nothing', async () => {
    const running = executionArn('to-green-earlier');
    await resetEngine({
      items: [lockItem({ executionArn: running, acquiredAt: '2026-11-25T04:00:00.000Z' }), IN_PROGRESS],
    });
    const error = await handleEvent(begin, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShiftInProgressError);
    expect((error as Error).message).toContain(running);
    expect((await stored('TRAFFIC', 'SHIFT_LOCK'))?.executionArn).toBe(running);
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toEqual(IN_PROGRESS);
    expect(metricValue(obs.emf, 'TrafficShiftRefused')).toBe(1);
  });

  it('does nothing when the target colour already has all the traffic, and releases the lock', async () => {
    await resetEngine({ listener: { blue: 0, green: 100 } });
    const result = await handleEvent(begin, deps());
    expect(result).toMatchObject({ noop: true, from: { blue: 0, green: 100 }, plan: [] });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toBeUndefined();
    expect((await storedAudit())[0]).toMatchObject({ action: 'traffic-shift-start', outcome: 'skipped' });
    expect(metricValue(obs.emf, 'TrafficShiftNoop')).toBe(1);
  });

  it('refuses live weights that are not percentages, and releases the lock', async () => {
    await resetEngine({ listener: { blue: 1, green: 1 } });
    await expect(handleEvent(begin, deps())).rejects.toThrow(InvalidWeightsError);
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toBeUndefined();
  });
});

describe('checkAlarms', () => {
  const check = { action: 'checkAlarms', alarmNames: [...ALARMS.green, ALARMS.p0] };

  it('is healthy when nothing is in ALARM (INSUFFICIENT_DATA included)', async () => {
    world.alarms.set(ALARMS.green[0] as string, 'INSUFFICIENT_DATA');
    await expect(handleEvent(check, deps())).resolves.toEqual({ healthy: true, firing: [] });
    expect(mocks.cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNames: check.alarmNames,
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('names the alarms firing, composite ones included', async () => {
    world.alarms.set(ALARMS.green[1] as string, 'ALARM');
    world.alarms.set(ALARMS.p0, 'ALARM');
    await expect(handleEvent(check, deps())).resolves.toEqual({
      healthy: false,
      firing: [ALARMS.green[1], ALARMS.p0],
    });
    expect(metricValue(obs.emf, 'TrafficGateFiring')).toBe(1);
  });

  it('fails when an alarm does not exist: a gate that cannot see its alarm must not pass', async () => {
    world.alarms.delete(ALARMS.p0);
    await expect(handleEvent(check, deps())).rejects.toThrow(AlarmNotFoundError);
    await expect(handleEvent(check, deps())).rejects.toThrow(`Alarm(s) not found: ${ALARMS.p0}`);
  });
});

describe('setWeights', () => {
  it('writes the step to the listener and the parameter, and audits it', async () => {
    await resetEngine({ items: [IN_PROGRESS] });
    const result = await handleEvent(
      { action: 'setWeights', executionArn: EXECUTION, weights: { blue: 90, green: 10 } },
      deps(),
    );
    expect(result).toEqual({ blue: 90, green: 10 });
    expect(world.listener).toEqual({ blue: 90, green: 10 });
    expect(world.parameter).toBe('90,10');
    expect((await storedAudit())[0]).toMatchObject({
      action: 'traffic-weights-set',
      outcome: 'ok',
      actor: 'alice',
    });
    expect(metricValue(obs.emf, 'TrafficWeightsSet')).toBe(1);
  });

  it('refuses once the shift was rolled back, so a late step cannot undo the rollback', async () => {
    await resetEngine({
      items: [{ ...IN_PROGRESS, status: 'rolled-back', rolledBackBy: 'traffic-rollback' }],
    });
    await expect(
      handleEvent(
        { action: 'setWeights', executionArn: EXECUTION, weights: { blue: 50, green: 50 } },
        deps(),
      ),
    ).rejects.toThrow(ShiftNotActiveError);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(mocks.ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });
});

describe('rollback', () => {
  it('restores from, records the rollback, releases the lock and notifies', async () => {
    await resetEngine({
      listener: { blue: 50, green: 50 },
      items: [IN_PROGRESS, lockItem({ executionArn: EXECUTION })],
    });
    const result = await handleEvent(
      {
        action: 'rollback',
        executionArn: EXECUTION,
        from: { blue: 100, green: 0 },
        reason: `Alarms firing: ["${ALARMS.green[0]}"]`,
        firing: [ALARMS.green[0]],
      },
      deps(),
    );
    expect(result).toEqual({ restored: { blue: 100, green: 0 } });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      status: 'rolled-back',
      rolledBackAt: NOW.toISOString(),
    });
    expect(await stored('TRAFFIC', 'ROLLBACK')).toMatchObject({
      by: 'traffic-shift',
      restored: { blue: 100, green: 0 },
    });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect((await storedAudit())[0]).toMatchObject({ action: 'traffic-shift-rollback', outcome: 'ok' });
    const [notice] = published();
    expect(notice?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(notice?.Subject).toBe('[prod] Traffic shift to green ROLLED BACK');
    expect(notice?.Message).toContain(`Shift to green rolled back (prod): alarms ${ALARMS.green[0]} firing.`);
    expect(metricValue(obs.emf, 'TrafficShiftRolledBack')).toBe(1);
  });

  it("uses the state machine's cause when no alarm list is given", async () => {
    await resetEngine({ listener: { blue: 90, green: 10 }, items: [IN_PROGRESS] });
    await handleEvent(
      {
        action: 'rollback',
        executionArn: EXECUTION,
        from: { blue: 100, green: 0 },
        reason: JSON.stringify({
          errorType: 'WeightsPartiallyWrittenError',
          errorMessage: 'only partly written',
        }),
      },
      deps(),
    );
    expect(published()[0]?.Message).toContain(
      'rolled back (prod): WeightsPartiallyWrittenError: only partly written.',
    );
  });

  it('records the rollback on alarm and schedules the read-back of the weights and the firing alarm', async () => {
    await resetEngine({ listener: { blue: 50, green: 50 }, items: [IN_PROGRESS] });
    await handleEvent(
      {
        action: 'rollback',
        executionArn: EXECUTION,
        from: { blue: 100, green: 0 },
        firing: [ALARMS.green[0]],
      },
      deps(),
    );
    const records = (await engine().items()).filter((i) => i.pk === 'AUTOMATION_ACTION');
    expect(records).toEqual([
      expect.objectContaining({ action: 'traffic-shift-rollback', trigger: EXECUTION, severity: 'P1' }),
    ]);
    const input = mocks.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    const request = verificationRequestSchema.parse(JSON.parse(String(input?.Target?.Input)));
    expect(request.checks.map((c) => c.kind)).toEqual(['weights', 'alarm-ok']);
    expect(request.checks[1]).toEqual({ kind: 'alarm-ok', alarmName: ALARMS.green[0] });
    expect(published()[0]?.Message).toContain('Verification: at 2026-11-25T04:22:35.000Z');
  });

  it('writes nothing when a newer shift is recorded', async () => {
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [{ ...IN_PROGRESS, executionArn: executionArn('newer') }],
    });
    await expect(
      handleEvent(
        { action: 'rollback', executionArn: EXECUTION, from: { blue: 100, green: 0 }, reason: 'x' },
        deps(),
      ),
    ).resolves.toEqual({ restored: null });
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });
});

describe('finish', () => {
  it('completes the shift, releases the lock, audits and notifies', async () => {
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [IN_PROGRESS, lockItem({ executionArn: EXECUTION })],
    });
    await expect(
      handleEvent({ action: 'finish', executionArn: EXECUTION, weights: { blue: 0, green: 100 } }, deps()),
    ).resolves.toEqual({});
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      status: 'completed',
      completedAt: NOW.toISOString(),
      final: { blue: 0, green: 100 },
    });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect((await storedAudit())[0]).toMatchObject({ action: 'traffic-shift-complete', actor: 'alice' });
    expect(published()[0]?.Subject).toBe('[prod] Traffic shift to green completed');
    expect(published()[0]?.Message).toContain('Weights: blue 100 / green 0 -> blue 0 / green 100.');
    expect(metricValue(obs.emf, 'TrafficShiftCompleted')).toBe(1);
  });

  it('releases only its own lock', async () => {
    const other = lockItem({ executionArn: executionArn('other') });
    await resetEngine({ items: [IN_PROGRESS, other] });
    await handleEvent(
      { action: 'finish', executionArn: EXECUTION, weights: { blue: 0, green: 100 } },
      deps(),
    );
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toEqual(other);
  });

  it('refuses to complete a shift rolled back meanwhile (ShiftNotActiveError)', async () => {
    await resetEngine({ items: [{ ...IN_PROGRESS, status: 'rolled-back' }] });
    await expect(
      handleEvent({ action: 'finish', executionArn: EXECUTION, weights: { blue: 0, green: 100 } }, deps()),
    ).rejects.toThrow(ShiftNotActiveError);
    expect((await stored('TRAFFIC', 'LAST_SHIFT'))?.status).toBe('rolled-back');
  });
});

describe('abort', () => {
  const abort = {
    action: 'abort',
    executionArn: EXECUTION,
    error: 'States.TaskFailed',
    cause: JSON.stringify({ errorType: 'ShiftNotActiveError', errorMessage: 'Cannot complete shift' }),
  };

  it('restores from when the live weights moved, releases the lock and notifies', async () => {
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [IN_PROGRESS, lockItem({ executionArn: EXECUTION })],
    });
    await expect(handleEvent(abort, deps())).resolves.toEqual({
      restored: { blue: 100, green: 0 },
      lockReleased: true,
    });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      status: 'rolled-back',
      rollbackReason: 'aborted: States.TaskFailed: ShiftNotActiveError: Cannot complete shift',
    });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect(published()[0]?.Subject).toBe('[prod] Traffic shift to green ABORTED');
  });

  it('writes no weights when they never moved (status aborted)', async () => {
    await resetEngine({
      listener: { blue: 100, green: 0 },
      items: [IN_PROGRESS, lockItem({ executionArn: EXECUTION })],
    });
    await expect(handleEvent(abort, deps())).resolves.toEqual({ restored: null, lockReleased: true });
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect((await stored('TRAFFIC', 'LAST_SHIFT'))?.status).toBe('aborted');
  });
});

describe('malformed input', () => {
  it.each([
    ['an empty event', {}],
    ['an unknown action', { action: 'explode' }],
    ['begin without a colour', { action: 'begin', executionArn: EXECUTION, steps: [100], bakeSeconds: 0 }],
    ['begin to red', { action: 'begin', executionArn: EXECUTION, to: 'red', steps: [100], bakeSeconds: 0 }],
    [
      'setWeights with text weights',
      { action: 'setWeights', executionArn: EXECUTION, weights: { blue: '90' } },
    ],
    ['checkAlarms without alarms', { action: 'checkAlarms', alarmNames: [] }],
    [
      'an execution that is not an ARN',
      { action: 'finish', executionArn: 'x', weights: { blue: 0, green: 100 } },
    ],
  ])('rejects %s with InvalidInputError and calls nothing', async (_, event) => {
    await expect(handleEvent(event, deps())).rejects.toThrow(InvalidInputError);
    expect(awsCalls()).toBe(0);
    expect(metricValue(obs.emf, 'TrafficShiftTaskFailed')).toBe(1);
  });

  it('rejects invalid steps before taking the lock', async () => {
    await expect(
      handleEvent(
        { action: 'begin', executionArn: EXECUTION, to: 'green', steps: [50, 10], bakeSeconds: 0 },
        deps(),
      ),
    ).rejects.toThrow(/Invalid step 10 after 50/);
    expect(awsCalls()).toBe(0);
  });

  it('rejects a broken configuration naming the variable', async () => {
    const { ALARMS_JSON: _dropped, ...env } = ENV;
    await expect(handleEvent({ action: 'checkAlarms', alarmNames: ['a'] }, deps({ env }))).rejects.toThrow(
      /Invalid function configuration: ALARMS_JSON/,
    );
  });
});
