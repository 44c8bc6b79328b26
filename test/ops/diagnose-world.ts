/**
 * The account `ops diagnose` reads, on top of the ops CLI harness: CloudWatch metrics (ALB,
 * RDS, ElastiCache), alarms, Logs Insights, RDS and ElastiCache, answering in the shapes the
 * AWS API references document. Tests change `dw` (the diagnose world) and run the CLI.
 */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  GetQueryResultsCommand,
  type GetQueryResultsResponse,
  StartQueryCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeReplicationGroupsCommand } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import type { OpsManifest } from '../../lib/ops/manifest';
import { ACCOUNT_ID, REGION } from '../lambdas/traffic-shift/harness';
import { cliMocks, MANIFEST, manifestOf, opsTable, resetCli, stack } from './harness';

export const LOG_GROUPS = { blue: '/ecs/fa-ai-system-blue', green: '/ecs/fa-ai-system-green' } as const;
export const DB_ID = 'fa-ai-system-db';
export const CACHE_ID = 'fa-ai-system-cache';

/** The manifest's diagnose section, as the service stack emits it for prod. */
export const DIAGNOSE_SECTION: NonNullable<OpsManifest['diagnose']> = {
  logGroups: { ...LOG_GROUPS },
  alarmPrefix: 'fa-ai-system-prod-',

  database: { instanceId: DB_ID, maxConnections: 100, connectionsThreshold: 80 },
  cache: { replicationGroupId: CACHE_ID, memoryMaxPercent: 80 },
};

type Series = number[];
interface Traffic {
  requests: Series;
  target5xx: Series;
  elb5xx: Series;
  p95: Series;
}

/** One row of the counting query: a 5-minute bin of one log group. */
export interface CountRow {
  readonly bin: string;
  readonly log: keyof typeof LOG_GROUPS;
  readonly counts: Readonly<Record<string, number>>;
}

/** What the account holds; {@link resetDiagnose} makes it healthy. */
export interface DiagnoseWorld {
  traffic: { blue: Traffic; green: Traffic; lb: Traffic };
  /** DatabaseConnections, newest first. */
  connections: Series;
  /** DatabaseMemoryUsagePercentage of the one node, newest first. */
  cacheMemory: Series;
  dbStatus: string;
  cacheStatus: string;
  alarms: Array<{ id: string; composite?: boolean; description: string }>;
  counts: CountRow[];
  samples: Record<keyof typeof LOG_GROUPS, Array<{ at: string; message: string }>>;
  /** The status GetQueryResults reports (Complete unless changed). */
  queryStatus: GetQueryResultsResponse['status'];
  /** Every StartQuery: its input and the id it got. */
  queries: Array<{
    id: string;
    logGroupNames: string[];
    queryString: string;
    startTime: number;
    endTime: number;
  }>;
}

const healthyTraffic = (requests: number): Traffic => ({
  requests: [requests],
  target5xx: [3],
  elb5xx: [],
  p95: [0.42],
});

export const dw: DiagnoseWorld = {} as DiagnoseWorld;

/** An ERROR line as the application's JSON logger writes it. */
export function errorLine(message: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ level: 'ERROR', logger: 'src.api.query', message, ...extra });
}

/**
 * The CLI harness reset, then a healthy account: traffic on blue only, the data tier well
 * inside its limits, no alarm in ALARM, no log line matching the error table.
 */
