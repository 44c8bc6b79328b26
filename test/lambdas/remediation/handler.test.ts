import { Logger } from '@aws-lambda-powertools/logger';
import 'aws-sdk-client-mock-vitest/extend';
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { handleEvent } from '../../../lambdas/remediation/handler';
import type { ReportedResult } from '../../../lambdas/remediation/logic';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  audits,
  awsCalls,
  DRY_RUN_ENV,
  deps,
  expectFailedBeforeAnyChange,
  mutatingCalls,
  published,
  state,
  updateServiceInputs,
  useHandlerTests,
} from './handler-setup';
import {
  alarmEvent,
  awsError,
  CLUSTER,
  env,
  metricValue,
  mocks,
  NOW,
  OPS_TABLE,
  RoundTripTracker,
  remediation,
  resetMocks,
  SERVICES,
  STATE_REASON,
  TOPICS,
} from './harness';

checkDeclaredCalls('remediation');
useHandlerTests();

describe('database connection pool exhausted', () => {
  it('forces a new deployment of the live colour (blue), audits and reports to the P1 topic', async () => {
    const result = (await handleEvent(alarmEvent('log-db-pool-exhausted'), deps())) as ReportedResult;

    expect(result).toMatchObject({
      outcome: 'remediated',
      action: 'force-new-deployment',
      alarmId: 'log-db-pool-exhausted',
      severity: 'P1',
      colour: 'blue',
      service: SERVICES.blue,
      before: { desiredCount: 2, runningCount: 2, deploymentId: 'ecs-svc/blue0001' },
      after: { deploymentId: 'ecs-svc/blue0002' },
      dryRun: false,
    });
    expect(updateServiceInputs()).toEqual([
      { cluster: CLUSTER, service: SERVICES.blue, forceNewDeployment: true },
    ]);
    expect(mocks.ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/fa-ai-system/prod/traffic/weights',
    });

    // The claim, the counter and the audit item (conditions decided by the engine in
    // ops-state.table.test.ts).
    expect(state.table.get('REMEDIATION_EVENT', 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92')).toMatchObject({
      status: 'done',
      outcome: 'remediated',
    });
    expect(state.table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count).toBe(1);
    expect(audits()).toEqual([
      expect.objectContaining({
        sk: result.auditSk,
        source: 'remediation',
        action: 'force-new-deployment',
        actor: 'remediation-lambda',
        outcome: 'ok',
        environment: 'prod',
        reason: `fa-ai-system-prod-log-db-pool-exhausted entered ALARM: ${STATE_REASON}`,
        details: expect.objectContaining({
          alarm: 'fa-ai-system-prod-log-db-pool-exhausted',
          colour: 'blue',
          dryRun: false,
          before: expect.objectContaining({ deploymentId: 'ecs-svc/blue0001' }),
          after: expect.objectContaining({ deploymentId: 'ecs-svc/blue0002' }),
        }),
      }),
    ]);

    const [report] = published();
    expect(published()).toHaveLength(1);
    expect(report?.TopicArn).toBe(TOPICS.P1);
    expect(report?.Subject).toBe('[prod] P1 remediation: new deployment of blue (log-db-pool-exhausted)');
    expect(report?.Message).toContain(`Forced a new deployment of the blue (live) service ${SERVICES.blue}`);
    expect(report?.Message).toContain('Live colour: blue (stored weights blue 100 / green 0)');
    expect(report?.Message).toContain('Database Connection Pool Exhausted > Immediate Fix');
    expect(report?.Message).toContain(STATE_REASON);
    expect(metricValue(state.obs.emf, 'RemediationPerformed')).toBe(1);
  });

  it('restarts green when green is live', async () => {
    state.table = resetMocks({ weights: '0,100' });
    const result = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());
    expect(result).toMatchObject({ outcome: 'remediated', colour: 'green' });
    expect(updateServiceInputs()).toEqual([
      { cluster: CLUSTER, service: SERVICES.green, forceNewDeployment: true },
    ]);
  });

  it.each([
    ['90,10', 'blue'],
    ['10,90', 'green'],
  ] as const)('db-connections-high with weights %s restarts %s', async (weights, colour) => {
    state.table = resetMocks({ weights });
    const result = await handleEvent(alarmEvent('db-connections-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated', action: 'force-new-deployment', colour });
    expect(updateServiceInputs()).toEqual([
      { cluster: CLUSTER, service: SERVICES[colour], forceNewDeployment: true },
    ]);
    expect(published()[0]?.TopicArn).toBe(TOPICS.P1);
  });

  it('takes six sequential rounds of AWS calls (claim before pause and repeat guard before slot)', async () => {
    const tracker = new RoundTripTracker();
    state.table = resetMocks({ tracker });
    await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());
    expect(tracker.depth).toBe(6);
    const at = (level: number) =>
      tracker.calls
        .filter((c) => c.level === level)
        .map((c) => c.command)
        .sort();
    expect(at(1)).toEqual(['DescribeServices', 'GetItem', 'GetParameter', 'PutItem']);
    // core/automation: the pause and the repeat count, before anything changes.
    expect(at(2)).toEqual(['GetItem', 'Query']);
    expect(at(3)).toEqual(['UpdateItem']);
    expect(at(4)).toEqual(['UpdateService']);
    // The action's record and its verification schedule.
    expect(at(5)).toEqual(['CreateSchedule', 'PutItem']);
    expect(at(6)).toEqual(['Publish', 'PutItem', 'UpdateItem']);
  });

  it('does nothing on 50/50 weights: there is no single live colour', async () => {
    state.table = resetMocks({ weights: '50,50' });
    const result = await handleEvent(alarmEvent('db-connections-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'no-live-colour' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]?.Message).toContain('no single live colour');
    // No slot was taken for a remediation that does nothing.
    expect(state.table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count ?? 0).toBe(0);
  });
});

