/**
 * The runbook's Morning Health Check, automated: ECS services, target health, error rate, p95
 * latency and (morning only) the latest batch run.
 *
 * Round trips are constant whatever the number of services and target groups: one round of
 * reads in parallel (DescribeServices in chunks of 10, DescribeTargetHealth per group, ONE
 * GetMetricData for every figure, one Query of the ops table), then at most one SNS Publish.
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
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  type BatchRunRecord,
  type DescribedServices,
  evaluateBatch,
  evaluateServices,
  evaluateTargets,
  type Outcome,
  parseBatchRunRecord,
  settle,
} from '../../core/health/checks';
import type { HealthCheckConfig, Severity } from '../../core/health/config';
import {
  evaluateErrorRate,
  evaluateLatency,
  type MetricWindow,
  metricQueries,
  metricWindow,
} from '../../core/health/metrics';
import {
  type CheckKind,
  type CheckResult,
  formatReport,
  type HealthReport,
  overallStatus,
  reportSeverity,
  reportSubject,
} from '../../core/health/report';
import { BATCH_RUN_PK } from '../../core/ops-table/items';
import { type RetryOptions, withRetry } from '../../core/retry';
import {
  clearLightAlert,
  decideLight,
  type LightAlert,
  type LightDecision,
  notifyPreface,
  readLightAlert,
  recordLightAlert,
} from './alerting';

/** Every client of the health check and its report. */
export interface HealthCheckClients {
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  readonly sns: SNSClient;
  /** A document client of the ops table. */
  readonly ddb: DynamoDBDocumentClient;
}

/** The clients {@link runHealthCheck} reads with (it publishes nothing). */
export type CheckClients = Pick<HealthCheckClients, 'ecs' | 'elbv2' | 'cloudwatch' | 'ddb'>;

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
  /** Retry policy of every AWS call; tests inject a no-op sleep. */
  readonly retry?: RetryOptions;
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
  const { retry, kind } = options;
  const { minutes, label } = METRIC_WINDOWS[kind];
  const window = metricWindow(now, minutes, label);

  const [services, targets, metrics, batch] = await Promise.all([
    settle(describeServices(clients.ecs, config, retry)),
    Promise.all(
      config.targetGroups.map(async (ref) => ({
        ref,
        outcome: await settle(describeTargetHealth(clients.elbv2, ref.targetGroupArn, retry)),
      })),
    ),
    settle(getMetrics(clients.cloudwatch, config, window, retry)),
    kind === 'morning' ? settle(latestBatchRun(clients.ddb, config, now, retry)) : undefined,
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

async function describeServices(
  ecs: ECSClient,
  config: CheckTarget,
  retry: RetryOptions | undefined,
): Promise<DescribedServices> {
  const names = config.services.map((s) => s.serviceName);
  const chunks: string[][] = [];
  for (let i = 0; i < names.length; i += DESCRIBE_SERVICES_MAX) {
    chunks.push(names.slice(i, i + DESCRIBE_SERVICES_MAX));
  }
  const outputs = await Promise.all(
    chunks.map((chunk) =>
      withRetry(
        () => ecs.send(new DescribeServicesCommand({ cluster: config.ecsCluster, services: chunk })),
        retry,
      ),
    ),
  );
  return {
    services: outputs.flatMap((o) => o.services ?? []),
    failures: outputs.flatMap((o) => o.failures ?? []),
  };
}

async function describeTargetHealth(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  retry: RetryOptions | undefined,
): Promise<TargetHealthDescription[]> {
  const output = await withRetry(
    () => elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    retry,
  );
  return output.TargetHealthDescriptions ?? [];
}

async function getMetrics(
  cloudwatch: CloudWatchClient,
  config: CheckTarget,
  window: MetricWindow,
  retry: RetryOptions | undefined,
): Promise<MetricDataResult[]> {
  const output = await withRetry(
    () =>
      cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: metricQueries(config.loadBalancerFullName, config.targetGroups, window),
          StartTime: window.start,
          EndTime: window.end,
          ScanBy: 'TimestampDescending',
        }),
      ),
    retry,
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
  retry: RetryOptions | undefined,
): Promise<BatchRunRecord | undefined> {
  const since = new Date(now.getTime() - config.thresholds.batchLookbackHours * 3_600_000);
  const output = await withRetry(
    () =>
      ddb.send(
        new QueryCommand({
          TableName: config.opsTableName,
          // Sort keys are <startedAt ISO>#<execution name>, so they sort by start time.
          KeyConditionExpression: 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: { ':pk': BATCH_RUN_PK, ':since': since.toISOString() },
          ScanIndexForward: false,
          Limit: 1,
        }),
      ),
    retry,
  );
  const [item] = output.Items ?? [];
  return item === undefined ? undefined : parseBatchRunRecord(item);
}

