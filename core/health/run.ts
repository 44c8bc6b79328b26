/**
 * The health checks' run: one round of reads in parallel (DescribeServices in chunks of 10,
 * DescribeTargetHealth per group, ONE GetMetricData for every figure, one Query of the ops
 * table), evaluated into a report. No side effects: the scheduled health check Lambda sends
 * the report (lambdas/health-check/logic.ts), `npm run ops -- health` prints the same one.
 */

import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BATCH_RUN_PK } from '../ops-table/items';
import {
  type BatchRunRecord,
  type DescribedServices,
  evaluateBatch,
  evaluateServices,
  evaluateTargets,
  parseBatchRunRecord,
  settle,
} from './checks';
import type { HealthCheckConfig } from './config';
import {
  evaluateErrorRate,
  evaluateLatency,
  type MetricWindow,
  metricQueries,
  metricWindow,
} from './metrics';
import { type CheckKind, type CheckResult, type HealthReport, overallStatus } from './report';

/** The clients {@link runHealthCheck} reads with (it publishes nothing). */
export interface CheckClients {
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  /** A document client of the ops table. */
  readonly ddb: DynamoDBDocumentClient;
}

/** How far back each kind of check looks at the load balancer's metrics. */
export const METRIC_WINDOWS: Readonly<
  Record<CheckKind, { readonly minutes: number; readonly label: string }>
> = {
  morning: { minutes: 24 * 60, label: '24 h' },
  // Three light runs: a short spike is seen more than once, but an old one is soon forgotten.
  light: { minutes: 15, label: '15 min' },
};

/** DescribeServices takes at most 10 services per call. */
const DESCRIBE_SERVICES_MAX = 10;

/** What the checks look at: the configuration without the alerting's settings (the ops CLI has no alerting). */
export type CheckTarget = Omit<HealthCheckConfig, 'lightRenotifyMinutes'>;

/** What to check and when. */
export interface RunOptions {
  readonly kind: CheckKind;
  /** @default new Date() */
  readonly now?: Date;
}

/**
 * Runs the checks of `kind` and returns the report; no side effects, so the ops CLI prints
 * the very report the scheduled Lambda sends. Never throws for an AWS failure: the checks that
 * depend on a failed call are UNKNOWN.
 */
export async function runHealthCheck(
  clients: CheckClients,
  config: CheckTarget,
  options: RunOptions,
): Promise<HealthReport> {
  const now = options.now ?? new Date();
  const { kind } = options;
  const { minutes, label } = METRIC_WINDOWS[kind];
  const window = metricWindow(now, minutes, label);

  const [services, targets, metrics, batch] = await Promise.all([
    settle(
      describeServices(
        clients.ecs,
        config.ecsCluster,
        config.services.map((s) => s.serviceName),
      ),
    ),
    Promise.all(
      config.targetGroups.map(async (ref) => ({
        ref,
        outcome: await settle(describeTargetHealth(clients.elbv2, ref.targetGroupArn)),
      })),
    ),
    settle(getMetrics(clients.cloudwatch, config, window)),
    kind === 'morning' ? settle(latestBatchRun(clients.ddb, config, now)) : undefined,
  ]);

  const checks: CheckResult[] = [
    evaluateServices(config.services, services),
    evaluateTargets(targets),
    evaluateErrorRate(config.thresholds, config.targetGroups, window, metrics),
    evaluateLatency(config.thresholds, config.targetGroups, window, metrics),
  ];
  if (batch !== undefined) checks.push(evaluateBatch(config.thresholds, now, batch));
  return { kind, at: now.toISOString(), overall: overallStatus(checks), checks };
}

/** The named services of `cluster`, in chunks of the most DescribeServices takes. */
export async function describeServices(
  ecs: ECSClient,
  cluster: string,
  names: readonly string[],
): Promise<DescribedServices> {
  const chunks: string[][] = [];
  for (let i = 0; i < names.length; i += DESCRIBE_SERVICES_MAX) {
    chunks.push(names.slice(i, i + DESCRIBE_SERVICES_MAX));
  }
  const outputs = await Promise.all(
    chunks.map((chunk) => ecs.send(new DescribeServicesCommand({ cluster, services: chunk }))),
  );
  return {
    services: outputs.flatMap((o) => o.services ?? []),
    failures: outputs.flatMap((o) => o.failures ?? []),
  };
}

export async function describeTargetHealth(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
): Promise<TargetHealthDescription[]> {
  const output = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return output.TargetHealthDescriptions ?? [];
}

async function getMetrics(
  cloudwatch: CloudWatchClient,
  config: CheckTarget,
  window: MetricWindow,
): Promise<MetricDataResult[]> {
  const output = await cloudwatch.send(
    new GetMetricDataCommand({
      MetricDataQueries: metricQueries(config.loadBalancerFullName, config.targetGroups, window),
      StartTime: window.start,
      EndTime: window.end,
      ScanBy: 'TimestampDescending',
    }),
  );
  return output.MetricDataResults ?? [];
}

/**
 * The newest run started within the lookback, read from the raw item: listBatchRuns' records
 * leave out the per-stock counts (successful, failed) the batch task adds.
 */
async function latestBatchRun(
  ddb: DynamoDBDocumentClient,
  config: CheckTarget,
  now: Date,
): Promise<BatchRunRecord | undefined> {
  const since = new Date(now.getTime() - config.thresholds.batchLookbackHours * 3_600_000);
  const output = await ddb.send(
    new QueryCommand({
      TableName: config.opsTableName,
      // Sort keys are <startedAt ISO>#<execution name>, so they sort by start time.
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: { ':pk': BATCH_RUN_PK, ':since': since.toISOString() },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const [item] = output.Items ?? [];
  return item === undefined ? undefined : parseBatchRunRecord(item);
}