describe('CPU and memory', () => {
  it('scales the live colour out by the step', async () => {
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({
      outcome: 'remediated',
      action: 'scale-out',
      colour: 'blue',
      severity: 'P2',
      before: { desiredCount: 2 },
      after: { desiredCount: 3 },
    });
    expect(updateServiceInputs()).toEqual([{ cluster: CLUSTER, service: SERVICES.blue, desiredCount: 3 }]);
    expect(mocks.ecs).toHaveReceivedCommandWith(DescribeServicesCommand, {
      cluster: CLUSTER,
      services: [SERVICES.blue, SERVICES.green],
    });
    expect(published()[0]).toMatchObject({
      TopicArn: TOPICS.P2,
      Subject: '[prod] P2 remediation: scale-out of blue (blue-cpu-high)',
    });
    expect(published()[0]?.Message).toContain('out from 2 to 3 tasks (max 10)');
    expect(audits()[0]).toMatchObject({
      outcome: 'ok',
      details: { before: { desiredCount: 2 }, after: { desiredCount: 3 }, colour: 'blue' },
    });
  });

  it('logs the ECS service it scaled under ecsService (Powertools keeps `service` for itself)', async () => {
    const lines: string[] = [];
    const logger = new Logger({ serviceName: 'remediation', logLevel: 'INFO' });
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    await handleEvent(
      alarmEvent('blue-cpu-high'),
      deps({ observability: { logger, metrics: state.obs.metrics } }),
    );
    const reported = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'Remediation reported');
    expect(reported).toMatchObject({ service: 'remediation', ecsService: SERVICES.blue, colour: 'blue' });
  });

  it('scales green memory out when green is live, capped at its max', async () => {
    state.table = resetMocks({ weights: '0,100', desired: { blue: 0, green: 9 } });
    const big = env(remediation((r) => (r.actions['scale-out'].step = 3)));
    const result = await handleEvent(alarmEvent('green-memory-high'), deps({ env: big }));
    expect(result).toMatchObject({ outcome: 'remediated', after: { desiredCount: 10 } });
    expect(updateServiceInputs()).toEqual([{ cluster: CLUSTER, service: SERVICES.green, desiredCount: 10 }]);
  });

  it('does nothing at the max, and says so', async () => {
    state.table = resetMocks({ desired: { blue: 10, green: 1 } });
    const result = await handleEvent(alarmEvent('blue-memory-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'at-max', colour: 'blue' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]).toMatchObject({
      TopicArn: TOPICS.P2,
      Subject: '[prod] P2 remediation: no action, at-max (blue-memory-high)',
    });
    expect(published()[0]?.Message).toContain('already runs its maximum of 10 tasks');
    expect(audits()[0]).toMatchObject({ outcome: 'skipped', details: { skip: 'at-max' } });
    expect(state.table.get('REMEDIATION_RATE', 'scale-out#2026-11-25T04')?.count ?? 0).toBe(0);
    expect(metricValue(state.obs.emf, 'RemediationSkipped')).toBe(1);
  });

  it("does nothing on the idle colour's alarm, and says so", async () => {
    const result = await handleEvent(alarmEvent('green-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'idle-colour', colour: 'green' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]?.Message).toContain('green is the idle colour (blue is live)');
    expect(state.table.get('REMEDIATION_RATE', 'scale-out#2026-11-25T04')?.count ?? 0).toBe(0);
  });
});

describe('alarms without remediation', () => {
  it('leaves P0 to the traffic-rollback Lambda: no call at all', async () => {
    const result = await handleEvent(alarmEvent('p0'), deps());
    expect(result).toEqual({
      eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      alarmName: 'fa-ai-system-prod-p0',
      outcome: 'no-action',
      alarmId: 'p0',
      severity: 'P0',
      reason:
        'P0 after a recent shift is rolled back by the traffic-rollback Lambda (rollbackToLastKnownGood)',
    });
    expect(awsCalls()).toBe(0);
    expect(metricValue(state.obs.emf, 'RemediationNoAction')).toBe(1);
  });

  it('does nothing for an alarm whose catalogue response is none: it already paged', async () => {
    const result = await handleEvent(alarmEvent('cache-memory-high'), deps());
    expect(result).toMatchObject({
      outcome: 'no-action',
      reason: 'no automatic remediation for cache-memory-high; the alarm already paged P2',
    });
    expect(awsCalls()).toBe(0);
  });

  it("takes an alarm's severity from the catalogue's facts, never from its description", async () => {
    const noDescription = await handleEvent(
      alarmEvent('lambda-budget-guard-errors', { description: null }),
      deps(),
    );
    expect(noDescription).toMatchObject({ outcome: 'no-action', severity: 'P1' });
    const misleading = await handleEvent(
      alarmEvent('cache-memory-high', { description: 'P0 says the description' }),
      deps(),
    );
    expect(misleading).toMatchObject({ outcome: 'no-action', severity: 'P2' });
    // An alarm the catalogue lacks pages, in doubt (unknown-alarm.test.ts).
    const unlisted = await handleEvent(alarmEvent('brand-new-alarm', { description: null }), deps());
    expect(unlisted).toMatchObject({ outcome: 'unknown-alarm', severity: 'P1' });
  });

  it('pages P1 for a pool-exhausted alarm event without a description', async () => {
    const result = await handleEvent(alarmEvent('log-db-pool-exhausted', { description: null }), deps());
    expect(result).toMatchObject({ severity: 'P1', action: 'force-new-deployment' });
    expect(published()[0]).toMatchObject({ TopicArn: TOPICS.P1 });
  });
});

describe('during a traffic shift', () => {
  const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:fa-ai-system-prod-traffic-shift:shift-1';
  /** The lock the shift state machine holds (pk TRAFFIC, sk SHIFT_LOCK), expiring at `expiresAt`. */
  function holdShiftLock(expiresAt: number): void {
    state.table.put({
      Item: {
        pk: 'TRAFFIC',
        sk: 'SHIFT_LOCK',
        executionArn: EXECUTION,
        to: 'green',
        acquiredAt: '2026-11-25T04:10:00.000Z',
        expiresAt,
      },
    });
  }
  const nowSeconds = Math.floor(NOW.getTime() / 1000);

  it('does not restart the live colour while a shift holds the lock, and tells a human', async () => {
    holdShiftLock(nowSeconds + 3600);
    const result = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'shift-in-progress', colour: 'blue' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]?.TopicArn).toBe(TOPICS.P1);
    expect(published()[0]?.Message).toContain(`traffic shift to green is in progress (${EXECUTION}`);
    expect(audits()[0]).toMatchObject({ outcome: 'skipped', details: { skip: 'shift-in-progress' } });
    expect(state.table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count ?? 0).toBe(0);
  });

  it('does not scale out either', async () => {
    holdShiftLock(nowSeconds + 3600);
    const result = await handleEvent(alarmEvent('blue-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'shift-in-progress' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]?.Message).toContain('scaling out the blue service');
  });

  it('acts when the lock has expired (a shift that died without releasing it)', async () => {
    holdShiftLock(nowSeconds - 1);
    const result = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps());
    expect(result).toMatchObject({ outcome: 'remediated', action: 'force-new-deployment' });
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('an unreadable lock fails before any change: not knowing is a reason not to act', async () => {
    mocks.ddb
      .on(GetCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform: dynamodb:GetItem'));
    await expectFailedBeforeAnyChange('log-db-pool-exhausted', `GetItem ${OPS_TABLE}`);
  });

  it('a dry run reports the shift too, and writes nothing', async () => {
    holdShiftLock(nowSeconds + 3600);
    const result = await handleEvent(alarmEvent('log-db-pool-exhausted'), deps({ env: DRY_RUN_ENV }));
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'shift-in-progress' });
    expect(mutatingCalls()).toBe(0);
  });
});
