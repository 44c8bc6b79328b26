/**
 * A simulated AWS account for the health check: one "world" (services, targets, metrics, batch
 * run) served by aws-sdk-client-mock fakes that answer with the APIs' real response shapes.
 */

import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandInput,
  type DescribeServicesCommandOutput,
  ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  type DescribeTargetHealthCommandInput,
  type DescribeTargetHealthCommandOutput,
  ElasticLoadBalancingV2Client,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteCommand,
  type DeleteCommandInput,
  type DeleteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  type GetCommandOutput,
  PutCommand,
  type PutCommandInput,
  type PutCommandOutput,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { COLOURS, type Colour } from '../../../core/contracts/common';
import { type HealthThresholds, healthCheckContract } from '../../../core/contracts/health-check';
import { lightAlertKey } from '../../../lambdas/health-check/alerting';
import type { HealthCheckClients } from '../../../lambdas/health-check/logic';
import { awsError } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';

export const REGION = 'ap-northeast-1';
export const ACCOUNT = '222222222222';
export const CLUSTER = 'fa-ai-system-cluster';
/** Monday 09:00 in Tokyo: the morning check after Sunday 02:00's batch. */
export const NOW = new Date('2026-11-23T00:00:00.000Z');
export const LB_FULL_NAME = 'app/fa-ai-system-alb/50dc6c495c0c9188';

export const TOPICS = {
  P0: `arn:aws:sns:${REGION}:${ACCOUNT}:fa-ai-system-prod-alerts-p0`,
  P1: `arn:aws:sns:${REGION}:${ACCOUNT}:fa-ai-system-prod-alerts-p1`,
  P2: `arn:aws:sns:${REGION}:${ACCOUNT}:fa-ai-system-prod-alerts-p2`,
  P3: `arn:aws:sns:${REGION}:${ACCOUNT}:fa-ai-system-prod-alerts-p3`,
} as const;

/** The n-th service: the runbook's two names first, then made-up ones for the scaling tests. */
export function serviceName(i: number): string {
  const colour = COLOURS[i % 2];
  return i < 2 ? `fa-ai-system-${colour}-service` : `fa-ai-system-${colour}-service-${i}`;
}

export function targetGroupFullName(i: number): string {
  return `targetgroup/fa-ai-${COLOURS[i % 2]}-tg${i}/73e2d6bc24d8a0${i.toString(16).padStart(2, '0')}`;
}

export function targetGroupArn(i: number): string {
  return `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:${targetGroupFullName(i)}`;
}

/** Prod's thresholds (config's defaults): what the stack gives the function. */
export const THRESHOLDS: HealthThresholds = {
  errorRateMax: 0.01,
  errorRateHigh: 0.1,
  p95MaxSeconds: 3,
  batchSuccessMin: 1,
  batchLookbackHours: 192,
  batchMaxRunningMinutes: 240,
};

/** The function's environment with `services` services and `groups` target groups (the contract's serializer). */
export function envWith(services = 2, groups = 2): Record<string, string> {
  return healthCheckContract.serialize({
    environment: 'prod',
    ecsCluster: CLUSTER,
    services: Array.from({ length: services }, (_, i) => ({
      colour: COLOURS[i % 2] as Colour,
      serviceName: serviceName(i),
    })),
    targetGroups: Array.from({ length: groups }, (_, i) => ({
      colour: COLOURS[i % 2] as Colour,
      targetGroupArn: targetGroupArn(i),
      targetGroupFullName: targetGroupFullName(i),
    })),
    loadBalancerFullName: LB_FULL_NAME,
    opsTableName: 'fa-ai-system-prod-ops',
    topicArns: TOPICS,
    ...THRESHOLDS,
    lightRenotifyMinutes: 60,
  });
}

export const ENV = envWith();

