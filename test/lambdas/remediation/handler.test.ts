import { Logger } from '@aws-lambda-powertools/logger';
import 'aws-sdk-client-mock-vitest/extend';
import { AccessDeniedException, DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { type HandlerDeps, handleEvent } from '../../../lambdas/remediation/handler';
import {
  RemediationFailedError,
  RemediationReportError,
  type ReportedResult,
} from '../../../lambdas/remediation/logic';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  alarmEvent,
  awsError,
  CLUSTER,
  ENV,
  env,
  metricValue,
  mocks,
  NO_SLEEP,
  NOW,
  OPS_TABLE,
  type OpsTableModel,
  observability,
  RoundTripTracker,
  remediation,
  resetMocks,
  SERVICES,
  STATE_REASON,
  TOPICS,
  clients as testClients,
} from './harness';

checkDeclaredCalls('remediation');

let obs: ReturnType<typeof observability>;
let table: OpsTableModel;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: testClients,
    env: ENV,
    now: () => NOW,
    retry: NO_SLEEP,
    leaseMs: 65_000,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

const DRY_RUN_ENV = env(remediation((r) => (r.dryRun = true)));
const FND_OFF_ENV = env(remediation((r) => (r.actions['force-new-deployment'].enabled = false)));

function published(): Array<{ Subject?: string; Message?: string; TopicArn?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

function audits(): Array<Record<string, unknown>> {
  return [...table.items.values()].filter((i) => i.pk === 'AUDIT');
}

function updateServiceInputs() {
  return mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
}

/** Writes other than the audit trail: the marker, the counter, the service. */
function mutatingCalls(): number {
  const puts = mocks.ddb.commandCalls(PutCommand).filter((c) => c.args[0].input.Item?.pk !== 'AUDIT');
  return (
    puts.length +
    mocks.ddb.commandCalls(UpdateCommand).length +
    mocks.ecs.commandCalls(UpdateServiceCommand).length
  );
}

function awsCalls(): number {
  return [mocks.ddb, mocks.ecs, mocks.ssm, mocks.sns].reduce((n, m) => n + m.calls().length, 0);
}

/** The alarm's event throws RemediationFailedError before any change, reported and audited. */
async function expectFailedBeforeAnyChange(alarmId: string, reported: string): Promise<void> {
  await expect(handleEvent(alarmEvent(alarmId), deps())).rejects.toThrow(RemediationFailedError);
  expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  expect(published()[0]?.Message).toContain(reported);
  expect(audits()[0]?.outcome).toBe('failed');
}

beforeEach(() => {
  table = resetMocks();
  obs = observability();
});

afterEach(() => {
  // Whatever was published fits SNS's subject limit.
  for (const p of published()) expect(p.Subject?.length ?? 0).toBeLessThanOrEqual(100);
  vi.restoreAllMocks();
});

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
    // ops-table.test.ts).
    expect(table.get('REMEDIATION_EVENT', 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92')).toMatchObject({
      status: 'done',
      outcome: 'remediated',
    });
    expect(table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count).toBe(1);
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
    expect(metricValue(obs.emf, 'RemediationPerformed')).toBe(1);
  });

  it('restarts green when green is live', async () => {
    table = resetMocks({ weights: '0,100' });
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
    table = resetMocks({ weights });
    const result = await handleEvent(alarmEvent('db-connections-high'), deps());
    expect(result).toMatchObject({ outcome: 'remediated', action: 'force-new-deployment', colour });
    expect(updateServiceInputs()).toEqual([
      { cluster: CLUSTER, service: SERVICES[colour], forceNewDeployment: true },
    ]);
    expect(published()[0]?.TopicArn).toBe(TOPICS.P1);
  });

  it('takes six sequential rounds of AWS calls (claim before pause and repeat guard before slot)', async () => {
    const tracker = new RoundTripTracker();
    table = resetMocks({ tracker });
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
    table = resetMocks({ weights: '50,50' });
    const result = await handleEvent(alarmEvent('db-connections-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'no-live-colour' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]?.Message).toContain('no single live colour');
    // No slot was taken for a remediation that does nothing.
    expect(table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count ?? 0).toBe(0);
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
    await handleEvent(alarmEvent('blue-cpu-high'), deps({ observability: { logger, metrics: obs.metrics } }));
    const reported = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'Remediation reported');
    expect(reported).toMatchObject({ service: 'remediation', ecsService: SERVICES.blue, colour: 'blue' });
  });

  it('scales green memory out when green is live, capped at its max', async () => {
    table = resetMocks({ weights: '0,100', desired: { blue: 0, green: 9 } });
    const big = env(remediation((r) => (r.actions['scale-out'].step = 3)));
    const result = await handleEvent(alarmEvent('green-memory-high'), deps({ env: big }));
    expect(result).toMatchObject({ outcome: 'remediated', after: { desiredCount: 10 } });
    expect(updateServiceInputs()).toEqual([{ cluster: CLUSTER, service: SERVICES.green, desiredCount: 10 }]);
  });

  it('does nothing at the max, and says so', async () => {
    table = resetMocks({ desired: { blue: 10, green: 1 } });
    const result = await handleEvent(alarmEvent('blue-memory-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'at-max', colour: 'blue' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]).toMatchObject({
      TopicArn: TOPICS.P2,
      Subject: '[prod] P2 remediation: no action, at-max (blue-memory-high)',
    });
    expect(published()[0]?.Message).toContain('already runs its maximum of 10 tasks');
    expect(audits()[0]).toMatchObject({ outcome: 'skipped', details: { skip: 'at-max' } });
    expect(table.get('REMEDIATION_RATE', 'scale-out#2026-11-25T04')?.count ?? 0).toBe(0);
    expect(metricValue(obs.emf, 'RemediationSkipped')).toBe(1);
  });

  it("does nothing on the idle colour's alarm, and says so", async () => {
    const result = await handleEvent(alarmEvent('green-cpu-high'), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'idle-colour', colour: 'green' });
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(published()[0]?.Message).toContain('green is the idle colour (blue is live)');
    expect(table.get('REMEDIATION_RATE', 'scale-out#2026-11-25T04')?.count ?? 0).toBe(0);
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
    expect(metricValue(obs.emf, 'RemediationNoAction')).toBe(1);
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
    table.put({
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
    expect(table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count ?? 0).toBe(0);
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
    expect(table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count).toBe(1);
    expect(metricValue(obs.emf, 'RemediationDuplicate')).toBe(1);
  });

  it("treats a live claim as a duplicate and an expired one as abandoned (Lambda's retry after a crash)", async () => {
    table.put({
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
    expect(table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count).toBe(2);

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
    expect(metricValue(obs.emf, 'RemediationDryRun')).toBe(1);

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
    expect(metricValue(obs.emf, 'InvalidRemediationEvent')).toBe(1);
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
    expect(metricValue(obs.emf, 'RemediationIgnored')).toBe(1);
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
    expect(table.get('REMEDIATION_EVENT', 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92')?.status).toBe('failed');
    expect(table.get('REMEDIATION_RATE', 'force-new-deployment#2026-11-25T04')?.count ?? 0).toBe(0);
    expect(metricValue(obs.emf, 'RemediationFailed')).toBe(1);

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
    expect(metricValue(obs.emf, 'RemediationReportFailed')).toBe(1);

    expect((await handleEvent(alarmEvent('blue-cpu-high'), deps())).outcome).toBe('duplicate');
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });
});
