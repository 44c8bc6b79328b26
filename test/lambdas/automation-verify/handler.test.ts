/**
 * The verifier: the effect of an automated action read back, the outcome written once to its
 * record (the real engine decides the conditions), escalation one severity up with the facts,
 * and duplicate, racing, late and failed deliveries.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VerificationRequest } from '../../../core/automation/checks';
import { InvalidInputError } from '../../../core/errors';
import { type HandlerDeps, handleEvent } from '../../../lambdas/automation-verify/handler';
import { EscalationNotSentError } from '../../../lambdas/automation-verify/logic';
import {
  AUTOMATION_ACCOUNT as ACCOUNT,
  AUTOMATION_TOPICS,
  automationEnv,
  AUTOMATION_REGION as REGION,
} from '../../helpers/automation';
import { awsError, metricValue, observability } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';
import { checkDeclaredCalls } from '../../iam/declared-calls';

checkDeclaredCalls('automation-verify');

const mocks = {
  cloudwatch: mockClient(CloudWatchClient),
  ecs: mockClient(ECSClient),
  elbv2: mockClient(ElasticLoadBalancingV2Client),
  ssm: mockClient(SSMClient),
  scheduler: mockClient(SchedulerClient),
  sfn: mockClient(SFNClient),
  sns: mockClient(SNSClient),
};
const base = {
  cloudwatch: testClient(CloudWatchClient, { region: REGION }),
  ecs: testClient(ECSClient, { region: REGION }),
  elbv2: testClient(ElasticLoadBalancingV2Client, { region: REGION }),
  ssm: testClient(SSMClient, { region: REGION }),
  scheduler: testClient(SchedulerClient, { region: REGION }),
  sfn: testClient(SFNClient, { region: REGION }),
  sns: testClient(SNSClient, { region: REGION }),
};

const ALARM = 'fa-ai-system-prod-blue-cpu-high';
const CLUSTER = 'fa-ai-system-prod';
const SERVICE = 'fa-ai-system-blue-service';
const LISTENER = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/fa-ai-system-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const TG = {
  blue: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/fa-ai-system-blue/73e2d6bc24d8a067`,
  green: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/fa-ai-system-green/2453ed029918f21f`,
};
const ACTED = new Date('2026-11-25T04:12:35.000Z');
const VERIFY_AT = new Date('2026-11-25T04:22:35.000Z');
const RECORD_SK = `${ACTED.toISOString()}#a1b2c3d4`;

function request(overrides: Partial<VerificationRequest> = {}): VerificationRequest {
  return {
    kind: 'automation-verify',
    version: 1,
    recordSk: RECORD_SK,
    environment: 'prod',
    action: 'scale-out',
    trigger: ALARM,
    severity: 'P2',
    source: 'remediation',
    did: 'Scaled the blue (live) service fa-ai-system-blue-service out from 2 to 3 tasks (max 10).',
    actedAt: ACTED.toISOString(),
    verifyAt: VERIFY_AT.toISOString(),
    checks: [
      { kind: 'alarm-ok', alarmName: ALARM },
      { kind: 'service', cluster: CLUSTER, service: SERVICE, desiredAtLeast: 3 },
    ],
    ...overrides,
  };
}

let table: LocalOpsTable;
let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: { ...base, ddb: table.ddb },
    env: automationEnv(table.tableName, (s) => {
      s.verifier = undefined;
    }),
    now: () => new Date(VERIFY_AT.getTime() + 2_000),
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

function world(
  state: {
    alarm?: 'OK' | 'ALARM';
    desired?: number;
    running?: number;
    listener?: [number, number];
    stored?: string;
    schedule?: 'ENABLED' | 'DISABLED';
    running_executions?: number;
  } = {},
) {
  for (const m of Object.values(mocks)) m.reset();
  const meta = { $metadata: {} };
  mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({
    ...meta,
    MetricAlarms: [
      {
        AlarmName: ALARM,
        AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${ALARM}`,
        StateValue: state.alarm ?? 'OK',
        StateReason:
          'Threshold Crossed: 1 out of the last 1 datapoints [91.2 (25/11/26 04:17:00)] was greater than the threshold (80.0).',
        StateUpdatedTimestamp: new Date('2026-11-25T04:17:31.000Z'),
      },
    ],
    CompositeAlarms: [],
  });
  const desired = state.desired ?? 3;
  mocks.ecs.on(DescribeServicesCommand).resolves({
    ...meta,
    services: [
      {
        serviceName: SERVICE,
        serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
        status: 'ACTIVE',
        desiredCount: desired,
        runningCount: state.running ?? desired,
        pendingCount: 0,
        deployments: [
          {
            id: 'ecs-svc/blue0002',
            status: 'PRIMARY',
            rolloutState: 'COMPLETED',
            desiredCount: desired,
            runningCount: state.running ?? desired,
          },
        ],
      },
    ],
    failures: [],
  });
  const [blue, green] = state.listener ?? [100, 0];
  mocks.elbv2.on(DescribeListenersCommand).resolves({
    ...meta,
    Listeners: [
      {
        ListenerArn: LISTENER,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: TG.blue, Weight: blue },
                { TargetGroupArn: TG.green, Weight: green },
              ],
            },
          },
        ],
      },
    ],
  });
  mocks.ssm.on(GetParameterCommand).resolves({
    ...meta,
    Parameter: {
      Name: '/fa-ai-system/prod/traffic/weights',
      Type: 'StringList',
      Value: state.stored ?? '100,0',
      Version: 3,
    },
  });
  mocks.scheduler.on(GetScheduleCommand).resolves({
    ...meta,
    Name: 'fa-ai-system-prod-weekly-batch',
    GroupName: 'default',
    State: state.schedule ?? 'DISABLED',
  });
  mocks.sfn.on(ListExecutionsCommand).resolves({
    ...meta,
    executions: Array.from({ length: state.running_executions ?? 0 }, (_, i) => ({
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:fa-ai-system-prod-weekly-batch:run-${i}`,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:fa-ai-system-prod-weekly-batch`,
      name: `run-${i}`,
      status: 'RUNNING' as const,
      startDate: new Date('2026-11-25T04:00:00.000Z'),
    })),
  });
  mocks.sns.on(PublishCommand).resolves({ ...meta, MessageId: 'e1f2a3b4-0000-4000-8000-000000000001' });
}

const published = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const record = () => table.item('AUTOMATION_ACTION', RECORD_SK);
const seedRecord = () =>
  table.seed({
    pk: 'AUTOMATION_ACTION',
    sk: RECORD_SK,
    action: 'scale-out',
    trigger: ALARM,
    severity: 'P2',
    source: 'remediation',
    did: request().did,
    actedAt: ACTED.toISOString(),
    verifyAt: VERIFY_AT.toISOString(),
  });

beforeEach(async () => {
  table = await createOpsTable();
  obs = observability('automation-verify');
  world();
  await seedRecord();
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
    const audits = (await table.items()).filter((i) => i.pk === 'AUDIT');
    expect(audits).toEqual([expect.objectContaining({ action: 'automation-verify', outcome: 'ok' })]);
    expect(metricValue(obs.emf, 'AutomationVerified')).toBe(1);
  });

  it('confirms restored weights on the listener and in the parameter', async () => {
    const weights = {
      kind: 'weights' as const,
      listenerArn: LISTENER,
      targetGroups: TG,
      weightsParameter: '/fa-ai-system/prod/traffic/weights',
      expected: { blue: 100, green: 0 },
    };
    const result = await handleEvent(
      request({ action: 'traffic-rollback', severity: 'P0', checks: [weights] }),
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
    expect((await table.items()).filter((i) => i.pk === 'AUDIT')).toEqual([
      expect.objectContaining({ action: 'automation-verify', outcome: 'failed' }),
    ]);
  });

  it('stays at P0 and says it escalated', async () => {
    world({ listener: [0, 100], stored: '100,0' });
    const weights = {
      kind: 'weights' as const,
      listenerArn: LISTENER,
      targetGroups: TG,
      weightsParameter: '/fa-ai-system/prod/traffic/weights',
      expected: { blue: 100, green: 0 },
    };
    const result = await handleEvent(
      request({ action: 'traffic-rollback', severity: 'P0', checks: [weights] }),
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
    const check = {
      kind: 'kill-switch' as const,
      scheduleName: 'fa-ai-system-prod-weekly-batch',
      scheduleGroup: 'default',
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:fa-ai-system-prod-weekly-batch`,
    };
    const result = await handleEvent(
      request({
        action: 'kill-switch-engage',
        severity: 'P1',
        trigger: 'fa-ai-system-prod-monthly',
        checks: [check],
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

  it('refuses anything but a verification request, doing nothing', async () => {
    await expect(handleEvent({ kind: 'automation-verify', version: 2 }, deps())).rejects.toThrow(
      InvalidInputError,
    );
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(metricValue(obs.emf, 'InvalidVerificationRequest')).toBe(1);
  });
});
