import 'aws-sdk-client-mock-vitest/extend';
// The kill switch under core/automation, on the local engine: the pause honoured (an expired one
// ignored), the repeat guard escalating P1 -> P0, and the record and verification of an engagement.
import { CreateScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { verificationRequestSchema } from '../../../core/automation/checks';
import { handleEvent } from '../../../lambdas/budget-guard/handler';
import { AUTOMATION_TOPICS } from '../../helpers/automation';
import { ACTUAL_100, BUDGET_NAME, snsEvent } from './fixtures';
import { auditItems, HANDLER_NOW, handlerWorld, mocks, STATE_MACHINE_ARN, stateItem } from './harness';

const hw = handlerWorld();

const published = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const pause = (until: string) => ({
  pk: 'AUTOMATION',
  sk: 'PAUSE',
  reason: 'billing migration: spend figures are wrong today',
  until,
  by: 'carol',
  at: '2026-11-25T01:00:00.000Z',
});

describe('the pause', () => {
  it('holds the kill switch: batch left running, audited, P1 told what would have been done', async () => {
    await hw.table.seed(pause('2026-11-25T12:00:00.000Z'));
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());

    expect(result).toMatchObject({ outcome: 'held', held: 'paused', notified: true });
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(await stateItem(hw.table)).toBeUndefined();
    const [notice] = published();
    expect(notice?.TopicArn).toBe(AUTOMATION_TOPICS.P1);
    expect(notice?.Message).toContain('automation is PAUSED');
    expect(notice?.Message).toContain('billing migration: spend figures are wrong today');
    expect(notice?.Message).toContain(
      'engaged the kill switch (disabled the batch schedule default/fa-ai-system-prod-weekly-batch',
    );
    expect(await auditItems(hw.table)).toEqual([
      expect.objectContaining({
        action: 'kill-switch-engage',
        outcome: 'skipped',
        details: expect.objectContaining({ held: 'paused' }),
      }),
    ]);
  });

  it('ignores an expired pause: the kill switch engages', async () => {
    await hw.table.seed(pause('2026-11-25T04:00:00.000Z'));
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(result).toMatchObject({ outcome: 'engaged' });
    expect(mocks.scheduler).toHaveReceivedCommand(UpdateScheduleCommand);
  });
});

describe('the repeat guard', () => {
  it('escalates P1 -> P0 instead of engaging again', async () => {
    for (const [minutes, id] of [
      [50, 'k1'],
      [30, 'k2'],
      [10, 'k3'],
    ] as const) {
      const at = new Date(HANDLER_NOW.getTime() - minutes * 60_000).toISOString();
      await hw.table.seed({
        pk: 'AUTOMATION_ACTION',
        sk: `${at}#${id}`,
        trigger: BUDGET_NAME,
        action: 'kill-switch-engage',
      });
    }
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(result).toMatchObject({ outcome: 'held', held: 'repeated' });
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    const [notice] = published();
    expect(notice?.TopicArn).toBe(AUTOMATION_TOPICS.P0);
    expect(notice?.Message).toContain('ESCALATED P1 -> P0');
  });
});

describe('after engaging', () => {
  it('records the engagement and schedules the read-back of the schedule and executions', async () => {
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(result).toMatchObject({ outcome: 'engaged' });
    const records = (await hw.table.items()).filter((i) => i.pk === 'AUTOMATION_ACTION');
    expect(records).toEqual([
      expect.objectContaining({
        action: 'kill-switch-engage',
        trigger: BUDGET_NAME,
        severity: 'P1',
        auditSk: expect.any(String),
      }),
    ]);
    const input = mocks.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    const request = verificationRequestSchema.parse(JSON.parse(String(input?.Target?.Input)));
    expect(request.checks).toEqual([
      {
        kind: 'kill-switch',
        scheduleName: 'fa-ai-system-prod-weekly-batch',
        scheduleGroup: 'default',
        stateMachineArn: STATE_MACHINE_ARN,
      },
    ]);
  });

  it('tells P1 when the verification cannot be scheduled', async () => {
    mocks.scheduler
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(result).toMatchObject({ outcome: 'engaged' });
    expect(published().map((p) => p.Subject)).toContain(
      '[prod] P1 kill switch engaged, its verification NOT scheduled',
    );
  });
});
