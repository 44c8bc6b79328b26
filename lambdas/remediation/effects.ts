/**
 * The remediation's reads and writes of AWS: the event's claim and final mark, the services'
 * description and update. Each takes its client and retry policy; logic.ts decides when.
 *
 * Items of the ops table (string keys `pk`/`sk`, TTL attribute `expiresAt`, epoch seconds):
 * - `REMEDIATION_EVENT` / `<event id>`: `{ status: 'claimed' | 'done' | 'failed', alarm,
 *   action, claimedAt, leaseUntil (epoch ms), finishedAt?, outcome? }`, one day. A put claims
 *   the event when there is no marker, the last attempt failed, or its claimant's lease ran
 *   out (a crashed invocation): Lambda's retry of a failed invocation acts again, a duplicate
 *   delivery does not.
 * - `REMEDIATION_RATE` / `<action>#<YYYY-MM-DDTHH>` (UTC hour): `{ count, holders }` (the event
 *   ids holding a slot), two hours; see rate-limit.ts.
 * - audit entries (pk `AUDIT`, see ops-table.ts) of source 'remediation'.
 */

import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  type ECSClient,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { publishNotice } from '../../core/notice';
import {
  type AuditEntry,
  type AuditOutcome,
  fromAttributeValues,
  isConditionFailure,
} from '../../core/ops-table/items';
import { REMEDIATION_EVENT_PK, REMEDIATION_RATE_PK } from '../../core/ops-table/keys';
import type { RemediationAction, RemediationConfig } from './config';
import type { Remediation } from './mapping';
import { formatFailure } from './messages';
import type { Claim, Ending, Incident, ServiceSnapshot } from './types';

export { REMEDIATION_EVENT_PK, REMEDIATION_RATE_PK };

/** How long a marker is kept: EventBridge redelivers and Lambda retries within hours. */
export const EVENT_MARKER_TTL_SECONDS = 86_400;
/** How long an hourly counter is kept. */
export const RATE_COUNTER_TTL_SECONDS = 7_200;
/** The lease of a claim when the invocation's remaining time is unknown. */
export const DEFAULT_LEASE_MS = 5 * 60_000;

/** The key of the idempotency marker of event `eventId`. */
export function remediationEventKey(eventId: string) {
  return { pk: REMEDIATION_EVENT_PK, sk: eventId };
}

/** The key of the counter of `action` in the UTC hour of `now`. */
export function remediationRateKey(action: RemediationAction, now: Date) {
  return { pk: REMEDIATION_RATE_PK, sk: `${action}#${now.toISOString().slice(0, 13)}` };
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** What the claim of an event records. */
export interface ClaimRequest {
  readonly eventId: string;
  readonly alarmName: string;
  readonly action: RemediationAction;
  readonly now: Date;
  readonly leaseMs: number;
}

/**
 * Claims the event: a put that lands when there is no marker, the last attempt failed, or its
 * claimant's lease ran out. A lost condition is a duplicate, with the marker's status.
 */
export async function claimEvent(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  request: ClaimRequest,
): Promise<Claim> {
  const { now } = request;
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...remediationEventKey(request.eventId),
          status: 'claimed',
          alarm: request.alarmName,
          action: request.action,
          claimedAt: now.toISOString(),
          leaseUntil: now.getTime() + request.leaseMs,
          expiresAt: epochSeconds(now) + EVENT_MARKER_TTL_SECONDS,
        },
        ConditionExpression:
          'attribute_not_exists(pk) OR #status = :failed OR (#status = :claimed AND #leaseUntil < :now)',
        ExpressionAttributeNames: { '#status': 'status', '#leaseUntil': 'leaseUntil' },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':claimed': 'claimed',
          ':now': now.getTime(),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { claimed: true };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const old = fromAttributeValues((error as { Item?: Record<string, unknown> }).Item);
    const status = old?.status;
    return { claimed: false, previousStatus: typeof status === 'string' ? status : undefined };
  }
}

/** The marker's final status and outcome. */
export function markEvent(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
  mark: { readonly status: 'done' | 'failed'; readonly outcome: string; readonly now: Date },
) {
  return ddb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: remediationEventKey(eventId),
      UpdateExpression: 'SET #status = :status, #outcome = :outcome, #finishedAt = :finishedAt',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#outcome': 'outcome',
        '#finishedAt': 'finishedAt',
      },
      ExpressionAttributeValues: {
        ':status': mark.status,
        ':outcome': mark.outcome,
        ':finishedAt': mark.now.toISOString(),
      },
    }),
  );
}

/** Both colours' services. */
export function describeServices(
  ecs: ECSClient,
  config: Pick<RemediationConfig, 'services' | 'ecsCluster'>,
): Promise<DescribeServicesCommandOutput> {
  const { services, ecsCluster } = config;
  return ecs.send(
    new DescribeServicesCommand({ cluster: ecsCluster, services: [services.blue, services.green] }),
  );
}

/** The restart (a new deployment) or the scale-out to `target`. */
export async function updateService(
  ecs: ECSClient,
  ecsCluster: string,
  decision: Extract<Remediation, { act: true }>,
  target: number | undefined,
): Promise<Service | undefined> {
  const result = await ecs.send(
    new UpdateServiceCommand(
      decision.action === 'force-new-deployment'
        ? { cluster: ecsCluster, service: decision.service, forceNewDeployment: true }
        : { cluster: ecsCluster, service: decision.service, desiredCount: target },
    ),
  );
  return result.service;
}

/** The ACTIVE service `name` of a description, or why not. */
export function findService(
  output: DescribeServicesCommandOutput | undefined,
  name: string,
): { service: Service; error?: undefined } | { service?: undefined; error: string } {
  const service = output?.services?.find((s) => s.serviceName === name || s.serviceArn?.endsWith(`/${name}`));
  if (service === undefined) {
    const failure = output?.failures?.find((f) => f.arn?.endsWith(`/${name}`));
    return { error: `service not found (${failure?.reason ?? 'not in the response'})` };
  }
  if (service.status !== 'ACTIVE') return { error: `service is ${service.status ?? 'in an unknown state'}` };
  return { service };
}

export function snapshot(service: Service): ServiceSnapshot {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  return {
    desiredCount: service.desiredCount,
    runningCount: service.runningCount,
    taskDefinition: service.taskDefinition,
    deploymentId: primary?.id,
  };
}

/** The report on the alarm's (or the escalation's) topic. */
export function publish(sns: SNSClient, topicArn: string, subject: string, message: string) {
  return publishNotice(sns, topicArn, { subject, message });
}

/** The audit entry of a remediation's ending. */
export function auditEntry(
  facts: {
    readonly incident: Incident;
    readonly ending: Ending;
    readonly summary: string;
    readonly outcome: AuditOutcome;
    readonly action: RemediationAction;
    readonly dryRun: boolean;
  },
  config: Pick<RemediationConfig, 'environment'>,
): AuditEntry {
  const { incident, ending } = facts;
  return {
    source: 'remediation',
    action: facts.action,
    actor: 'remediation-lambda',
    reason: `${incident.alarmName} entered ALARM: ${incident.stateReason}`,
    outcome: facts.outcome,
    environment: config.environment,
    details: {
      alarm: incident.alarmName,
      eventId: incident.eventId,
      severity: incident.severity,
      colour: ending.colour,
      service: ending.service,
      before: ending.before,
      after: ending.after,
      dryRun: facts.dryRun,
      skip: ending.skip,
      error: ending.failure === undefined ? undefined : formatFailure(ending.failure),
      summary: facts.summary,
    },
  };
}