export async function resetDiagnose(manifest: Partial<OpsManifest> = {}): Promise<void> {
  await resetCli();
  Object.assign(dw, {
    traffic: {
      blue: healthyTraffic(12_000),
      green: { requests: [], target5xx: [], elb5xx: [], p95: [] },
      lb: healthyTraffic(12_000),
    },
    connections: [42, 40, 41, 39, 38],
    cacheMemory: [34.5, 33.9, 33.1],
    dbStatus: 'available',
    cacheStatus: 'available',
    alarms: [],
    counts: [],
    samples: { blue: [], green: [] },
    queryStatus: 'Complete',
    queries: [],
  } satisfies DiagnoseWorld);
  const full = { ...manifestOf(opsTable()), diagnose: DIAGNOSE_SECTION, ...manifest };
  cliMocks.cloudformation
    .on(DescribeStacksCommand)
    .resolves(stack([{ OutputKey: 'OpsManifest', OutputValue: JSON.stringify(full) }]));

  cliMocks.cloudwatch.on(GetMetricDataCommand).callsFake(metricDataAnswer);
  cliMocks.cloudwatch
    .on(DescribeAlarmsCommand)
    .callsFake((input: { AlarmNamePrefix?: string; StateValue?: string }) => {
      const prefix = input.AlarmNamePrefix ?? '';
      const alarm = (a: DiagnoseWorld['alarms'][number]) => ({
        AlarmName: `fa-ai-system-prod-${a.id}`,
        AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:fa-ai-system-prod-${a.id}`,
        AlarmDescription: a.description,
        StateValue: 'ALARM',
        StateReason:
          'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (0.1).',
        StateUpdatedTimestamp: new Date('2026-11-25T04:02:00.000Z'),
        ActionsEnabled: true,
      });
      const firing = dw.alarms.filter(
        (a) => `fa-ai-system-prod-${a.id}`.startsWith(prefix) && input.StateValue === 'ALARM',
      );
      return {
        MetricAlarms: firing.filter((a) => !a.composite).map(alarm),
        CompositeAlarms: firing
          .filter((a) => a.composite)
          .map((a) => ({ ...alarm(a), AlarmRule: 'ALARM("x")' })),
      };
    });

  cliMocks.rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => ({
    DBInstances: [
      {
        DBInstanceIdentifier: input.DBInstanceIdentifier,
        DBInstanceClass: 'db.t4g.medium',
        Engine: 'postgres',
        EngineVersion: '17.9',
        DBInstanceStatus: dw.dbStatus,
        MultiAZ: false,
        Endpoint: { Address: `${DB_ID}.c9akciq32.us-east-1.rds.amazonaws.com`, Port: 5432 },
        PendingModifiedValues: {},
        DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT_ID}:db:${DB_ID}`,
      },
    ],
  }));
  cliMocks.elasticache
    .on(DescribeReplicationGroupsCommand)
    .callsFake((input: { ReplicationGroupId?: string }) => ({
      ReplicationGroups: [
        {
          ReplicationGroupId: input.ReplicationGroupId,
          Description: 'FA AI System embedding cache',
          Status: dw.cacheStatus,
          MemberClusters: [`${CACHE_ID}-001`],
          NodeGroups: [
            {
              NodeGroupId: '0001',
              Status: dw.cacheStatus,
              NodeGroupMembers: [
                { CacheClusterId: `${CACHE_ID}-001`, CacheNodeId: '0001', CurrentRole: 'primary' },
              ],
            },
          ],
          CacheNodeType: 'cache.t4g.micro',
          Engine: 'valkey',
          TransitEncryptionEnabled: true,
          AtRestEncryptionEnabled: true,
        },
      ],
    }));

  cliMocks.logs.on(StartQueryCommand).callsFake((input: DiagnoseWorld['queries'][number]) => {
    const id = `4c29d7f1-8ad5-4f1e-9a1b-${String(dw.queries.length).padStart(12, '0')}`;
    dw.queries.push({ ...input, id });
    return { queryId: id };
  });
  cliMocks.logs.on(GetQueryResultsCommand).callsFake((input: { queryId?: string }) => {
    const query = dw.queries.find((q) => q.id === input.queryId);
    if (query === undefined)
      throw Object.assign(new Error('Query does not exist.'), { name: 'ResourceNotFoundException' });
    if (dw.queryStatus !== 'Complete') return { status: dw.queryStatus, results: [] };
    return {
      status: 'Complete',
      statistics: { recordsMatched: 12, recordsScanned: 48_211, bytesScanned: 10_482_113 },
      results: resultsOf(query),
    };
  });
  cliMocks.logs.on(StopQueryCommand).resolves({ success: true });
}

/** GetMetricData's answer from the world: newest datapoint first (ScanBy TimestampDescending). */
export function metricDataAnswer(input: { MetricDataQueries?: MetricDataQuery[] }) {
  return {
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const values = seriesOf(q);
      return {
        Id: q.Id,
        Label: q.MetricStat?.Metric?.MetricName,
        StatusCode: 'Complete' as const,
        Timestamps: values.map((_, i) => new Date(Date.parse('2026-11-25T04:12:00.000Z') - i * 60_000)),
        Values: values,
      };
    }),
    Messages: [],
  };
}

function seriesOf(q: MetricDataQuery): Series {
  const metric = q.MetricStat?.Metric;
  const dims = Object.fromEntries((metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
  if (metric?.Namespace === 'AWS/RDS') return dims.DBInstanceIdentifier === DB_ID ? dw.connections : [];
  if (metric?.Namespace === 'AWS/ElastiCache')
    return dims.CacheClusterId === `${CACHE_ID}-001` ? dw.cacheMemory : [];
  const source = dims.TargetGroup
    ? dims.TargetGroup === MANIFEST.targetGroups.blue.fullName
      ? dw.traffic.blue
      : dw.traffic.green
    : dw.traffic.lb;
  switch (metric?.MetricName) {
    case 'RequestCount':
      return source.requests;
    case 'HTTPCode_Target_5XX_Count':
      return source.target5xx;
    case 'HTTPCode_ELB_5XX_Count':
      return source.elb5xx;
    default:
      return source.p95;
  }
}

function resultsOf(query: DiagnoseWorld['queries'][number]) {
  if (query.queryString.includes('| stats ')) {
    return dw.counts.map((row) => [
      { field: 'bin(5m)', value: row.bin },
      { field: '@log', value: `${ACCOUNT_ID}:${LOG_GROUPS[row.log]}` },
      ...Object.entries(row.counts).map(([field, n]) => ({ field, value: String(n) })),
    ]);
  }
  const colour = query.logGroupNames[0] === LOG_GROUPS.green ? 'green' : 'blue';
  return dw.samples[colour].map((line, i) => [
    { field: '@timestamp', value: line.at },
    { field: '@message', value: line.message },
    { field: '@ptr', value: `CmAKJwojMjIyMjIyMjIyMjIyOi9lY3MvZmEtYWktc3lzdGVtLWJsdWUQABI1GhgCBl${i}` },
  ]);
}
