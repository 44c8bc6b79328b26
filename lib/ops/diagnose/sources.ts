/**
 * The readers of `ops diagnose`, one per source: each takes its client and returns plain data,
 * or throws (the caller reports the source unavailable and reads the others all the same).
 */

import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type {
  ElasticLoadBalancingV2Client,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeReplicationGroupsCommand, type ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { DescribedServices } from '../../../core/health/checks';
import type { TargetGroupRef } from '../../../core/health/config';
import { METRIC_QUERY_IDS, type MetricWindow, metricQueries } from '../../../core/health/metrics';
import { describeServices, describeTargetHealth } from '../../../core/health/run';
import { readMetricData } from '../../../core/metric-data';
import { COLOURS, type Colour } from '../../../core/traffic';
import { LOG_PATTERNS, type LogPattern } from '../../constructs/runbook';
import { summarizeService, summarizeTargets } from '../commands/status';
import { OpsError } from '../errors';
import { MAX_PAGES } from '../pages';
import {
  BIN_FIELD,
  insightsTime,
  patternCountQuery,
  type QueryOptions,
  runQuery,
  sampleQuery,
} from './insights';

/** The metrics came back incomplete or not at all. */
export class MetricsIncompleteError extends OpsError {}

/** GetMetricData, every page (MAX_PAGES at most), results merged by query id; MetricsIncompleteError unless complete. */
async function metricData(
  cloudwatch: CloudWatchClient,
  queries: MetricDataQuery[],
  window: { readonly start: Date; readonly end: Date },
): Promise<Map<string, number[]>> {
  const results = await readMetricData(
    cloudwatch,
    {
      MetricDataQueries: queries,
      StartTime: window.start,
      EndTime: window.end,
      ScanBy: 'TimestampDescending',
    },
    MAX_PAGES,
  );
  const wanted = queries.filter((q) => q.ReturnData !== false).map((q) => q.Id as string);
  const missing = wanted.filter((id) => !results.has(id));
  const partial = wanted.filter(
    (id) => results.get(id)?.StatusCode !== undefined && results.get(id)?.StatusCode !== 'Complete',
  );
  if (missing.length > 0) throw new MetricsIncompleteError(`no result for ${missing.join(', ')}`);
  if (partial.length > 0) throw new MetricsIncompleteError(`incomplete results for ${partial.join(', ')}`);
  return new Map([...results].map(([id, result]) => [id, result.Values ?? []]));
}

const sum = (values: readonly number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);
// Percentiles of two partial periods cannot be combined: the worse one is the safe figure.
const worst = (values: readonly number[] | undefined) =>
  values === undefined || values.length === 0 ? null : Math.max(...values);

// ---------------------------------------------------------------------------------------------
// Traffic: the health check's queries (the load balancer and each target group)

/** Requests, 5xx and p95 of one colour (or of the load balancer) over the window. */
export interface TrafficFigures {
  readonly requests: number;
  /** Target 5xx; for the load balancer also its own (ELB) 5xx. */
  readonly errors: number;
  /** errors / requests; null without traffic. */
  readonly errorRate: number | null;
  /** TargetResponseTime p95, seconds; null without traffic. */
  readonly p95Seconds: number | null;
}

export interface Traffic {
  readonly window: MetricWindow;
  readonly colours: Readonly<Record<Colour, TrafficFigures>>;
  readonly loadBalancer: TrafficFigures;
}

function figures(requests: number, errors: number, p95: number | null): TrafficFigures {
  // The ALB leaves out of RequestCount the requests it answered itself (a 503 without a healthy
  // target): the floor keeps an outage from reading as "no traffic" (as the health check does).
  const rate = requests === 0 && errors === 0 ? null : errors / Math.max(requests, errors);
  return { requests, errors, errorRate: rate, p95Seconds: p95 };
}

export async function readTraffic(
  cloudwatch: CloudWatchClient,
  loadBalancerFullName: string,
  targetGroups: readonly TargetGroupRef[],
  window: MetricWindow,
): Promise<Traffic> {
  const values = await metricData(
    cloudwatch,
    metricQueries(loadBalancerFullName, targetGroups, window),
    window,
  );
  const ids = METRIC_QUERY_IDS;
  const colours = Object.fromEntries(
    targetGroups.map((tg, i) => [
      tg.colour,
      figures(
        sum(values.get(ids.groupRequests(i))),
        sum(values.get(ids.group5xx(i))),
        worst(values.get(ids.groupP95(i))),
      ),
    ]),
  ) as Record<Colour, TrafficFigures>;
  const loadBalancer = figures(
    sum(values.get(ids.requests)),
    sum(values.get(ids.target5xx)) + sum(values.get(ids.elb5xx)),
    worst(values.get(ids.p95)),
  );
  return { window, colours, loadBalancer };
}

// ---------------------------------------------------------------------------------------------
// Logs

/** A recent line of a service log. */
export interface LogLine {
  readonly at: string;
  readonly message: string;
}

/** The newest ERROR lines of one log group (the error table's ERROR row), at most `limit`. */
export async function readErrorSample(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  window: { readonly start: Date; readonly end: Date },
  limit: number,
  options: QueryOptions,
): Promise<LogLine[]> {
  const rows = await runQuery(
    logs,
    { logGroupNames: [logGroupName], queryString: sampleQuery(errorPattern(), limit), ...window },
    options,
  );
  return rows.map((r) => ({
    at: insightsTime(r['@timestamp'])?.toISOString() ?? r['@timestamp'] ?? '',
    message: r['@message'] ?? '',
  }));
}

function errorPattern(): LogPattern {
  const pattern = LOG_PATTERNS.find((p) => p.metric === 'ErrorLogs');
  if (pattern === undefined) throw new OpsError('The error table has no ErrorLogs row');
  return pattern;
}

/** One row of the error table, counted over the window. */
export interface PatternCount {
  readonly metric: string;
  readonly pattern: string;
  readonly byColour: Readonly<Record<Colour, number>>;
  readonly total: number;
  /** The most matching lines in one alarm period (both colours, as the alarm's metric sums them). */
  readonly peak: number;
  readonly threshold: number;
  readonly periodMinutes: number;
}

/** Every row of the error table counted per colour, with its peak per alarm period. */
export async function readPatternCounts(
  logs: CloudWatchLogsClient,
  logGroups: Readonly<Record<Colour, string>>,
  window: { readonly start: Date; readonly end: Date },
  options: QueryOptions,
): Promise<PatternCount[]> {
  const rows = await runQuery(
    logs,
    {
      logGroupNames: COLOURS.map((c) => logGroups[c]),
      queryString: patternCountQuery(LOG_PATTERNS),
      ...window,
    },
    options,
  );
  const colourOf = (log: string | undefined): Colour | undefined =>
    COLOURS.find((c) => log === logGroups[c] || log?.endsWith(`:${logGroups[c]}`));
  return LOG_PATTERNS.map((p) => {
    const byColour: Record<Colour, number> = { blue: 0, green: 0 };
    const perPeriod = new Map<number, number>();
    for (const row of rows) {
      const n = Number(row[p.metric] ?? 0);
      const colour = colourOf(row['@log']);
      const bin = insightsTime(row[BIN_FIELD]);
      if (!Number.isFinite(n) || n === 0 || colour === undefined) continue;
      byColour[colour] += n;
      // Alarm periods are clock-aligned multiples of the bin.
      const period = bin === undefined ? 0 : Math.floor(bin.getTime() / (p.periodMinutes * 60_000));
      perPeriod.set(period, (perPeriod.get(period) ?? 0) + n);
    }
    return {
      metric: p.metric,
      pattern: p.pattern,
      byColour,
      total: byColour.blue + byColour.green,
      peak: Math.max(0, ...perPeriod.values()),
      threshold: p.threshold,
      periodMinutes: p.periodMinutes,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Data tier

export interface DatabaseInstance {
  readonly id: string;
  readonly status: string;
  readonly instanceClass?: string;
  readonly engineVersion?: string;
  readonly multiAz?: boolean;
  readonly pendingModifications: boolean;
}

export async function readDatabase(rds: RDSClient, instanceId: string): Promise<DatabaseInstance> {
  const result = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
  const db =
    result.DBInstances?.find((d) => d.DBInstanceIdentifier === instanceId) ?? result.DBInstances?.[0];
  if (db === undefined) throw new OpsError(`DescribeDBInstances returned no instance ${instanceId}`);
  return {
    id: db.DBInstanceIdentifier ?? instanceId,
    status: db.DBInstanceStatus ?? 'unknown',
    instanceClass: db.DBInstanceClass,
    engineVersion: db.EngineVersion,
    multiAz: db.MultiAZ,
    pendingModifications: Object.keys(db.PendingModifiedValues ?? {}).length > 0,
  };
}

/** DatabaseConnections (Maximum per minute, as the alarm reads it) over the last minutes. */
export interface Connections {
  /** The newest minute's value; null without a datapoint. */
  readonly latest: number | null;
  readonly max: number | null;
  readonly minutes: number;
}

export async function readConnections(
  cloudwatch: CloudWatchClient,
  instanceId: string,
  now: Date,
  minutes: number,
): Promise<Connections> {
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  const window = { start: new Date(end.getTime() - minutes * 60_000), end };
  const values = await metricData(
    cloudwatch,
    [
      {
        Id: 'connections',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/RDS',
            MetricName: 'DatabaseConnections',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: instanceId }],
          },
          Period: 60,
          Stat: 'Maximum',
        },
        ReturnData: true,
      },
    ],
    window,
  );
  const series = values.get('connections') ?? [];
  // ScanBy TimestampDescending: the newest value first.
  return { latest: series[0] ?? null, max: worst(series), minutes };
}

export interface CacheGroup {
  readonly id: string;
  readonly status: string;
  readonly nodeType?: string;
  readonly members: readonly string[];
}

export async function readCache(
  elasticache: ElastiCacheClient,
  replicationGroupId: string,
): Promise<CacheGroup> {
  const result = await elasticache.send(
    new DescribeReplicationGroupsCommand({ ReplicationGroupId: replicationGroupId }),
  );
  const group = result.ReplicationGroups?.[0];
  if (group === undefined)
    throw new OpsError(`DescribeReplicationGroups returned no group ${replicationGroupId}`);
  return {
    id: group.ReplicationGroupId ?? replicationGroupId,
    status: group.Status ?? 'unknown',
    nodeType: group.CacheNodeType,
    members: group.MemberClusters ?? [],
  };
}

/** DatabaseMemoryUsagePercentage of each node (Maximum per 5 minutes, as the alarm reads it). */
export interface CacheMemory {
  /** The fullest node's newest value; null without a datapoint. */
  readonly latestPercent: number | null;
  readonly byNode: Readonly<Record<string, number | null>>;
}

export async function readCacheMemory(
  cloudwatch: CloudWatchClient,
  members: readonly string[],
  now: Date,
): Promise<CacheMemory> {
  if (members.length === 0) throw new OpsError('the replication group lists no member clusters');
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  const window = { start: new Date(end.getTime() - 15 * 60_000), end };
  const id = (i: number) => `memory${i}`;
  const values = await metricData(
    cloudwatch,
    members.map((member, i) => ({
      Id: id(i),
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ElastiCache',
          MetricName: 'DatabaseMemoryUsagePercentage',
          Dimensions: [{ Name: 'CacheClusterId', Value: member }],
        },
        Period: 300,
        Stat: 'Maximum',
      },
      ReturnData: true,
    })),
    window,
  );
  const byNode = Object.fromEntries(members.map((m, i) => [m, values.get(id(i))?.[0] ?? null]));
  const known = Object.values(byNode).filter((v): v is number => v !== null);
  return { latestPercent: known.length === 0 ? null : Math.max(...known), byNode };
}

