/**
 * The automatic rollback under core/automation, with the ops table on the local engine: the
 * pause honoured (an expired one ignored), the repeat guard escalating (P0 stays P0, saying
 * so), and the record and verification schedule of a rollback.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verificationRequestSchema } from '../../../core/automation/checks';
import { type HandlerDeps, handleEvent } from '../../../lambdas/traffic-rollback/handler';
import { AUTOMATION_TOPICS } from '../../helpers/automation';
import {
  ACCOUNT_ID,
  ALARMS,
  BLUE_TG,
  engine,
  engineClients,
  GREEN_TG,
  LISTENER_ARN,
  lastShiftItem,
  metricValue,
  mocks,
  observability,
  REGION,
  resetEngine,
  rollbackEnv,
  storedAudit,
  WEIGHTS_PARAMETER,
  world,
} from '../traffic-shift/harness';

const ENV = rollbackEnv({ windowMinutes: 60, cooldownMinutes: 30 });
const NOW = new Date('2026-11-25T04:12:35.000Z');

function alarmEvent() {
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
    },
  };
}

let obs: ReturnType<typeof observability>;

function deps(): HandlerDeps {
  return {
    clients: engineClients(),
    env: ENV,
    now: () => NOW,
    observability: { logger: obs.logger, metrics: obs.metrics },
  };
}

const published = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const pause = (until: string) => ({
  pk: 'AUTOMATION',
  sk: 'PAUSE',
  reason: 'incident 4711: hands off the traffic',
  until,
  by: 'bob',
  at: '2026-11-25T04:00:00.000Z',
});

beforeEach(async () => {
  await resetEngine({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
  obs = observability('traffic-rollback');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the pause', () => {
  it('holds the rollback: weights untouched, audited, P0 told what would have been done, once', async () => {
    await engine().seed(pause('2026-11-25T06:00:00.000Z'));
    const result = await handleEvent(alarmEvent(), deps());

    expect(result).toMatchObject({ outcome: 'held', held: 'paused', notified: true });
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(world.listener).toEqual({ blue: 0, green: 100 });
    const [notice] = published();
    expect(notice?.TopicArn).toBe(AUTOMATION_TOPICS.P0);
    expect(notice?.Message).toContain('automation is PAUSED');
    expect(notice?.Message).toContain('incident 4711: hands off the traffic');
    expect(notice?.Message).toContain('until 2026-11-25T06:00:00.000Z');
    expect(notice?.Message).toContain('restored the weights from before the last traffic shift');
    expect(await storedAudit()).toEqual([
      expect.objectContaining({
        action: 'traffic-rollback',
        outcome: 'skipped',
        details: expect.objectContaining({ held: 'paused' }),
      }),
    ]);
    expect(metricValue(obs.emf, 'TrafficRollbackHeld')).toBe(1);

    // A redelivery of the same transition pages nobody again.
    mocks.sns.resetHistory();
    const again = await handleEvent({ ...alarmEvent(), id: 'f0e1d2c3-0000-4000-8000-000000000001' }, deps());
    expect(again).toMatchObject({ outcome: 'held', notified: false });
    expect(published()).toEqual([]);
  });

  it('ignores an expired pause: the rollback runs', async () => {
    await engine().seed(pause('2026-11-25T04:10:00.000Z'));
    const result = await handleEvent(alarmEvent(), deps());
    expect(result).toMatchObject({ outcome: 'handled', rollback: { changed: true } });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });
});

describe('the repeat guard', () => {
  it('escalates instead of rolling back again; P0 stays P0 and says so', async () => {
    for (const [minutes, id] of [
      [40, 'r1'],
      [25, 'r2'],
      [5, 'r3'],
    ] as const) {
      const at = new Date(NOW.getTime() - minutes * 60_000).toISOString();
      await engine().seed({
        pk: 'AUTOMATION_ACTION',
        sk: `${at}#${id}`,
        trigger: ALARMS.p0,
        action: 'traffic-rollback',
      });
    }
    const result = await handleEvent(alarmEvent(), deps());
    expect(result).toMatchObject({ outcome: 'held', held: 'repeated', notified: true });
    expect(world.listener).toEqual({ blue: 0, green: 100 });
    const [notice] = published();
    expect(notice?.TopicArn).toBe(AUTOMATION_TOPICS.P0);
    expect(notice?.Subject).toContain('P0 ESCALATED');
    expect(notice?.Message).toContain('ESCALATED (already P0)');
    expect(notice?.Message).toContain('already ran 3 times');
  });
});

describe('after rolling back', () => {
  it('records the rollback and schedules the read-back of the weights and the alarm', async () => {
    await handleEvent(alarmEvent(), deps());
    const records = (await engine().items()).filter((i) => i.pk === 'AUTOMATION_ACTION');
    expect(records).toEqual([
      expect.objectContaining({ action: 'traffic-rollback', trigger: ALARMS.p0, severity: 'P0' }),
    ]);
    const input = mocks.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    const request = verificationRequestSchema.parse(JSON.parse(String(input?.Target?.Input)));
    expect(request.checks).toEqual([
      { kind: 'alarm-ok', alarmName: ALARMS.p0 },
      {
        kind: 'weights',
        listenerArn: LISTENER_ARN,
        targetGroups: { blue: BLUE_TG, green: GREEN_TG },
        weightsParameter: WEIGHTS_PARAMETER,
        expected: { blue: 100, green: 0 },
      },
    ]);
    expect(published()[0]?.Message).toContain('Verification: at 2026-11-25T04:22:35.000Z');
  });
});
