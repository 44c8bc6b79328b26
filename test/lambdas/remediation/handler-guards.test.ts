import 'aws-sdk-client-mock-vitest/extend';
import { AccessDeniedException, DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { handleEvent } from '../../../lambdas/remediation/handler';
import { RemediationFailedError, RemediationReportError } from '../../../lambdas/remediation/logic';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  audits,
  awsCalls,
  DRY_RUN_ENV,
  deps,
  expectFailedBeforeAnyChange,
  FND_OFF_ENV,
  mutatingCalls,
  published,
  state,
  useHandlerTests,
} from './handler-setup';
import { alarmEvent, awsError, ENV, metricValue, mocks, NOW, SERVICES, TOPICS } from './harness';

checkDeclaredCalls('remediation');
useHandlerTests();

describe('idempotency', () => {
  it('acts once on a duplicate delivery', async () => {
    const first = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());
    const second = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());

    expect(first.outcome).toBe('remediated');
    expect(second).toMatchObject({ outcome: 'duplicate', previousStatus: 'done' });
    expect(second.outcome === 'duplicate' && second.reason).toContain('duplicate delivery, NO action');
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(published()).toHaveLength(1);
    expect(audits()).toHaveLength(1);
    // The duplicate took no slot: one restart counted.
    expect(state.table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count).toBe(1);
    expect(metricValue(state.obs.emf, 'RemediationDuplicate')).toBe(1);
  });

  it("treats a live claim as a duplicate and an expired one as abandoned (Lambda's retry after a crash)", async () => {
    state.table.put({
      Item: {
        pk: 'REMEDIATION_EVENT',
        sk: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
        status: 'claimed',
        leaseUntil: NOW.getTime() + 1_000,
      },
    });
    expect(await handleEvent(alarmEvent('log-db-pool-exhausted'), deps())).toMatchObject({
      outcome: 'duplicate',
      previousStatus: 'claimed',
    });
    const later = new Date(NOW.getTime() + 2_000);
    expect(await handleEvent(alarmEvent('log-db-pool-exhausted'), deps({ now: () => later }))).toMatchObject({
      outcome: 'remediated',
    });
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });
});

describe('rate limit', () => {
  it('refuses the third restart within the hour (maxPerHour 2) and allows it the next hour', async () => {
    const event = (i: number) => alarmEvent('log-db-pool-exhausted', { id: `event-${i}` });
    expect((await handleEvent(event(1), deps())).outcome).toBe('remediated');
    expect((await handleEvent(event(2), deps())).outcome).toBe('remediated');
    const third = await handleEvent(event(3), deps());

    expect(third).toMatchObject({ outcome: 'skipped', skip: 'rate-limited' });
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
    expect(published()[2]?.Message).toContain('rate-limited (2/hour)');
    expect(published()[2]?.Subject).toContain('no action, rate-limited');
    expect(audits().filter((a) => a.outcome === 'skipped')).toHaveLength(1);
    expect(state.table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count).toBe(2);

    const nextHour = new Date('2026-11-25T05:00:10.000Z');
    expect((await handleEvent(event(4), deps({ now: () => nextHour }))).outcome).toBe('remediated');
    // Scale-outs have their own counter.
    expect((await handleEvent(alarmEvent('blue-cpu-high', { id: 'event-5' }), deps())).outcome).toBe(
      'remediated',
    );
  });
});

describe('switches', () => {
  it('dry run: reads, reports what it WOULD do, changes nothing (not even the counter)', async () => {
    const result = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps({ env: DRY_RUN_ENV }));
    expect(result).toMatchObject({ outcome: 'dry-run', dryRun: true, colour: 'blue' });
    expect(mutatingCalls()).toBe(0);
    expect(mocks.ecs).toHaveReceivedCommand(DescribeServicesCommand);
    expect(published()[0]?.Subject).toBe(
      '[prod] P1 remediation DRY RUN: would do new deployment of blue (log-db-pool-exhausted)',
    );
    expect(published()[0]?.Message).toContain(
      `DRY RUN, nothing changed: would force a new deployment of the blue (live) service ${SERVICES.blue}`,
    );
    expect(audits()[0]).toMatchObject({ outcome: 'skipped', details: { dryRun: true } });
    expect(metricValue(state.obs.emf, 'RemediationDryRun')).toBe(1);

    const scale = await handleEvent(alarmEvent('blue-cpu-high'), deps({ env: DRY_RUN_ENV }));
    expect(scale).toMatchObject({ outcome: 'dry-run', after: { desiredCount: 3 } });
    expect(published()[1]?.Message).toContain('would scale the blue (live) service');
    expect(mutatingCalls()).toBe(0);
  });

  it('a disabled action reads nothing, changes nothing and reports "disabled in config"', async () => {
    const result = await handleEvent(alarmEvent('db-connections-high'), deps({ env: FND_OFF_ENV }));
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'disabled' });
    expect(mocks.ecs.calls()).toHaveLength(0);
    expect(mocks.ssm.calls()).toHaveLength(0);
    expect(published()[0]?.Message).toContain('force-new-deployment is disabled in config');
    expect(audits()[0]).toMatchObject({ outcome: 'skipped', action: 'force-new-deployment' });
    // Scale-out is still on.
    const scale = await handleEvent(alarmEvent('blue-cpu-high', { id: 'other' }), deps({ env: FND_OFF_ENV }));
    expect(scale.outcome).toBe('remediated');
  });
});