// ---------------------------------------------------------------------------------------------
// Services, targets, alarms, actions

export type ServiceSummary = ReturnType<typeof summarizeService> & { readonly serviceName: string };

/** DescribeServices' answer (for the health check's rules) and each colour's summary. */
export interface Services {
  readonly described: DescribedServices;
  readonly byColour: Readonly<Record<Colour, ServiceSummary | null>>;
}

export async function readServices(
  ecs: ECSClient,
  cluster: string,
  services: Readonly<Record<Colour, string>>,
): Promise<Services> {
  const result = await describeServices(
    ecs,
    cluster,
    COLOURS.map((c) => services[c]),
  );
  // The last 100 service events would swamp the report (and --json); the summary keeps the rollout.
  const described = {
    services: result.services.map(({ events: _, ...service }) => service),
    failures: result.failures,
  };
  const byColour = Object.fromEntries(
    COLOURS.map((colour) => {
      const found = described.services.find((s) => s.serviceName === services[colour]);
      return [colour, found ? { serviceName: services[colour], ...summarizeService(found) } : null];
    }),
  ) as Record<Colour, ServiceSummary | null>;
  return { described, byColour };
}

export type TargetSummary = ReturnType<typeof summarizeTargets>;

/** DescribeTargetHealth's answer (for the health check's rules) and its summary. */
export interface Targets {
  readonly descriptions: TargetHealthDescription[];
  readonly summary: TargetSummary;
}

