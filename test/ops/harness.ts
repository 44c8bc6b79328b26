/**
 * The ops CLI run in-process against the traffic harness's simulated account (listener, SSM,
 * alarms), plus the clients only the CLI uses (CloudFormation, ECS, Scheduler, Budgets). The
 * ops table is a table of the real engine (test/helpers/dynalite), fresh for each
 * {@link resetCli}: the engine decides every condition, update and query, and tests seed and
 * read it as items. DynamoDB faults are injected with the table's failWith/afterCall.
 */
import { BudgetsClient, DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import {
  DescribeServicesCommand,
  ECSClient,
  ListTasksCommand,
  type Service,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { awsClientFactory, ONE_ATTEMPT } from '../../core/aws-clients';
import { runCli } from '../../lib/ops/cli';
import type { CliDeps, OpsClients } from '../../lib/ops/clients';
import { DATABASE_MANIFEST_OUTPUT_KEY, MANIFEST_OUTPUT_KEY, type OpsManifest } from '../../lib/ops/manifest';
import { testClient } from '../helpers/aws-clients';
import { mockClient } from '../helpers/aws-mock';
import { createOpsTable, type LocalOpsTable } from '../helpers/dynalite';
import {
  ACCOUNT_ID,
  ALARMS,
  BLUE_TG,
  GREEN_TG,
  LISTENER_ARN,
  OPS_TABLE,
  REGION,
  resetWorld,
  SHIFT_STATE_MACHINE_ARN,
  clients as trafficClients,
  mocks as trafficMocks,
  WEIGHTS_PARAMETER,
  type WorldSetup,
} from '../lambdas/traffic-shift/harness';

export const CLUSTER = 'fa-ai-system-cluster';
export const BATCH_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:fa-ai-system-prod-weekly-batch`;
export const SCHEDULE_STATE_PARAMETER = '/fa-ai-system/prod/batch/schedule-state';

export const DB_INSTANCE = 'fa-ai-system-db';
export const INSPECT_FUNCTION = 'fa-ai-system-prod-service-DatabaseInspectHandlerFun-AbCdEf123456';
export const MAINTENANCE_FUNCTION = 'fa-ai-system-prod-statef-DatabaseMaintenanceHandle-GhIjKl789012';
export const BACKUPS_BUCKET = `fa-ai-backups-prod-${ACCOUNT_ID}-${REGION}`;
export const DATA_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const topic = (p: string) => `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-${p}`;

/** The manifest the service stack emits (the shape the CDK app writes). */
export const MANIFEST: OpsManifest = {
  environment: 'prod',
  region: REGION,
  clusterName: CLUSTER,
  services: { blue: 'fa-ai-system-blue-service', green: 'fa-ai-system-green-service' },
  listenerArn: LISTENER_ARN,
  loadBalancerFullName: 'app/fa-ai-system-alb/50dc6c495c0c9188',
  targetGroups: {
    blue: { arn: BLUE_TG, fullName: 'targetgroup/fa-ai-system-blue/73e2d6bc24d8a067' },
    green: { arn: GREEN_TG, fullName: 'targetgroup/fa-ai-system-green/2453ed029918f21f' },
  },
  weightsParameter: WEIGHTS_PARAMETER,
  configuredWeights: { blue: 100, green: 0 },
  opsTable: OPS_TABLE,
  shiftStateMachineArn: SHIFT_STATE_MACHINE_ARN,
  alarms: ALARMS,
  topics: { P0: topic('p0'), P1: topic('p1'), P2: topic('p2'), P3: topic('p3') },
  batch: {
    stateMachineArn: BATCH_STATE_MACHINE_ARN,
    scheduleName: 'fa-ai-system-prod-weekly-batch',
    scheduleGroup: 'default',
    scheduleStateParameter: SCHEDULE_STATE_PARAMETER,
    taskFamily: 'fa-ai-system-batch',
    killSwitchBudgetName: 'fa-ai-system-prod-monthly',
    killThresholdPercent: 100,
  },
  accountId: ACCOUNT_ID,
  healthThresholds: {
    errorRateMax: 0.01,
    errorRateHigh: 0.1,
    p95MaxSeconds: 3,
    batchSuccessMin: 1,
    batchLookbackHours: 192,
    batchMaxRunningMinutes: 240,
  },
  spend: {
    budgets: [
      { id: 'batch', limitUsd: 1200, awsBudgetName: 'fa-ai-system-prod-batch' },
      { id: 'interactive', limitUsd: 600, awsBudgetName: 'fa-ai-system-prod-interactive' },
      { id: 'infrastructure', limitUsd: 200, awsBudgetName: 'fa-ai-system-prod-infrastructure' },
      { id: 'total', limitUsd: 2000, awsBudgetName: 'fa-ai-system-prod-monthly' },
    ],
    killSwitchPercent: 100,
    maxCallCostUsd: 10,
    awsSettleHours: 12,
  },
  database: {
    instanceIdentifier: DB_INSTANCE,
    inspectFunction: INSPECT_FUNCTION,
    maintenanceFunction: MAINTENANCE_FUNCTION,
  },
  backup: {
    bucket: BACKUPS_BUCKET,
    prefix: 'db/',
    keyArn: DATA_KEY_ARN,
    taskFamily: 'fa-ai-system-db-backup',
    containers: { dump: 'pg-dump', upload: 'upload' },
    subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
    securityGroup: 'sg-0123456789abcdef0',
    logGroup: '/ecs/fa-ai-system-db-backup',
  },
};

export const cliMocks = {
  ...trafficMocks,
  cloudformation: mockClient(CloudFormationClient),
  ecs: mockClient(ECSClient),
  budgets: mockClient(BudgetsClient),
  lambda: mockClient(LambdaClient),
  rds: mockClient(RDSClient),
  s3: mockClient(S3Client),
  logs: mockClient(CloudWatchLogsClient),
  elasticache: mockClient(ElastiCacheClient),
  costExplorer: mockClient(CostExplorerClient),
};

const mockedClients = {
  ...trafficClients,
  cloudformation: testClient(CloudFormationClient, { region: REGION }),
  ecs: testClient(ECSClient, { region: REGION }),
  budgets: testClient(BudgetsClient, { region: 'us-east-1' }),
  lambda: testClient(LambdaClient, { region: REGION }),
  // As lib/ops/clients.ts builds it: one attempt.
  lambdaOnce: awsClientFactory({ policy: ONE_ATTEMPT }).client(LambdaClient, { region: REGION }),
  rds: testClient(RDSClient, { region: REGION }),
  s3: testClient(S3Client, { region: REGION }),
  logs: testClient(CloudWatchLogsClient, { region: REGION }),
  elasticache: testClient(ElastiCacheClient, { region: REGION }),
  costExplorer: testClient(CostExplorerClient, { region: 'us-east-1' }),
};

let current: LocalOpsTable | undefined;

/** The ops table of the current test (the one the CLI's clients write to). */
export function opsTable(): LocalOpsTable {
  if (current === undefined) throw new Error('resetCli() first');
  return current;
}

/** The CLI's clients: the mocked services, and the ops table on the engine. */
export function cliClients(): OpsClients {
  return { ...mockedClients, ddb: opsTable().ddb };
}

/** A DescribeStacks answer with `outputs`. */
export function stack(outputs: Array<{ OutputKey: string; OutputValue: string }>) {
  return {
    Stacks: [
      {
        StackName: 'fa-ai-system-prod-service',
        StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/fa-ai-system-prod-service/8a1b2c3d-4e5f-11ef-9a0b-0e1f2a3b4c5d`,
        CreationTime: new Date('2026-10-01T09:00:00.000Z'),
        LastUpdatedTime: new Date('2026-11-20T09:00:00.000Z'),
        StackStatus: 'UPDATE_COMPLETE' as const,
        Outputs: outputs,
      },
    ],
  };
}