describe('events that are not acted on', () => {
  it.each([
    ['an S3 event', { version: '0', id: 'x', 'detail-type': 'Object Created', source: 'aws.s3', detail: {} }],
    [
      'an event without state',
      (() => {
        const e = alarmEvent('blue-cpu-high') as { detail: Record<string, unknown> };
        delete e.detail.state;
        return e;
      })(),
    ],
    ['an unknown state value', alarmEvent('blue-cpu-high', { state: 'BROKEN' })],
    ['null', null],
  ])('%s: InvalidInputError, nothing done', async (_name, event) => {
    await expect(handleEvent(event, deps())).rejects.toThrow(InvalidInputError);
    expect(awsCalls()).toBe(0);
    expect(metricValue(state.obs.emf, 'InvalidRemediationEvent')).toBe(1);
  });

  it.each([
    ['ALARM -> ALARM', alarmEvent('log-db-pool-exhausted', { previousState: 'ALARM' }), 'ALARM -> ALARM'],
    ['OK', alarmEvent('log-db-pool-exhausted', { state: 'OK', previousState: 'ALARM' }), 'state OK'],
    [
      'INSUFFICIENT_DATA',
      alarmEvent('log-db-pool-exhausted', { state: 'INSUFFICIENT_DATA' }),
      'state INSUFFICIENT_DATA',
    ],
    [
      'another environment',
      alarmEvent('x', { alarmName: 'fa-ai-system-staging-log-db-pool-exhausted' }),
      'not an alarm of prod',
    ],
  ])('%s: ignored, nothing done', async (_name, event, reason) => {
    const result = await handleEvent(event, deps());
    expect(result.outcome).toBe('ignored');
    expect(result.outcome === 'ignored' && result.reason).toContain(reason);
    expect(awsCalls()).toBe(0);
    expect(metricValue(state.obs.emf, 'RemediationIgnored')).toBe(1);
  });

  it('an invalid configuration: InvalidInputError naming the variable, nothing done', async () => {
    const bad = { ...ENV, REMEDIATION: '{"dryRun": "no"}' };
    await expect(handleEvent(alarmEvent('blue-cpu-high'), deps({ env: bad }))).rejects.toThrow(
      /Invalid function configuration: REMEDIATION\.dryRun/,
    );
    expect(awsCalls()).toBe(0);
  });
});

describe('failures', () => {
  it('retries a throttled UpdateService', async () => {
    mocks.ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ service: { serviceName: SERVICES.blue, status: 'ACTIVE', desiredCount: 3 } });
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated', after: { desiredCount: 3 } });
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
  });

  it('AccessDenied on UpdateService: reported, audited failed, claim released, then thrown', async () => {
    mocks.ecs.on(UpdateServiceCommand).rejects(
      new AccessDeniedException({
        message:
          'User: arn:aws:sts::123456789012:assumed-role/fa-ai-system-prod-remediation/fa-ai-system-prod-remediation is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:ap-northeast-1:123456789012:service/fa-ai-system-prod/fa-ai-system-blue-service because no identity-based policy allows the ecs:UpdateService action',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RemediationFailedError);
    expect((error as RemediationFailedError).failure).toMatchObject({
      call: 'UpdateService',
      target: SERVICES.blue,
      error: expect.stringMatching(/^AccessDeniedException: /),
    });
    // Not retried: AccessDenied is not transient.
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(published()).toHaveLength(1);
    expect(published()[0]).toMatchObject({
      TopicArn: TOPICS.P1,
      Subject: '[prod] P1 remediation FAILED: new deployment of blue (log-db-pool-exhausted)',
    });
    expect(published()[0]?.Message).toContain('FAILED: force-new-deployment could not be carried out');
    expect(published()[0]?.Message).toContain('AccessDeniedException');
    expect(audits()).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        details: expect.objectContaining({ error: expect.stringContaining('AccessDeniedException') }),
      }),
    ]);
    // Lambda's retry may claim the event again, and the slot was given back.
    expect(state.table.get('REMEDIATION_EVENT', 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92')?.status).toBe(
      'failed',
    );
    expect(state.table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count ?? 0).toBe(0);
    expect(metricValue(state.obs.emf, 'RemediationFailed')).toBe(1);

    // The retry, once the permission is fixed, acts.
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: { serviceName: SERVICES.blue } });
    expect((await handleEvent(alarmEvent('log-db-pool-exhausted'), deps())).outcome).toBe('remediated');
  });

  it('an unreadable weights parameter fails the same way, before any change', async () => {
    mocks.ssm
      .on(GetParameterCommand)
      .rejects(awsError('ParameterNotFound', 'Parameter /fa-ai-system/prod/traffic/weights not found.'));
    await expectFailedBeforeAnyChange(
      'db-connections-high',
      'GetParameter /fa-ai-system/prod/traffic/weights',
    );
  });

  it('a failed report after the action: RemediationReportError, and the retry changes nothing', async () => {
    mocks.sns.on(PublishCommand).rejects(awsError('AuthorizationErrorException', 'not authorized'));
    const error = await handleEvent(alarmEvent('blue-cpu-high'), deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemediationReportError);
    expect((error as RemediationReportError).result.outcome).toBe('remediated');
    expect(audits()[0]?.outcome).toBe('ok');
    expect(metricValue(state.obs.emf, 'RemediationReportFailed')).toBe(1);

    expect((await handleEvent(alarmEvent('blue-cpu-high'), deps())).outcome).toBe('duplicate');
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });
});
