/**
 * The runbook's Morning Health Check, automated: ECS services, target health, error rate, p95
 * latency and (morning only) the latest batch run.
 *
 * Round trips are constant whatever the number of services and target groups: one round of
 * reads in parallel (runHealthCheck, core/health/run.ts, which the ops CLI runs too), then at
 * most one SNS Publish, here.
 */

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Outcome, settle } from '../../core/health/checks';
import type { HealthCheckConfig, Severity } from '../../core/health/config';
import { formatReport, type HealthReport, reportSeverity, reportSubject } from '../../core/health/report';
import type { CheckClients } from '../../core/health/run';
import {
  clearLightAlert,
  decideLight,
  type LightAlert,
  type LightDecision,
  notifyPreface,
  readLightAlert,
  recordLightAlert,
} from './alerting';

export {
  type CheckClients,
  type CheckTarget,
  METRIC_WINDOWS,
  type RunOptions,
  runHealthCheck,
} from '../../core/health/run';

/** Every client of the health check and its report. */
export interface HealthCheckClients extends CheckClients {
  readonly sns: SNSClient;
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
  preface?: string,
): Promise<PublishedReport | undefined> {
  const severity = reportSeverity(report);
  if (severity === undefined) return undefined;
  const message = formatReport(report);
  const body = preface === undefined ? message : `${preface}\n\n${message}`;
  return publish(sns, config, severity, reportSubject(report, config.environment), body);
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
): Promise<PublishedReport> {
  const message = [
    `Recovered: the problem reported since ${alert.since} (${alert.problem}, ${alert.severity}) has cleared.`,
    '',
    formatReport(report),
  ].join('\n');
  return publish(sns, config, alert.severity, `FA AI health: RECOVERED [${config.environment}]`, message);
}

async function publish(
  sns: SNSClient,
  config: HealthCheckConfig,
  severity: Severity,
  subject: string,
  message: string,
): Promise<PublishedReport> {
  const topicArn = config.topicArns[severity];
  const output = await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }),
  );
  return { severity, topicArn, messageId: output.MessageId };
}

/** The stored light alert, settled: a light run reads it alongside its checks. */
export function readLightAlertOutcome(
  ddb: DynamoDBDocumentClient,
  config: HealthCheckConfig,
): Promise<Outcome<LightAlert | undefined>> {
  return settle(readLightAlert(ddb, config.opsTableName));
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
        notifyPreface(decision, config.lightRenotifyMinutes),
      );
      write = () => recordLightAlert(clients.ddb, table, decision, now);
      break;
    case 'recover':
      published = await publishRecovery(clients.sns, config, report, decision.alert);
      write = () => clearLightAlert(clients.ddb, table);
      break;
  }
  const state = await settle(write());
  return { ...base, published, ...(state.ok ? {} : { stateError: state.error }) };
}
