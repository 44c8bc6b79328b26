import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { WeightsNotWrittenError, WeightsPartiallyWrittenError } from '../../../core/traffic';
import { type HandlerDeps, handleEvent } from '../../../lambdas/traffic-rollback/handler';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  ACCOUNT_ID,
  ALARMS,
  ALERT_TOPIC_ARN,
  awsError,
  engine,
  engineCalls,
  engineClients,
  executionArn,
  lastShiftItem,
  lockItem,
  metricValue,
  mocks,
  observability,
  REGION,
  ROLLBACK_ENV,
  resetEngine,
  resetWorld,
  rollbackEnv,
  rollbackItem,
  stored,
  storedAudit,
  world,
} from '../traffic-shift/harness';

checkDeclaredCalls('traffic-rollback');

const ENV = ROLLBACK_ENV;
// The shift completed at 04:00; the P0 fires 12 minutes later.
const NOW = new Date('2026-11-25T04:12:35.000Z');

/**
 * A composite alarm's state change as EventBridge delivers it (shape of the CloudWatch
 * documentation's "Composite alarm" example).
 */
function alarmEvent(state: string, previous: string, alarmName = ALARMS.p0) {
  return {
    version: '0',
    id: '2dde0eb1-528b-d2d5-9ca6-6d590caf2329',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT_ID,
    time: '2026-11-25T04:12:31Z',
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: state,
        reason: `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${ALARMS.green[0]} transitioned to ALARM at Wednesday 25 November, 2026 04:12:30 UTC`,
        reasonData: JSON.stringify({
          triggeringAlarms: [
            {
              arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${ALARMS.green[0]}`,
              state: { value: 'ALARM', timestamp: '2026-11-25T04:12:30.994+0000' },
            },
          ],
        }),
        timestamp: '2026-11-25T04:12:31.146+0000',
      },
      previousState: {
        value: previous,
        reason: `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${ALARMS.green[0]} transitioned to OK at Wednesday 25 November, 2026 03:02:11 UTC`,
        reasonData: '{"triggeringAlarms":[]}',
        timestamp: '2026-11-25T03:02:11.377+0000',
      },
      configuration: {
        alarmRule: ALARMS.green.map((name) => `ALARM("${name}")`).join(' OR '),
        description: 'P0: the service is down or failing for most users',
      },
    },
  };
}

/** `event` as delivered for a state change at `timestamp` (CloudWatch's format). */
function changedAt<T extends ReturnType<typeof alarmEvent>>(event: T, timestamp: string): T {
  return { ...event, detail: { ...event.detail, state: { ...event.detail.state, timestamp } } };
}

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
  await resetEngine({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
  obs = observability('traffic-rollback');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('P0 into ALARM', () => {
  it('rolls back a shift completed shortly before, and notifies', async () => {
    const result = await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    expect(result).toMatchObject({
      outcome: 'handled',
      notified: true,
      rollback: { changed: true, outcome: 'rolled-back', restored: { blue: 100, green: 0 } },
    });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
    expect((await stored('TRAFFIC', 'LAST_SHIFT'))?.status).toBe('rolled-back');
    expect((await storedAudit())[0]).toMatchObject({
      action: 'traffic-rollback',
      source: 'traffic-rollback',
      reason: expect.stringContaining(`P0 alarm ${ALARMS.p0} in ALARM since 2026-11-25T04:12:31.146+0000`),
    });
    const [notice] = published();
    expect(notice?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(notice?.Subject).toBe('[prod] P0: traffic rolled back to blue 100 / green 0');
    expect(notice?.Message).toContain('rolled back automatically');
    expect(metricValue(obs.emf, 'TrafficRolledBack')).toBe(1);
  });

  it('stops a shift still running', async () => {
    const running = executionArn('to-green-1');
    await resetEngine({
      listener: { blue: 50, green: 50 },
      items: [
        lastShiftItem({ status: 'in-progress', completedAt: undefined }),
        lockItem({ executionArn: running }),
      ],
    });
    await handleEvent(alarmEvent('ALARM', 'INSUFFICIENT_DATA'), deps());
    expect(mocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: running });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(published()[0]?.Message).toContain(`Stopped the running shift: ${running}.`);
  });

  it('does nothing and pages nobody for a duplicate delivery of the same transition', async () => {
    await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    mocks.elbv2.resetHistory();
    mocks.sns.resetHistory();
    const listenerAfter = world.listener;
    const itemsAfter = await engine().items();
    // A redelivery: another event id (EventBridge) and later, but the same alarm transition.
    const again = await handleEvent(
      { ...alarmEvent('ALARM', 'OK'), id: 'f0e1d2c3-0000-4000-8000-000000000001' },
      deps({ now: () => new Date(NOW.getTime() + 5000) }),
    );
    expect(again).toMatchObject({
      outcome: 'duplicate',
      notified: false,
      rollback: { changed: false, outcome: 'already-rolled-back' },
    });
    expect(published()).toEqual([]);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(world.listener).toEqual(listenerAfter);
    expect(await engine().items()).toEqual(itemsAfter);
    expect(metricValue(obs.emf, 'TrafficRollbackDuplicate')).toBe(1);
  });

  it('pages once for two deliveries of the same transition handled at the same time', async () => {
    const results = await Promise.all([
      handleEvent(alarmEvent('ALARM', 'OK'), deps()),
      handleEvent(alarmEvent('ALARM', 'OK'), deps()),
    ]);
    expect(published()).toHaveLength(1);
    expect(results.map((r) => r.outcome).sort()).toEqual(['duplicate', 'handled']);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('pages a duplicate that still changed the weights: the state moved since the first delivery', async () => {
    await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    // Someone put the shift's weights back by hand (not a new shift) before the redelivery.
    resetWorld({ listener: { blue: 0, green: 100 } });
    await engine().seed(lastShiftItem());
    // The shortest cool-down config allows, and the redelivery after it, or the first delivery's
    // rollback would hold this one off.
    const again = await handleEvent(
      alarmEvent('ALARM', 'OK'),
      deps({ env: rollbackEnv({ cooldownMinutes: 1 }), now: () => new Date(NOW.getTime() + 120_000) }),
    );
    expect(again).toMatchObject({ outcome: 'duplicate', notified: true, rollback: { changed: true } });
    expect(published()).toHaveLength(1);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('pages for each new transition of the alarm', async () => {
    await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    const next = changedAt(alarmEvent('ALARM', 'OK'), '2026-11-25T04:14:02.511+0000');
    await expect(
      handleEvent(next, deps({ now: () => new Date(NOW.getTime() + 90_000) })),
    ).resolves.toMatchObject({ outcome: 'handled', rollback: { outcome: 'already-rolled-back' } });
    expect(published()).toHaveLength(2);
  });

  it('never flaps: within the cool-down of the last rollback nothing changes', async () => {
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [lastShiftItem(), rollbackItem({ at: '2026-11-25T04:01:00.000Z' })],
    });
    const result = await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    expect(result).toMatchObject({ rollback: { changed: false, outcome: 'cooldown' } });
    expect(world.listener).toEqual({ blue: 0, green: 100 });
    expect(published()[0]?.Message).toContain('To roll back anyway: `npm run ops -- rollback`.');
  });

  it('does nothing for a shift completed outside the window', async () => {
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [lastShiftItem({ completedAt: '2026-11-25T02:30:00.000Z' })],
    });
    const result = await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    expect(result).toMatchObject({ rollback: { changed: false, outcome: 'outside-window' } });
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(published()[0]?.Message).toMatch(/outside the 60-minute window/);
  });

  it('honours the configured window', async () => {
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [lastShiftItem({ completedAt: '2026-11-25T02:30:00.000Z' })],
    });
    const result = await handleEvent(
      alarmEvent('ALARM', 'OK'),
      deps({ env: rollbackEnv({ windowMinutes: 180 }) }),
    );
    expect(result).toMatchObject({ rollback: { changed: true } });
  });

  it('notifies and fails (for the retry) when the weights cannot be written', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'denied'));
    mocks.ssm.rejects(awsError('AccessDeniedException', 'denied'));
    await expect(handleEvent(alarmEvent('ALARM', 'OK'), deps())).rejects.toThrow(WeightsNotWrittenError);
    expect(published()[0]?.Subject).toBe('[prod] Automatic traffic rollback FAILED');
    expect(metricValue(obs.emf, 'TrafficRollbackFailed')).toBe(1);
  });
});

describe('late and replayed events', () => {
  it('measures the window from the alarm: a late event still rolls back the shift before it', async () => {
    // Completed at 03:20, the alarm at 04:12:31 (52 minutes later, inside the 60-minute window);
    // processed at 04:25, 65 minutes after the shift.
    await resetEngine({
      listener: { blue: 0, green: 100 },
      items: [lastShiftItem({ completedAt: '2026-11-25T03:20:00.000Z' })],
    });
    const result = await handleEvent(
      alarmEvent('ALARM', 'OK'),
      deps({ now: () => new Date('2026-11-25T04:25:00.000Z') }),
    );
    expect(result).toMatchObject({ outcome: 'handled', rollback: { outcome: 'rolled-back' } });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('does not roll back a shift that started after the alarm', async () => {
    const after = lastShiftItem({
      executionArn: executionArn('to-green-2'),
      status: 'in-progress',
      startedAt: '2026-11-25T04:15:00.000Z',
      completedAt: undefined,
      final: undefined,
    });
    await resetEngine({
      listener: { blue: 50, green: 50 },
      items: [after, lockItem({ executionArn: after.executionArn })],
    });
    const result = await handleEvent(
      alarmEvent('ALARM', 'OK'),
      deps({ now: () => new Date('2026-11-25T04:20:00.000Z') }),
    );
    expect(result).toMatchObject({
      outcome: 'handled',
      rollback: { changed: false, outcome: 'outside-window' },
    });
    expect(world.listener).toEqual({ blue: 50, green: 50 });
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toEqual(after);
    expect(published()[0]?.Message).toMatch(/started at 2026-11-25T04:15:00.000Z, after the alarm/);
  });

  it('changes nothing for an event older than the maximum age, and pages that it did not act', async () => {
    const before = await engine().items();
    const late = () => new Date('2026-11-25T04:40:00.000Z');
    const result = await handleEvent(alarmEvent('ALARM', 'OK'), deps({ now: late }));
    expect(result).toMatchObject({ outcome: 'stale', notified: true });
    expect(world.listener).toEqual({ blue: 0, green: 100 });
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect((await engine().items()).filter((i) => !String(i.sk).startsWith('ALARM_EVENT#'))).toEqual(before);
    const [page] = published();
    expect(page?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(page?.Subject).toBe('[prod] P0: automatic rollback did NOT act (event 27 min old)');
    expect(page?.Message).toMatch(/over the 15-minute maximum age/);
    expect(metricValue(obs.emf, 'TrafficRollbackStale')).toBe(1);

    // Its redelivery pages nobody.
    await expect(handleEvent(alarmEvent('ALARM', 'OK'), deps({ now: late }))).resolves.toMatchObject({
      outcome: 'stale',
      notified: false,
    });
    expect(published()).toHaveLength(1);
  });

  it('honours the configured maximum age', async () => {
    const result = await handleEvent(
      alarmEvent('ALARM', 'OK'),
      deps({
        env: rollbackEnv({ maxEventAgeMinutes: 60 }),
        now: () => new Date('2026-11-25T04:40:00.000Z'),
      }),
    );
    expect(result).toMatchObject({ outcome: 'handled', rollback: { changed: true } });
  });
});

describe('failures', () => {
  it('retries throttled ops table calls', async () => {
    engine().failWith({
      operation: 'GetItem',
      error: () => awsError('ProvisionedThroughputExceededException', 'slow down'),
      times: 2,
    });
    engine().failWith({
      operation: 'UpdateItem',
      error: () => awsError('ThrottlingException', 'Rate exceeded'),
      times: 1,
    });
    const result = await handleEvent(alarmEvent('ALARM', 'OK'), deps());
    expect(result).toMatchObject({ rollback: { changed: true, problems: [] } });
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toMatchObject({ status: 'rolled-back' });
  });

  it('on a partial write pages the failure, leaves the shift unmarked, and the retry acts and pages', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejectsOnce(awsError('AccessDenied', 'denied'));
    await expect(handleEvent(alarmEvent('ALARM', 'OK'), deps())).rejects.toThrow(
      WeightsPartiallyWrittenError,
    );
    expect(published()[0]?.Subject).toBe('[prod] Automatic traffic rollback FAILED');
    expect(await stored('TRAFFIC', 'LAST_SHIFT')).toEqual(lastShiftItem());
    expect(await stored('TRAFFIC', 'ROLLBACK')).toBeUndefined();

    // Lambda's retry of the same event is not a duplicate: the failed attempt recorded nothing.
    // The listener can be written again (the mocks answer from the world as it is).
    resetWorld({ listener: world.listener, parameter: world.parameter });
    const retried = await handleEvent(
      alarmEvent('ALARM', 'OK'),
      deps({ now: () => new Date(NOW.getTime() + 60_000) }),
    );
    expect(retried).toMatchObject({ outcome: 'handled', rollback: { changed: true } });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(published()).toEqual([
      expect.objectContaining({ Subject: '[prod] P0: traffic rolled back to blue 100 / green 0' }),
    ]);
  });
});

describe('ignored events', () => {
  it('ignores ALARM -> ALARM (no transition)', async () => {
    await expect(handleEvent(alarmEvent('ALARM', 'ALARM'), deps())).resolves.toMatchObject({
      outcome: 'ignored',
    });
    expect(awsCalls()).toBe(0);
    expect(metricValue(obs.emf, 'TrafficRollbackIgnored')).toBe(1);
  });

  it('ignores ALARM -> OK', async () => {
    await expect(handleEvent(alarmEvent('OK', 'ALARM'), deps())).resolves.toMatchObject({
      outcome: 'ignored',
      reason: 'ALARM -> OK is not a transition into ALARM',
    });
    expect(awsCalls()).toBe(0);
  });

  it('ignores an alarm of another environment', async () => {
    await expect(handleEvent(alarmEvent('ALARM', 'OK', 'some-other-alarm'), deps())).resolves.toMatchObject({
      outcome: 'ignored',
    });
    expect(awsCalls()).toBe(0);
  });

  it('ignores an alarm whose catalogue response is not a rollback', async () => {
    await expect(
      handleEvent(alarmEvent('ALARM', 'OK', 'fa-ai-system-prod-green-error-rate'), deps()),
    ).resolves.toMatchObject({
      outcome: 'ignored',
      reason:
        'alarm fa-ai-system-prod-green-error-rate does not roll traffic back (its catalogue response is none)',
    });
    expect(awsCalls()).toBe(0);
  });

  it('acts on the response the facts give, not on the name', async () => {
    const facts = JSON.parse(ENV.ALARM_FACTS ?? '{}') as { alarms: Record<string, string[]> };
    facts.alarms = Object.fromEntries(
      Object.entries(facts.alarms)
        .map(([key, ids]) => [key, ids.filter((id) => id !== 'p0')] as const)
        .filter(([, ids]) => ids.length > 0),
    );
    facts.alarms['P0 none'] = ['p0'];
    const env = { ...ENV, ALARM_FACTS: JSON.stringify(facts) };
    await expect(handleEvent(alarmEvent('ALARM', 'OK'), deps({ env }))).resolves.toMatchObject({
      outcome: 'ignored',
    });
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });
});

describe('an alarm the catalogue does not know', () => {
  const UNKNOWN = 'fa-ai-system-prod-hand-made-alarm';

  it('changes nothing and pages once per transition', async () => {
    const first = await handleEvent(alarmEvent('ALARM', 'OK', UNKNOWN), deps());
    expect(first).toMatchObject({ outcome: 'unknown-alarm', notified: true });
    expect(world.listener).toEqual({ blue: 0, green: 100 });
    expect(published()).toEqual([
      expect.objectContaining({
        TopicArn: ALERT_TOPIC_ARN,
        Subject: `[prod] Automatic rollback: unknown alarm ${UNKNOWN}, NO action`,
      }),
    ]);
    expect(metricValue(obs.emf, 'TrafficRollbackUnknownAlarm')).toBe(1);

    const duplicate = await handleEvent(alarmEvent('ALARM', 'OK', UNKNOWN), deps());
    expect(duplicate).toMatchObject({ outcome: 'unknown-alarm', notified: false });
    expect(published()).toHaveLength(1);
  });
});

describe('malformed events', () => {
  it.each([
    ['an empty event', {}],
    [
      'another detail type',
      { ...alarmEvent('ALARM', 'OK'), 'detail-type': 'CloudWatch Alarm Configuration Change' },
    ],
    [
      'a state that is not a state',
      { ...alarmEvent('ALARM', 'OK'), detail: { alarmName: ALARMS.p0, state: { value: 'RED' } } },
    ],
    ['an SNS event', { Records: [{ EventSource: 'aws:sns', Sns: { Message: '{}' } }] }],
  ])('rejects %s with InvalidInputError, doing nothing', async (_, event) => {
    await expect(handleEvent(event, deps())).rejects.toThrow(InvalidInputError);
    expect(awsCalls()).toBe(0);
    expect(world.listener).toEqual({ blue: 0, green: 100 });
  });

  it('rejects an unreadable state time, doing nothing', async () => {
    await expect(handleEvent(changedAt(alarmEvent('ALARM', 'OK'), 'yesterday'), deps())).rejects.toThrow(
      InvalidInputError,
    );
    expect(world.listener).toEqual({ blue: 0, green: 100 });
    expect(published()).toEqual([]);
  });

  it('rejects a bad window setting', async () => {
    await expect(
      handleEvent(alarmEvent('ALARM', 'OK'), deps({ env: { ...ENV, ROLLBACK_COOLDOWN_MINUTES: 'soon' } })),
    ).rejects.toThrow(/ROLLBACK_COOLDOWN_MINUTES/);
    expect(awsCalls()).toBe(0);
  });
});
