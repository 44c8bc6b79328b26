/**
 * The remediation under core/automation, on the local DynamoDB engine: the pause honoured by
 * both actions (an expired one ignored), the repeat guard escalating instead of acting, and the
 * record and verification schedule of an action taken.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verificationRequestSchema } from '../../../core/automation/checks';
import { type HandlerDeps, handleEvent } from '../../../lambdas/remediation/handler';
import { RemediationFailedError } from '../../../lambdas/remediation/logic';
import {
  AUTOMATION_TOPICS,
  VERIFIER_ARN,
  VERIFY_GROUP,
  VERIFY_SCHEDULER_ROLE,
} from '../../helpers/automation';
import type { LocalOpsTable } from '../../helpers/dynalite';
import { alarmEvent, envOf, mocks, NOW, observability, world } from './harness';

let table: LocalOpsTable;
let clients: HandlerDeps['clients'];
let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients,
    env: envOf(table),
    now: () => NOW,
    leaseMs: 65_000,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

const pause = (until: string) => ({
  pk: 'AUTOMATION',
  sk: 'PAUSE',
  reason: 'change freeze for the 4.2 release',
  until,
  by: 'alice',
  at: '2026-11-25T03:00:00.000Z',
});
const actionRecord = (minutesAgo: number, trigger: string, action: string, id: string) => {
  const at = new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
  return {
    pk: 'AUTOMATION_ACTION',
    sk: `${at}#${id}`,
    trigger,
    action,
    severity: 'P2',
    source: 'remediation',
  };
};
const published = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const updates = () => mocks.ecs.commandCalls(UpdateServiceCommand).length;
const audits = async () => (await table.items()).filter((i) => i.pk === 'AUDIT');
const records = async () => (await table.items()).filter((i) => i.pk === 'AUTOMATION_ACTION');

beforeEach(async () => {
  const w = await world();
  table = w.table;
  clients = w.clients;
  obs = observability();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await table.drop();
});

describe('the pause', () => {
  it.each([
    [
      'force-new-deployment',
      'log-db-pool-exhausted',
      'P1',
      'force a new deployment of the blue (live) service',
    ],
    [
      'scale-out',
      'blue-cpu-high',
      'P2',
      'scale the blue (live) service fa-ai-system-blue-service out from 2 to 3',
    ],
  ])(
    'holds %s: nothing changed, audited, the alarm topic told what would have been done',
    async (action, alarm, severity, would) => {
      await table.seed(pause('2026-11-25T18:00:00.000Z'));
      const result = await handleEvent(alarmEvent(alarm), deps());

      expect(result).toMatchObject({ outcome: 'skipped', skip: 'paused', action });
      expect(updates()).toBe(0);
      expect(mocks.scheduler).not.toHaveReceivedCommand(CreateScheduleCommand);
      const [message] = published();
      expect(message?.TopicArn).toBe(AUTOMATION_TOPICS[severity as 'P1' | 'P2']);
      expect(message?.Message).toContain('automation is PAUSED');
      expect(message?.Message).toContain('change freeze for the 4.2 release');
      expect(message?.Message).toContain('until 2026-11-25T18:00:00.000Z');
      expect(message?.Message).toContain(would);
      expect(await audits()).toEqual([
        expect.objectContaining({
          action,
          outcome: 'skipped',
          details: expect.objectContaining({ skip: 'paused' }),
        }),
      ]);
      // A held action is not a repeat.
      expect(await records()).toEqual([]);
    },
  );

  it('ignores an expired pause: the action is taken', async () => {
    await table.seed(pause('2026-11-25T04:00:00.000Z'));
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated', action: 'scale-out' });
    expect(updates()).toBe(1);
  });

  it('does not act when the pause cannot be read (in doubt, nothing destructive), and reports', async () => {
    await table.seed({ pk: 'AUTOMATION', sk: 'PAUSE', reason: 'broken' });
    await expect(handleEvent(alarmEvent('blue-cpu-high'), deps())).rejects.toThrow(RemediationFailedError);
    expect(updates()).toBe(0);
    expect(published()[0]?.Message).toContain('FAILED');
  });
});

describe('the repeat guard', () => {
  it('escalates one severity up instead of acting again', async () => {
    await table.seed(
      actionRecord(50, 'fa-ai-system-prod-blue-cpu-high', 'scale-out', 'a1'),
      actionRecord(30, 'fa-ai-system-prod-blue-cpu-high', 'scale-out', 'a2'),
      actionRecord(10, 'fa-ai-system-prod-blue-cpu-high', 'scale-out', 'a3'),
    );
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());

    expect(result).toMatchObject({ outcome: 'skipped', skip: 'repeated', topicArn: AUTOMATION_TOPICS.P1 });
    expect(updates()).toBe(0);
    const [message] = published();
    expect(message?.TopicArn).toBe(AUTOMATION_TOPICS.P1);
    expect(message?.Subject).toContain('P1 ESCALATED');
    expect(message?.Message).toContain('ESCALATED P2 -> P1');
    expect(message?.Message).toContain(
      'already ran 3 times for fa-ai-system-prod-blue-cpu-high in the last 60 minutes',
    );
  });

  it('counts only the same alarm and action within the window', async () => {
    await table.seed(
      actionRecord(70, 'fa-ai-system-prod-blue-cpu-high', 'scale-out', 'old'),
      actionRecord(30, 'fa-ai-system-prod-blue-memory-high', 'scale-out', 'other-alarm'),
      actionRecord(20, 'fa-ai-system-prod-blue-cpu-high', 'force-new-deployment', 'other-action'),
      actionRecord(10, 'fa-ai-system-prod-blue-cpu-high', 'scale-out', 'a1'),
      actionRecord(5, 'fa-ai-system-prod-blue-cpu-high', 'scale-out', 'a2'),
    );
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(updates()).toBe(1);
  });
});

describe('after acting', () => {
  it('records the action and schedules its verification with the checks of its effect', async () => {
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated' });

    const [record] = await records();
    expect(record).toMatchObject({
      trigger: 'fa-ai-system-prod-blue-cpu-high',
      action: 'scale-out',
      severity: 'P2',
      source: 'remediation',
      verifyAt: '2026-11-25T04:22:35.000Z',
    });
    const [call] = mocks.scheduler.commandCalls(CreateScheduleCommand);
    const input = call?.args[0].input;
    expect(input).toMatchObject({
      GroupName: VERIFY_GROUP,
      ScheduleExpression: 'at(2026-11-25T04:22:35)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: VERIFIER_ARN, RoleArn: VERIFY_SCHEDULER_ROLE },
    });
    const request = verificationRequestSchema.parse(JSON.parse(String(input?.Target?.Input)));
    expect(request.recordSk).toBe(record?.sk);
    expect(request.checks).toEqual([
      { kind: 'alarm-ok', alarmName: 'fa-ai-system-prod-blue-cpu-high' },
      {
        kind: 'service',
        cluster: 'fa-ai-system-prod',
        service: 'fa-ai-system-blue-service',
        desiredAtLeast: 3,
      },
    ]);
    expect(published()[0]?.Message).toContain('Verification: at 2026-11-25T04:22:35.000Z');
  });

  it('a new deployment is verified against the deployment it replaced', async () => {
    await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());
    const input = mocks.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    const request = verificationRequestSchema.parse(JSON.parse(String(input?.Target?.Input)));
    expect(request.checks[1]).toEqual({
      kind: 'service',
      cluster: 'fa-ai-system-prod',
      service: 'fa-ai-system-blue-service',
      notDeployment: 'ecs-svc/blue0001',
    });
  });

  it('says so when the verification cannot be scheduled: nobody would check', async () => {
    mocks.scheduler
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(published()[0]?.Message).toContain(
      'its verification was NOT scheduled, nobody will check the effect',
    );
    // Still counted by the repeat guard.
    expect(await records()).toHaveLength(1);
  });
});