export async function readTargets(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
): Promise<Targets> {
  const descriptions = await describeTargetHealth(elbv2, targetGroupArn);
  return { descriptions, summary: summarizeTargets(descriptions) };
}

/** An alarm in ALARM. */
export interface FiringAlarm {
  readonly name: string;
  /** The name without the environment prefix: the alarm catalogue's id. */
  readonly id: string;
  readonly type: 'metric' | 'composite';
  readonly since?: string;
  readonly reason?: string;
  readonly description?: string;
}

export async function readFiringAlarms(cloudwatch: CloudWatchClient, prefix: string): Promise<FiringAlarm[]> {
  const out: FiringAlarm[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: prefix,
        StateValue: 'ALARM',
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
        NextToken: nextToken,
      }),
    );
    const kinds = [
      ['metric', page.MetricAlarms ?? []],
      ['composite', page.CompositeAlarms ?? []],
    ] as const;
    for (const [type, alarms] of kinds) {
      for (const a of alarms) {
        const name = a.AlarmName ?? '';
        out.push({
          name,
          id: name.startsWith(prefix) ? name.slice(prefix.length) : name,
          type,
          since: a.StateUpdatedTimestamp?.toISOString(),
          reason: a.StateReason,
          description: a.AlarmDescription,
        });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return out.sort((a, b) => (b.since ?? '').localeCompare(a.since ?? ''));
}