/** An ECS service as DescribeServices returns it. */
export function service(colour: 'blue' | 'green', overrides: Partial<Service> = {}): Service {
  const name = `fa-ai-system-${colour}-service`;
  const taskDefinition = `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task-definition/fa-ai-system-${colour}:42`;
  return {
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:service/${CLUSTER}/${name}`,
    serviceName: name,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    launchType: 'FARGATE',
    taskDefinition,
    deployments: [
      {
        id: `ecs-svc/${colour === 'blue' ? '1234567890123456789' : '9876543210987654321'}`,
        status: 'PRIMARY',
        taskDefinition,
        desiredCount: 2,
        pendingCount: 0,
        runningCount: 2,
        failedTasks: 0,
        createdAt: new Date('2026-11-20T09:00:00.000Z'),
        updatedAt: new Date('2026-11-20T09:06:00.000Z'),
        launchType: 'FARGATE',
        rolloutState: 'COMPLETED',
        rolloutStateReason: 'ECS deployment ecs-svc/1234567890123456789 completed.',
      },
    ],
    ...overrides,
  };
}

/** A target as DescribeTargetHealth returns it. */
export function target(ip: string, state = 'healthy', reason?: { Reason: string; Description: string }) {
  return {
    Target: { Id: ip, Port: 8000, AvailabilityZone: 'us-east-1a' },
    HealthCheckPort: '8000',
    TargetHealth: { State: state as 'healthy', ...(reason as object) },
  };
}

/** What {@link resetCli} sets up: the traffic world's, `items` written to the ops table. */
export type CliSetup = WorldSetup;

/**
 * Resets the world and every mock to a healthy, deployed environment, and gives the test a new,
 * empty ops table (named as the manifest says) holding `setup.items`.
 */
export async function resetCli(setup: CliSetup = {}): Promise<LocalOpsTable> {
  resetWorld({ ...setup, items: [] });
  // The traffic harness's hand fake of the table must not answer anything: a command reaching
  // it would be decided by the test, not by the engine.
  trafficMocks.ddb.reset();
  trafficMocks.ddb.rejects(new Error('The ops CLI tests use the engine: cliClients().ddb'));
  // The helper names it: its counter is shared by every harness in the worker (one engine).
  current = await createOpsTable();
  await current.seed(...(setup.items ?? []));
  for (const mock of [
    cliMocks.cloudformation,
    cliMocks.ecs,
    cliMocks.scheduler,
    cliMocks.budgets,
    cliMocks.lambda,
    cliMocks.rds,
    cliMocks.s3,
    cliMocks.logs,
    cliMocks.elasticache,
    cliMocks.costExplorer,
  ])
    mock.reset();
  cliMocks.cloudformation.on(DescribeStacksCommand).resolves(stack(manifestOutputs(manifestOf(current))));
  cliMocks.ecs
    .on(DescribeServicesCommand)
    .resolves({ services: [service('blue'), service('green')], failures: [] });
  cliMocks.elbv2
    .on(DescribeTargetHealthCommand, { TargetGroupArn: BLUE_TG })
    .resolves({ TargetHealthDescriptions: [target('10.0.1.23'), target('10.0.2.41')] });
  cliMocks.elbv2
    .on(DescribeTargetHealthCommand, { TargetGroupArn: GREEN_TG })
    .resolves({ TargetHealthDescriptions: [target('10.0.1.77'), target('10.0.2.19')] });
  cliMocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  cliMocks.cloudwatch
    .on(GetMetricDataCommand)
    .callsFake((input: { MetricDataQueries?: MetricDataQuery[] }) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const metric = q.MetricStat?.Metric?.MetricName;
        return {
          Id: q.Id,
          Label: metric,
          StatusCode: 'Complete',
          Timestamps: [new Date('2026-11-25T04:00:00.000Z')],
          Values: [metric === 'RequestCount' ? 12_000 : metric === 'TargetResponseTime' ? 0.42 : 3],
        };
      }),
      Messages: [],
    }));
  cliMocks.scheduler.on(GetScheduleCommand).resolves({
    Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/default/fa-ai-system-prod-weekly-batch`,
    Name: 'fa-ai-system-prod-weekly-batch',
    GroupName: 'default',
    ScheduleExpression: 'cron(0 2 ? * SUN *)',
    ScheduleExpressionTimezone: 'Asia/Tokyo',
    State: 'ENABLED',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: BATCH_STATE_MACHINE_ARN,
      RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/fa-ai-system-prod-batch-schedule`,
    },
  });
  cliMocks.scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
  cliMocks.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  cliMocks.ecs.on(StopTaskCommand).resolves({});
  cliMocks.budgets.on(DescribeBudgetCommand).resolves({
    Budget: {
      BudgetName: 'fa-ai-system-prod-monthly',
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: '2000.0', Unit: 'USD' },
      CalculatedSpend: { ActualSpend: { Amount: '2150.75', Unit: 'USD' } },
    },
  });
  return current;
}

/** The two outputs the service stack writes a manifest into (database and backup in the second). */
export function manifestOutputs(manifest: OpsManifest): Array<{ OutputKey: string; OutputValue: string }> {
  const { database, backup, ...rest } = manifest;
  return [
    { OutputKey: MANIFEST_OUTPUT_KEY, OutputValue: JSON.stringify(rest) },
    ...(database || backup
      ? [{ OutputKey: DATABASE_MANIFEST_OUTPUT_KEY, OutputValue: JSON.stringify({ database, backup }) }]
      : []),
  ];
}

/** {@link MANIFEST} naming `table` as the ops table. */
export function manifestOf(table: LocalOpsTable): OpsManifest {
  return { ...MANIFEST, opsTable: table.tableName };
}

/** The items of the ops table in partition `pk`, in sort key order. */
export async function itemsOf(pk: string): Promise<Array<Record<string, unknown>>> {
  return (await opsTable().items()).filter((i) => i.pk === pk);
}

/** What a run printed and returned. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly sleeps: number[];
}

/** Runs the CLI in-process. */
export async function runOps(argv: string[], overrides: Partial<CliDeps> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  const code = await runCli(argv, {
    clients: () => cliClients(),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    now: () => new Date('2026-11-25T04:12:35.000Z'),
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    actor: () => 'alice',
    env: {},
    pollIntervalMs: 4000,
    ...overrides,
  });
  return { code, stdout, stderr, sleeps };
}

/** The number of AWS calls made, all clients (the ops table's included). */
export function awsCalls(): number {
  const mocked = Object.values(cliMocks).reduce((n, mock) => n + mock.calls().length, 0);
  return mocked + opsTable().sent.length;
}
