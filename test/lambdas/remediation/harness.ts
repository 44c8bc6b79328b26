import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, type Service, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ALARM_ENTRIES } from '../../../core/alarms/catalogue';
import { type AlarmFactsDocument, alarmFactsDocument } from '../../../core/alarms/facts';
import { remediationContract } from '../../../core/contracts/remediation';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../../core/ops-table/items';
import { configFromEnv } from '../../../lambdas/remediation/config';
import type { RemediationClients } from '../../../lambdas/remediation/logic';
import { automationEnv, automationSettings, scheduleCreated } from '../../helpers/automation';
import { awsError, metricValue, RoundTripTracker } from '../../helpers/aws';
import { mockClient } from '../../helpers/aws-mock';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';

export const REGION = 'ap-northeast-1';
export const ACCOUNT_ID = '123456789012';
export const CLUSTER = 'fa-ai-system-prod';
export const SERVICES = { blue: 'fa-ai-system-blue-service', green: 'fa-ai-system-green-service' } as const;
export const WEIGHTS_PARAMETER = '/fa-ai-system/prod/traffic/weights';
export const OPS_TABLE = 'fa-ai-system-prod-ops';
export const TOPICS = {
  P0: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p0`,
  P1: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p1`,
  P2: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p2`,
  P3: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p3`,
} as const;
export const NOW = new Date('2026-11-25T04:12:35.000Z');

/** The REMEDIATION variable's value; tests override parts. */
export interface RemediationJson {
  dryRun: boolean;
  actions: {
    'force-new-deployment': { enabled: boolean; maxPerHour: number };
    'scale-out': { enabled: boolean; maxPerHour: number; step: number };
  };
}

export const REMEDIATION: RemediationJson = {
  dryRun: false,
  actions: {
    'force-new-deployment': { enabled: true, maxPerHour: 2 },
    'scale-out': { enabled: true, maxPerHour: 3, step: 1 },
  },
};

/** The alarms' names start with this in prod. */
export const ALARM_PREFIX = 'fa-ai-system-prod-';

/**
 * The function's environment as the stack sets it (the contract's serializer), with
 * `remediation` as REMEDIATION and the alarm facts of the catalogue (or `facts`).
 */
export function env(
  remediation: RemediationJson = REMEDIATION,
  facts: AlarmFactsDocument = alarmFactsDocument(ALARM_PREFIX, ALARM_ENTRIES),
): Record<string, string> {
  return {
    ...remediationContract.serialize({
      environment: 'prod',
      ecsCluster: CLUSTER,
      services: SERVICES,
      maxCounts: { blue: 10, green: 10 },
      weightsParameter: WEIGHTS_PARAMETER,
      opsTableName: OPS_TABLE,
      topicArns: TOPICS,
      remediation,
      alarmFacts: facts,
      automation: automationSettings(OPS_TABLE),
    }),
    // Present in every Lambda environment; must be ignored.
    AWS_REGION: REGION,
  };
}

export const ENV = env();
export const CONFIG = configFromEnv(ENV);

/** A deep copy of REMEDIATION changed by `change`. */
export function remediation(change: (r: RemediationJson) => void): RemediationJson {
  const copy = structuredClone(REMEDIATION);
  change(copy);
  return copy;
}

// --- Events ------------------------------------------------------------------------------------

/** The descriptions the stack gives the alarms (severity first). */
export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  'log-db-pool-exhausted':
    'P1 1+ log lines matching "could not obtain connection from pool" in 5 minutes. Runbook: Common Issues > Database Connection Pool Exhausted.',
  'db-connections-high':
    'P1 database connections above 80% of max_connections (200). Runbook: Common Issues > Database Connection Pool Exhausted.',
  'blue-cpu-high':
    'P2 blue: ECS CPU above 80%. Runbook: Incident Response > P0: Complete Service Outage (Resource exhaustion).',
  'blue-memory-high':
    'P2 blue: ECS memory above 85%. Runbook: Incident Response > P0: Complete Service Outage (Resource exhaustion).',
  'green-cpu-high':
    'P2 green: ECS CPU above 80%. Runbook: Incident Response > P0: Complete Service Outage (Resource exhaustion).',
  'green-memory-high':
    'P2 green: ECS memory above 85%. Runbook: Incident Response > P0: Complete Service Outage (Resource exhaustion).',
  p0: 'P0 complete service outage: zero healthy targets or a 5xx storm. Runbook: Incident Response > P0: Complete Service Outage. First action after a recent deployment: npm run ops -- rollback',
  'cache-memory-high': 'P2 cache memory above 80%. Runbook: Common Issues > High API Costs.',
};

