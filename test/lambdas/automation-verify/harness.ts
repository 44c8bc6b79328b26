/**
 * The verifier's world, shared by its handler tests and its fault matrix: the read services
 * and SNS mocked (answering from inside the SDK's retries), the ops table on the local engine
 * (test/helpers/dynalite), a verification request of a scale-out and the action's record.
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type DescribeServicesCommandOutput, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, type PublishCommandOutput, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { VerificationRequest } from '../../../core/automation/checks';
import type { HandlerDeps } from '../../../lambdas/automation-verify/handler';
import { timedOut } from '../../fault-matrix/matrix';
import {
  AUTOMATION_ACCOUNT as ACCOUNT,
  automationEnv,
  AUTOMATION_REGION as REGION,
} from '../../helpers/automation';
import type { observability } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import type { LocalOpsTable } from '../../helpers/dynalite';

export const mocks = {
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

export const ALARM = 'fa-ai-system-prod-blue-cpu-high';
const CLUSTER = 'fa-ai-system-prod';
export const SERVICE = 'fa-ai-system-blue-service';
const LISTENER = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/fa-ai-system-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const TG = {
  blue: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/fa-ai-system-blue/73e2d6bc24d8a067`,
  green: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/fa-ai-system-green/2453ed029918f21f`,
};
const BATCH = 'fa-ai-system-prod-weekly-batch';
export const BATCH_STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${BATCH}`;
export const ACTED = new Date('2026-11-25T04:12:35.000Z');
export const VERIFY_AT = new Date('2026-11-25T04:22:35.000Z');
export const RECORD_SK = `${ACTED.toISOString()}#a1b2c3d4`;

/** The traffic rollback's check: blue 100 / green 0 on the listener and in the parameter. */
export const WEIGHTS_CHECK = {
  kind: 'weights' as const,
  listenerArn: LISTENER,
  targetGroups: TG,
  weightsParameter: '/fa-ai-system/prod/traffic/weights',
  expected: { blue: 100, green: 0 },
};

/** The kill switch's check: the weekly batch's schedule DISABLED and none of its runs RUNNING. */
export const KILL_SWITCH_CHECK = {
  kind: 'kill-switch' as const,
  scheduleName: BATCH,
  scheduleGroup: 'default',
  stateMachineArn: BATCH_STATE_MACHINE,
};

/** The verification of remediation's scale-out of blue (2 to 3 tasks) for ALARM, P2. */
export function request(overrides: Partial<VerificationRequest> = {}): VerificationRequest {
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

/** The handler's dependencies on `table`, two seconds after the verification was due. */
export function verifyDeps(
  table: LocalOpsTable,
  obs: ReturnType<typeof observability>,
  overrides: Partial<HandlerDeps> = {},
): HandlerDeps {
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

/**
 * The mocks reset, answering as AWS does for this state (default: every effect there); returns
 * the answers, for a test that puts faults before them.
 */
export function world(
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
  const alarms: DescribeAlarmsCommandOutput = {
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
  };
  mocks.cloudwatch.on(DescribeAlarmsCommand).resolves(alarms);
  const desired = state.desired ?? 3;
  const services: DescribeServicesCommandOutput = {
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
  };
  mocks.ecs.on(DescribeServicesCommand).resolves(services);
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
    Name: BATCH,
    GroupName: 'default',
    State: state.schedule ?? 'DISABLED',
  });
  mocks.sfn.on(ListExecutionsCommand).resolves({
    ...meta,
    executions: Array.from({ length: state.running_executions ?? 0 }, (_, i) => ({
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${BATCH}:run-${i}`,
      stateMachineArn: BATCH_STATE_MACHINE,
      name: `run-${i}`,
      status: 'RUNNING' as const,
      startDate: new Date('2026-11-25T04:00:00.000Z'),
    })),
  });
  const publish: PublishCommandOutput = { ...meta, MessageId: 'e1f2a3b4-0000-4000-8000-000000000001' };
  mocks.sns.on(PublishCommand).resolves(publish);
  return { alarms, services, publish };
}

/** What was published (the escalations), attempts included. */
export const published = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

/** The action's record. */
export const record = (table: LocalOpsTable) => table.item('AUTOMATION_ACTION', RECORD_SK);

/** The audit entries of `table`. */
export const audits = async (table: LocalOpsTable) => (await table.items()).filter((i) => i.pk === 'AUDIT');

/** The record remediation wrote when it scaled out, without a verification yet. */
export const seedRecord = (table: LocalOpsTable) =>
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

/** The next write of the record lands, and its answer is lost to a timeout (the SDK retries it). */
export const loseWriteAnswer = (table: LocalOpsTable, operation: 'PutItem' | 'UpdateItem') =>
  table.failWith({ operation, pk: 'AUTOMATION_ACTION', error: timedOut, times: 1, landed: true });