/** Where a report went. */
export interface PublishedReport {
  readonly severity: Severity;
  readonly topicArn: string;
  readonly messageId: string | undefined;
}

/**
 * Publishes `report` to the topic of {@link reportSeverity} (nothing for a healthy light
 * check) and returns where it went; `preface` is a first line saying why it goes out now.
 * Throws when SNS still refuses after the retries.
 */
export async function publishReport(
  sns: SNSClient,
  config: HealthCheckConfig,
  report: HealthReport,
  retry?: RetryOptions,
  preface?: string,
): Promise<PublishedReport | undefined> {
  const severity = reportSeverity(report);
  if (severity === undefined) return undefined;
  const message = formatReport(report);
  const body = preface === undefined ? message : `${preface}\n\n${message}`;
  return publish(sns, config, severity, reportSubject(report, config.environment), body, retry);
}

/**
 * Tells the topic that paged for `alert` that a light check finds the system healthy again.
 * Throws when SNS still refuses after the retries.
 */
export async function publishRecovery(
  sns: SNSClient,
  config: HealthCheckConfig,
  report: HealthReport,
  alert: LightAlert,
  retry?: RetryOptions,
): Promise<PublishedReport> {
  const message = [
    `Recovered: the problem reported since ${alert.since} (${alert.problem}, ${alert.severity}) has cleared.`,
    '',
    formatReport(report),
  ].join('\n');
  return publish(
    sns,
    config,
    alert.severity,
    `FA AI health: RECOVERED [${config.environment}]`,
    message,
    retry,
  );
}

async function publish(
  sns: SNSClient,
  config: HealthCheckConfig,
  severity: Severity,
  subject: string,
  message: string,
  retry?: RetryOptions,
): Promise<PublishedReport> {
  const topicArn = config.topicArns[severity];
  const output = await withRetry(
    () => sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message })),
    retry,
  );
  return { severity, topicArn, messageId: output.MessageId };
}

/** The stored light alert, settled: a light run reads it alongside its checks. */
export function readLightAlertOutcome(
  ddb: DynamoDBDocumentClient,
  config: HealthCheckConfig,
  retry?: RetryOptions,
): Promise<Outcome<LightAlert | undefined>> {
  return settle(readLightAlert(ddb, config.opsTableName, retry));
}

/** What a light run did with its report. */
export interface LightDelivery {
  readonly decision: LightDecision;
  readonly published?: PublishedReport;
  /** Why the alert item could not be read (the report then went out as new). */
  readonly readError?: string;
  /** Why the alert item could not be written or cleared after the notice went out. */
  readonly stateError?: string;
}

/**
 * Sends a light check's report as {@link decideLight} says: the report (with why it goes now),
 * a RECOVERED notice, or nothing. The alert item is written only after the notice went out, so
 * a failed publish (which throws) never records a page nobody got; a failed write is returned,
 * not thrown: the page went out, and the next run at worst pages again.
 */
export async function deliverLightReport(
  clients: Pick<HealthCheckClients, 'sns' | 'ddb'>,
  config: HealthCheckConfig,
  report: HealthReport,
  stored: Outcome<LightAlert | undefined>,
  now: Date,
  retry?: RetryOptions,
): Promise<LightDelivery> {
  const decision = decideLight(report, stored, now, config.lightRenotifyMinutes);
  const base = { decision, ...(stored.ok ? {} : { readError: stored.error }) };
  const table = config.opsTableName;
  let published: PublishedReport | undefined;
  let write: () => Promise<void>;
  switch (decision.action) {
    case 'hold':
    case 'silent':
      return base;
    case 'notify':
      published = await publishReport(
        clients.sns,
        config,
        report,
        retry,
        notifyPreface(decision, config.lightRenotifyMinutes),
      );
      write = () => recordLightAlert(clients.ddb, table, decision, now, retry);
      break;
    case 'recover':
      published = await publishRecovery(clients.sns, config, report, decision.alert, retry);
      write = () => clearLightAlert(clients.ddb, table, retry);
      break;
  }
  const state = await settle(write());
  return { ...base, published, ...(state.ok ? {} : { stateError: state.error }) };
}