export const STATE_REASON =
  'Threshold Crossed: 1 out of the last 1 datapoints [3.0 (25/11/26 04:07:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).';

/**
 * An EventBridge "CloudWatch Alarm State Change" event, shaped as the CloudWatch documentation's
 * single-metric example, for alarm `fa-ai-system-prod-<alarmId>`.
 */
export function alarmEvent(
  alarmId: string,
  options: {
    id?: string;
    state?: string;
    previousState?: string;
    description?: string | null;
    alarmName?: string;
  } = {},
) {
  const alarmName = options.alarmName ?? `fa-ai-system-prod-${alarmId}`;
  const description =
    options.description === undefined ? DESCRIPTIONS[alarmId] : (options.description ?? undefined);
  return {
    version: '0',
    id: options.id ?? 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT_ID,
    time: '2026-11-25T04:12:31Z',
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${alarmName}`],
    detail: {
      alarmName,
      configuration: {
        ...(description === undefined ? {} : { description }),
        metrics: [
          {
            id: '30b6c6b2-a864-43a2-4877-c09a1afc3b87',
            metricStat: {
              metric: {
                dimensions: { ServiceName: SERVICES.blue, ClusterName: CLUSTER },
                name: 'CPUUtilization',
                namespace: 'AWS/ECS',
              },
              period: 300,
              stat: 'Average',
            },
            returnData: true,
          },
        ],
      },
      previousState: {
        reason:
          'Threshold Crossed: 1 out of the last 1 datapoints [0.0 (25/11/26 03:57:00)] was not greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).',
        reasonData:
          '{"version":"1.0","queryDate":"2026-11-25T04:02:30.985+0000","startDate":"2026-11-25T03:57:00.000+0000","statistic":"Sum","period":300,"recentDatapoints":[0.0],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2026-11-25T03:57:00.000+0000","sampleCount":5.0,"value":0.0}]}',
        timestamp: '2026-11-25T04:02:30.987+0000',
        value: options.previousState ?? 'OK',
      },
      state: {
        reason: STATE_REASON,
        reasonData:
          '{"version":"1.0","queryDate":"2026-11-25T04:12:30.985+0000","startDate":"2026-11-25T04:07:00.000+0000","statistic":"Sum","period":300,"recentDatapoints":[3.0],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2026-11-25T04:07:00.000+0000","sampleCount":5.0,"value":3.0}]}',
        timestamp: '2026-11-25T04:12:30.989+0000',
        value: options.state ?? 'ALARM',
      },
    },
  };
}

// --- Mocks -------------------------------------------------------------------------------------

const modelDdb = DynamoDBDocumentClient.from(
  testClient(DynamoDBClient, { region: REGION }),
  OPS_TABLE_TRANSLATE_CONFIG,
);
// Its own send: this instance's stub must not wrap the function another harness's stub of the
// class's prototype wraps, and the local engine's clients are never answered by it.
Object.defineProperty(modelDdb, 'send', {
  value: (Object.getPrototypeOf(DynamoDBDocumentClient.prototype) as { send: unknown }).send,
  writable: true,
  configurable: true,
});

export const mocks = {
  ecs: mockClient(ECSClient),
  ssm: mockClient(SSMClient),
  sns: mockClient(SNSClient),
  scheduler: mockClient(SchedulerClient),
  /** The model table's stub (fault matrix and the older handler tests). */
  ddb: mockClient(modelDdb),
};

export const clients: RemediationClients = {
  ecs: testClient(ECSClient, { region: REGION }),
  ssm: testClient(SSMClient, { region: REGION }),
  sns: testClient(SNSClient, { region: REGION }),
  scheduler: testClient(SchedulerClient, { region: REGION }),
  ddb: modelDdb,
};

/** The mocked ECS, SSM and SNS (happy path) with the ops table on the local engine. */
export async function world(
  setup: MockSetup = {},
): Promise<{ table: LocalOpsTable; clients: RemediationClients }> {
  resetMocks(setup);
  const table = await createOpsTable();
  const tracker = setup.tracker;
  if (tracker) table.around((operation, call) => tracker.track(operation, call));
  return { table, clients: { ...clients, ddb: table.ddb } };
}

/** The function's environment naming `table`. */
export function envOf(table: LocalOpsTable, remediationJson: RemediationJson = REMEDIATION) {
  return { ...env(remediationJson), OPS_TABLE_NAME: table.tableName, ...automationEnv(table.tableName) };
}

const TASK_DEFINITION = (colour: string, revision: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task-definition/fa-ai-system-prod-${colour}:${revision}`;

/** A service as DescribeServices returns it. */
export function service(
  colour: 'blue' | 'green',
  desiredCount: number,
  deploymentId = `ecs-svc/${colour}0001`,
) {
  const name = SERVICES[colour];
  return {
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:service/${CLUSTER}/${name}`,
    serviceName: name,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    desiredCount,
    runningCount: desiredCount,
    pendingCount: 0,
    launchType: 'FARGATE' as const,
    platformVersion: 'LATEST',
    taskDefinition: TASK_DEFINITION(colour, 42),
    deployments: [
      {
        id: deploymentId,
        status: 'PRIMARY',
        taskDefinition: TASK_DEFINITION(colour, 42),
        desiredCount,
        pendingCount: 0,
        runningCount: desiredCount,
        failedTasks: 0,
        createdAt: new Date('2026-11-20T02:00:00.000Z'),
        updatedAt: new Date('2026-11-20T02:05:00.000Z'),
        launchType: 'FARGATE' as const,
        rolloutState: 'COMPLETED' as const,
        rolloutStateReason: 'ECS deployment ecs-svc/0001 completed.',
      },
    ],
    createdAt: new Date('2026-01-01T09:00:00.000Z'),
    schedulingStrategy: 'REPLICA' as const,
    deploymentController: { type: 'ECS' as const },
  } satisfies Service;
}

/** A stored item of the model table. */
type Item = Record<string, unknown>;

/**
 * Fault matrix and the older handler tests only (the ops table's conditions are decided by the
 * local engine in ops-table.test.ts, see {@link world}).
 * The ops table items the remediation writes, modelling its conditions: the claim put, the
 * audit put (never overwriting), the counter update and refund, the marker update.
 */
export class OpsTableModel {
  readonly items = new Map<string, Item>();

  private static key(pk: unknown, sk: unknown): string {
    return `${String(pk)}|${String(sk)}`;
  }

  get(pk: string, sk: string): Item | undefined {
    return this.items.get(OpsTableModel.key(pk, sk));
  }

  put(input: { Item?: Item; ExpressionAttributeValues?: Item }): object {
    const item = input.Item ?? {};
    const key = OpsTableModel.key(item.pk, item.sk);
    const old = this.items.get(key);
    if (old !== undefined) {
      const values = input.ExpressionAttributeValues ?? {};
      const reclaimable =
        item.pk === 'REMEDIATION_EVENT' &&
        (old.status === 'failed' ||
          (old.status === 'claimed' && (old.leaseUntil as number) < (values[':now'] as number)));
      if (!reclaimable) throw conditionalCheckFailed(old);
    }
    this.items.set(key, { ...item });
    return { $metadata: {} };
  }

  update(input: { Key?: Item; ExpressionAttributeValues?: Item }): object {
    const key = OpsTableModel.key(input.Key?.pk, input.Key?.sk);
    const values = input.ExpressionAttributeValues ?? {};
    const old = this.items.get(key);
    if (input.Key?.pk === 'REMEDIATION_RATE') {
      const count = (old?.count as number | undefined) ?? 0;
      const holders = new Set((old?.holders as Set<string> | undefined) ?? []);
      const id = values[':id'] as string;
      if (':one' in values) {
        if (holders.has(id) || (old !== undefined && count >= (values[':max'] as number))) {
          throw conditionalCheckFailed();
        }
        holders.add(id);
        const next = {
          ...input.Key,
          expiresAt: old?.expiresAt ?? values[':expiresAt'],
          count: count + 1,
          holders,
        };
        this.items.set(key, next);
        return { $metadata: {}, Attributes: { count: next.count, expiresAt: next.expiresAt, holders } };
      }
      if (!holders.has(id)) throw conditionalCheckFailed();
      holders.delete(id);
      this.items.set(key, { ...old, count: count - 1, holders });
      return { $metadata: {} };
    }
    this.items.set(key, {
      ...old,
      ...input.Key,
      status: values[':status'],
      outcome: values[':outcome'],
      finishedAt: values[':finishedAt'],
    });
    return { $metadata: {} };
  }
}

/** What DynamoDB throws on a failed condition; the old item in low-level form when asked. */
export function conditionalCheckFailed(old?: Item): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(old === undefined
      ? {}
      : {
          Item: Object.fromEntries(
            Object.entries(old).map(([k, v]) => [
              k,
              typeof v === 'number' ? { N: String(v) } : { S: String(v) },
            ]),
          ),
        }),
  });
}

/** What {@link resetMocks} sets up. */
export interface MockSetup {
  /** The stored weights "<blue>,<green>". @default '100,0' */
  readonly weights?: string;
  /** Desired counts. @default blue 2, green 1 */
  readonly desired?: { blue: number; green: number };
  readonly tracker?: RoundTripTracker;
}

/** Resets every mock to the happy path and returns the fresh table model. */
export function resetMocks(setup: MockSetup = {}): OpsTableModel {
  for (const mock of Object.values(mocks)) mock.reset();
  const table = new OpsTableModel();
  const track = <I, O>(command: string, fn: (input: I) => O) =>
    setup.tracker ? setup.tracker.wrap(command, fn) : async (input: I) => fn(input);
  const desired = setup.desired ?? { blue: 2, green: 1 };
  mocks.ddb.on(GetCommand).callsFake(
    track('GetItem', (input: { Key?: Item }) => ({
      $metadata: {},
      Item: table.get(String(input.Key?.pk), String(input.Key?.sk)),
    })),
  );
  mocks.ddb.on(PutCommand).callsFake(track('PutItem', (input) => table.put(input)));
  mocks.ddb.on(UpdateCommand).callsFake(track('UpdateItem', (input) => table.update(input)));
  // The repeat guard's count (core/automation): no earlier action in the model.
  mocks.ddb.on(QueryCommand).callsFake(track('Query', () => ({ $metadata: {}, Count: 0, ScannedCount: 0 })));
  mocks.scheduler.on(CreateScheduleCommand).callsFake(track('CreateSchedule', scheduleCreated));
  mocks.ssm.on(GetParameterCommand).callsFake(
    track('GetParameter', () => ({
      $metadata: {},
      Parameter: {
        Name: WEIGHTS_PARAMETER,
        Type: 'StringList' as const,
        Value: setup.weights ?? '100,0',
        Version: 7,
        LastModifiedDate: new Date('2026-11-20T02:10:00.000Z'),
        ARN: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${WEIGHTS_PARAMETER}`,
        DataType: 'text',
      },
    })),
  );
  mocks.ecs.on(DescribeServicesCommand).callsFake(
    track('DescribeServices', () => ({
      $metadata: {},
      services: [service('blue', desired.blue), service('green', desired.green)],
      failures: [],
    })),
  );
  mocks.ecs.on(UpdateServiceCommand).callsFake(
    track(
      'UpdateService',
      (input: { service?: string; desiredCount?: number; forceNewDeployment?: boolean }) => {
        const colour = input.service === SERVICES.green ? 'green' : 'blue';
        const updated = service(
          colour,
          input.desiredCount ?? desired[colour],
          input.forceNewDeployment ? `ecs-svc/${colour}0002` : undefined,
        );
        return { $metadata: {}, service: updated };
      },
    ),
  );
  mocks.sns
    .on(PublishCommand)
    .callsFake(
      track('Publish', () => ({ $metadata: {}, MessageId: '5b0e8f1c-2a7d-4c3e-9f61-0d2b7a9e4c18' })),
    );
  return table;
}

export { awsError, metricValue, RoundTripTracker };

import { observability as sharedObservability } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';

/** Silent Powertools logger and metrics of the remediation Lambda, plus the EMF documents they write. */
export const observability = () => sharedObservability('remediation');