/** An ECS service as DescribeServices returns it. */
export function service(
  name: string,
  counts: { desired: number; running: number; pending?: number },
): Service {
  return {
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${name}`,
    serviceName: name,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    desiredCount: counts.desired,
    runningCount: counts.running,
    pendingCount: counts.pending ?? 0,
    launchType: 'FARGATE',
    deployments: [
      {
        id: `ecs-svc/${name.length}123456789`,
        status: 'PRIMARY',
        desiredCount: counts.desired,
        runningCount: counts.running,
        pendingCount: counts.pending ?? 0,
        rolloutState: 'COMPLETED',
      },
    ],
  };
}

/** A registered target as DescribeTargetHealth returns it. */
export function target(
  ip: string,
  state: 'healthy' | 'unhealthy' | 'draining' | 'initial' | 'unused',
): TargetHealthDescription {
  const reasons = {
    healthy: {},
    unhealthy: { Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' },
    draining: {
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
    },
    initial: { Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' },
    unused: { Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic' },
  } as const;
  return {
    Target: { Id: ip, Port: 8000, AvailabilityZone: `${REGION}a` },
    HealthCheckPort: '8000',
    TargetHealth: { State: state, ...reasons[state] },
  };
}

/** A batch run item as the state machine and the batch task leave it. */
export function batchRun(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const startedAt = (overrides.startedAt as string | undefined) ?? '2026-11-22T17:00:00.123Z';
  return {
    pk: 'BATCH_RUN',
    sk: `${startedAt}#f3b1c2d4-weekly`,
    status: 'SUCCEEDED',
    startedAt,
    endedAt: '2026-11-22T19:41:07.880Z',
    trigger: 'schedule',
    executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:fa-ai-system-prod-batch:f3b1c2d4-weekly`,
    stocksProcessed: 250,
    successful: 250,
    failed: 0,
    ...overrides,
  };
}

/** The load balancer's figures over the window (spread evenly over the target groups). */
export interface MetricFigures {
  requests: number;
  target5xx: number;
  elb5xx: number;
  /** Seconds; undefined: no datapoint (no traffic). */
  p95: number | undefined;
}

/** Everything the fakes answer from; tests change it before running the check. */
export interface World {
  /** By service name; a name not here is MISSING. */
  services: Map<string, Service>;
  /** By target group ARN. */
  targets: Map<string, TargetHealthDescription[]>;
  metrics: MetricFigures;
  /** The newest batch run item in the window, if any. */
  batch: Record<string, unknown> | undefined;
  /** The ops table item pk HEALTH / sk LIGHT_ALERT, as stored (without its key). */
  lightAlert: Record<string, unknown> | undefined;
}

/** A healthy world: every service 2/2, every group 2 healthy targets, 0.1% errors, p95 0.8 s. */
export function healthyWorld(services = 2, groups = 2): World {
  return {
    services: new Map(
      Array.from({ length: services }, (_, i) => [
        serviceName(i),
        service(serviceName(i), { desired: 2, running: 2 }),
      ]),
    ),
    targets: new Map(
      Array.from({ length: groups }, (_, i) => [
        targetGroupArn(i),
        [target(`10.0.${i}.10`, 'healthy'), target(`10.0.${i}.11`, 'healthy')],
      ]),
    ),
    metrics: { requests: 120_000, target5xx: 84, elb5xx: 36, p95: 0.82 },
    batch: batchRun(),
    lightAlert: undefined,
  };
}

/** The mocks of every client the health check uses. */
export const mocks = {
  ecs: mockClient(ECSClient),
  elbv2: mockClient(ElasticLoadBalancingV2Client),
  cloudwatch: mockClient(CloudWatchClient),
  sns: mockClient(SNSClient),
  ddb: mockClient(DynamoDBDocumentClient),
};

/** Clients whose calls the mocks above answer. */
export function clients(): HealthCheckClients {
  const config = { region: REGION, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' } };
  return {
    ecs: testClient(ECSClient, config),
    elbv2: testClient(ElasticLoadBalancingV2Client, config),
    cloudwatch: testClient(CloudWatchClient, config),
    sns: testClient(SNSClient, config),
    ddb: DynamoDBDocumentClient.from(testClient(DynamoDBClient, config)),
  };
}

/** Wraps every fake, e.g. to delay it and record when it ran. */
export type Around = <T>(call: string, fn: () => T) => Promise<T>;

const immediate: Around = async (_call, fn) => fn();

type MetricQuery = NonNullable<GetMetricDataCommandInput['MetricDataQueries']>[number];

function metricValue(world: World, query: MetricQuery, groups: number): number | undefined {
  const metric = query.MetricStat?.Metric;
  const perGroup = metric?.Dimensions?.some((d) => d.Name === 'TargetGroup') ?? false;
  const share = perGroup ? Math.max(1, groups) : 1;
  switch (metric?.MetricName) {
    case 'RequestCount':
      return world.metrics.requests / share;
    case 'HTTPCode_Target_5XX_Count':
      return world.metrics.target5xx / share;
    case 'HTTPCode_ELB_5XX_Count':
      return world.metrics.elb5xx / share;
    case 'TargetResponseTime':
      return world.metrics.p95;
    default:
      throw new Error(`unexpected metric ${metric?.MetricName}`);
  }
}

/** Resets the mocks and makes them answer from `world`; SNS Publish succeeds. */
export function serve(world: World, around: Around = immediate): void {
  for (const mock of Object.values(mocks)) mock.reset();

  mocks.ecs.on(DescribeServicesCommand).callsFake((input: DescribeServicesCommandInput) =>
    around('ecs:DescribeServices', (): DescribeServicesCommandOutput => {
      const names = input.services ?? [];
      return {
        $metadata: { httpStatusCode: 200 },
        services: names.flatMap((n) => world.services.get(n) ?? []),
        failures: names
          .filter((n) => !world.services.has(n))
          .map((n) => ({
            arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${input.cluster}/${n}`,
            reason: 'MISSING',
          })),
      };
    }),
  );
  mocks.elbv2.on(DescribeTargetHealthCommand).callsFake((input: DescribeTargetHealthCommandInput) =>
    around('elbv2:DescribeTargetHealth', (): DescribeTargetHealthCommandOutput => {
      const targets = world.targets.get(input.TargetGroupArn ?? '');
      if (targets === undefined) {
        throw Object.assign(new Error(`Target groups '${input.TargetGroupArn}' not found`), {
          name: 'TargetGroupNotFoundException',
        });
      }
      return { $metadata: { httpStatusCode: 200 }, TargetHealthDescriptions: targets };
    }),
  );
  mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) =>
    around('cloudwatch:GetMetricData', (): GetMetricDataCommandOutput => {
      const queries = input.MetricDataQueries ?? [];
      const groups = queries.filter((q) => q.Id?.endsWith('_requests')).length;
      const results: MetricDataResult[] = queries.map((q) => {
        const value = metricValue(world, q, groups);
        return {
          Id: q.Id,
          Label: q.MetricStat?.Metric?.MetricName,
          Timestamps: value === undefined ? [] : [input.StartTime as Date],
          Values: value === undefined ? [] : [value],
          StatusCode: 'Complete',
        };
      });
      return { $metadata: { httpStatusCode: 200 }, MetricDataResults: results, Messages: [] };
    }),
  );
  mocks.ddb.on(QueryCommand).callsFake(() =>
    around(
      'dynamodb:Query',
      (): QueryCommandOutput => ({
        $metadata: { httpStatusCode: 200 },
        Items: world.batch === undefined ? [] : [world.batch],
        Count: world.batch === undefined ? 0 : 1,
        ScannedCount: world.batch === undefined ? 0 : 1,
      }),
    ),
  );
  const alertKey = lightAlertKey();
  const isLightAlert = (key: Record<string, unknown> | undefined) =>
    key?.pk === alertKey.pk && key?.sk === alertKey.sk;
  mocks.ddb.on(GetCommand).callsFake((input: GetCommandInput) =>
    around('dynamodb:GetItem', (): GetCommandOutput => {
      const item = isLightAlert(input.Key) ? world.lightAlert : undefined;
      return { $metadata: { httpStatusCode: 200 }, ...(item ? { Item: { ...input.Key, ...item } } : {}) };
    }),
  );
  mocks.ddb.on(PutCommand).callsFake((input: PutCommandInput) =>
    around('dynamodb:PutItem', (): PutCommandOutput => {
      if (!isLightAlert(input.Item)) throw new Error(`unexpected PutItem ${JSON.stringify(input.Item)}`);
      const { pk: _pk, sk: _sk, ...item } = input.Item ?? {};
      world.lightAlert = item;
      return { $metadata: { httpStatusCode: 200 } };
    }),
  );
  mocks.ddb.on(DeleteCommand).callsFake((input: DeleteCommandInput) =>
    around('dynamodb:DeleteItem', (): DeleteCommandOutput => {
      if (!isLightAlert(input.Key)) throw new Error(`unexpected DeleteItem ${JSON.stringify(input.Key)}`);
      world.lightAlert = undefined;
      return { $metadata: { httpStatusCode: 200 } };
    }),
  );
  mocks.sns.on(PublishCommand).callsFake(() =>
    around('sns:Publish', () => ({
      $metadata: { httpStatusCode: 200 },
      MessageId: '5b6e4e4f-4c1d-5f3e-9a7e-3c2f7d9e1a01',
    })),
  );
}

/**
 * Like {@link serve}, but the ops table is a fresh table of the real engine (named as ENV's),
 * seeded with the world's batch run and light alert; the engine answers every table call and
 * the hand fake refuses them. The clients to use: {@link engineHealthClients}.
 */
export async function serveEngine(world: World, around: Around = immediate): Promise<LocalOpsTable> {
  serve(world, around);
  mocks.ddb.reset();
  mocks.ddb.rejects(new Error('This test runs on the engine: use engineHealthClients()'));
  const table = await createOpsTable(ENV.OPS_TABLE_NAME, { replace: true });
  if (world.batch) await table.seed(world.batch);
  if (world.lightAlert) await table.seed({ ...lightAlertKey(), ...world.lightAlert });
  table.intercept((call, next) => around(`dynamodb:${call.command}`, next));
  return table;
}

/** The health check's clients with the ops table on `table`. */
export function engineHealthClients(table: LocalOpsTable): HealthCheckClients {
  return { ...clients(), ddb: table.ddb };
}

export { awsError };
