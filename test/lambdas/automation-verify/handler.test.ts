/**
 * The verifier: the effect of an automated action read back, the outcome written once to its
 * record (the real engine decides the conditions), escalation one severity up with the facts,
 * and duplicate, racing, late and failed deliveries.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { type HandlerDeps, handleEvent } from '../../../lambdas/automation-verify/handler';
import { EscalationNotSentError } from '../../../lambdas/automation-verify/logic';
import { AUTOMATION_TOPICS } from '../../helpers/automation';
import { awsError, metricValue, observability } from '../../helpers/aws';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  ACTED,
  ALARM,
  audits,
  KILL_SWITCH_CHECK,
  loseWriteAnswer,
  mocks,
  published,
  record as recordOf,
  request,
  SERVICE,
  seedRecord,
  VERIFY_AT,
  verifyDeps,
  WEIGHTS_CHECK,
  world,
} from './harness';

checkDeclaredCalls('automation-verify');

let table: LocalOpsTable;
let obs: ReturnType<typeof observability>;

const deps = (overrides: Partial<HandlerDeps> = {}) => verifyDeps(table, obs, overrides);
const record = () => recordOf(table);

beforeEach(async () => {
  table = await createOpsTable();
  obs = observability('automation-verify');
  world();
  await seedRecord(table);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await table.drop();
});

describe('an effect that is there', () => {
  it('writes ok to the record, audits, pages nobody', async () => {
    const result = await handleEvent(request(), deps());
    expect(result).toMatchObject({ outcome: 'ok' });
    expect((await record())?.verification).toMatchObject({
      outcome: 'ok',
      notice: 'none',
      saw: [
        `OK: alarm ${ALARM} is OK`,
        `OK: service ${SERVICE}: desired 3, running 3, PRIMARY deployment ecs-svc/blue0002 COMPLETED`,
      ],
    });
    expect(published()).toEqual([]);
    expect(await audits(table)).toEqual([
      expect.objectContaining({ action: 'automation-verify', outcome: 'ok' }),
    ]);
    expect(metricValue(obs.emf, 'AutomationVerified')).toBe(1);
  });

  it('confirms restored weights on the listener and in the parameter', async () => {
    const result = await handleEvent(
      request({ action: 'traffic-rollback', severity: 'P0', checks: [WEIGHTS_CHECK] }),
      deps(),
    );
    expect(result).toMatchObject({ outcome: 'ok' });
  });
});

describe('an effect that is missing', () => {
  it('escalates one severity up with what was done and what was seen', async () => {
    world({ alarm: 'ALARM', desired: 3, running: 2 });
    const result = await handleEvent(request(), deps());
    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    const [notice] = published();
    expect(notice?.TopicArn).toBe(AUTOMATION_TOPICS.P1);
    expect(notice?.Subject).toBe(`[prod] P1 ESCALATED: scale-out did not fix ${ALARM}`);
    expect(notice?.Message).toContain('ESCALATED P2 -> P1');
    expect(notice?.Message).toContain(
      `What it did (remediation, ${ACTED.toISOString()}): Scaled the blue (live) service`,
    );
    expect(notice?.Message).toContain(
      `MISSING: alarm ${ALARM} is still ALARM since 2026-11-25T04:17:31.000Z`,
    );
    expect(notice?.Message).toContain('MISSING: service fa-ai-system-blue-service: running 2 of 3 desired');
    expect((await record())?.verification).toMatchObject({
      outcome: 'failed',
      escalatedTo: 'P1',
      notice: 'sent',
    });
    expect(await audits(table)).toEqual([
      expect.objectContaining({ action: 'automation-verify', outcome: 'failed' }),
    ]);
  });

  it('stays at P0 and says it escalated', async () => {
    world({ listener: [0, 100], stored: '100,0' });
    const result = await handleEvent(
      request({ action: 'traffic-rollback', severity: 'P0', checks: [WEIGHTS_CHECK] }),
      deps(),
    );
    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P0' });
    const [notice] = published();
    expect(notice?.TopicArn).toBe(AUTOMATION_TOPICS.P0);
    expect(notice?.Message).toContain('ESCALATED (already P0)');
    expect(notice?.Message).toContain('the listener holds blue 0 / green 100');
  });

  it('retries a throttled read and verifies', async () => {
    mocks.cloudwatch
      .on(DescribeAlarmsCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .resolvesOnce({
        $metadata: {},
        MetricAlarms: [{ AlarmName: ALARM, StateValue: 'OK' }],
        CompositeAlarms: [],
      });
    const result = await handleEvent(request(), deps());
    expect(result).toMatchObject({ outcome: 'ok' });
    expect(mocks.cloudwatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 2);
  });

  it('counts a read that fails as not confirmed, naming it', async () => {
    mocks.cloudwatch.on(DescribeAlarmsCommand).rejects(awsError('AccessDenied', 'not authorized'));
    const result = await handleEvent(request(), deps());
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(published()[0]?.Message).toContain(
      `MISSING: could not read alarm ${ALARM}: AccessDenied: not authorized`,
    );
  });

  it('reads the kill switch back: schedule and running executions', async () => {
    world({ schedule: 'ENABLED', running_executions: 1 });
    const result = await handleEvent(
      request({
        action: 'kill-switch-engage',
        severity: 'P1',
        trigger: 'fa-ai-system-prod-monthly',
        checks: [KILL_SWITCH_CHECK],
      }),
      deps(),
    );
    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P0' });
    expect(published()[0]?.Message).toContain('the schedule is ENABLED; 1 execution(s) still RUNNING: run-0');
  });
});

describe('deliveries', () => {
  it('does nothing for a duplicate delivery: no reads, no page', async () => {
    world({ alarm: 'ALARM' });
    await handleEvent(request(), deps());
    for (const m of Object.values(mocks)) m.resetHistory();
    const again = await handleEvent(request(), deps());
    expect(again).toMatchObject({ outcome: 'duplicate', republished: false });
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(published()).toEqual([]);
  });

  it('pages once for two deliveries racing', async () => {
    world({ alarm: 'ALARM' });
    const results = await Promise.all([handleEvent(request(), deps()), handleEvent(request(), deps())]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['duplicate', 'failed']);
    expect(published()).toHaveLength(1);
  });

  it('verifies a late delivery all the same, saying how late', async () => {
    world({ alarm: 'ALARM' });
    const result = await handleEvent(
      request(),
      deps({ now: () => new Date(VERIFY_AT.getTime() + 40 * 60_000) }),
    );
    expect(result).toMatchObject({ outcome: 'failed', lateMinutes: 40 });
    expect(published()[0]?.Message).toContain('(40 minutes late)');
  });

  it('keeps a failed escalation pending and publishes it on the retry', async () => {
    world({ alarm: 'ALARM' });
    mocks.sns.on(PublishCommand).rejects(awsError('InternalError', 'SNS is having a moment'));
    await expect(handleEvent(request(), deps())).rejects.toThrow(EscalationNotSentError);
    expect((await record())?.verification).toMatchObject({ outcome: 'failed', notice: 'pending' });

    mocks.sns.on(PublishCommand).resolves({ $metadata: {}, MessageId: 'retry-1' });
    mocks.cloudwatch.resetHistory();
    const retried = await handleEvent(request(), deps());
    expect(retried).toMatchObject({ outcome: 'duplicate', republished: true });
    // The outcome stands as first verified: nothing is read again.
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect((await record())?.verification).toMatchObject({ notice: 'sent' });
  });

  it('writes the whole record when the acting Lambda could not', async () => {
    await table.drop();
    table = await createOpsTable();
    const result = await handleEvent(request(), deps());
    expect(result).toMatchObject({ outcome: 'ok' });
    expect(await record()).toMatchObject({
      action: 'scale-out',
      trigger: ALARM,
      verification: { outcome: 'ok' },
    });
  });

  it('reports once when its whole-record write landed but the answer timed out', async () => {
    await table.drop();
    table = await createOpsTable();
    world({ alarm: 'ALARM' });
    loseWriteAnswer(table, 'PutItem');
    // The SDK retries the put, which meets the outcome it wrote itself: not a racing delivery's.
    const result = await handleEvent(request(), deps());
    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    expect(published()).toHaveLength(1);
    expect((await record())?.verification).toMatchObject({ outcome: 'failed', notice: 'sent' });
  });

  it('refuses anything but a verification request, doing nothing', async () => {
    await expect(handleEvent({ kind: 'automation-verify', version: 2 }, deps())).rejects.toThrow(
      InvalidInputError,
    );
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(metricValue(obs.emf, 'InvalidVerificationRequest')).toBe(1);
  });
});
