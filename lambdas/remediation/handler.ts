import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lambdaClientFactory } from '../../core/aws-clients';
import { InvalidInputError } from '../../core/errors';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import { configPerEnv, type LambdaDeps, lambdaEntryPoint, observeInvocation } from '../shared/handler';
import { createObservability, type Metrics, MetricUnit } from '../shared/observability';
import { configFromEnv, type RemediationEnv } from './config';
import {
  handleAlarmEvent,
  type RemediationClients,
  RemediationFailedError,
  RemediationReportError,
  type RemediationResult,
} from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export interface HandlerDeps extends LambdaDeps<RemediationClients, RemediationEnv> {
  /** How long the invocation may still run (the claim's lease). @default DEFAULT_LEASE_MS */
  readonly leaseMs?: number;
}

const defaultObservability = createObservability('remediation');

const configFor = configPerEnv(configFromEnv);

/**
 * Handles an EventBridge "CloudWatch Alarm State Change" event (see handleAlarmEvent). Throws
 * InvalidInputError for anything else or an invalid configuration (nothing done), and rethrows
 * RemediationFailedError / RemediationReportError so that Lambda's asynchronous retries and
 * the dead-letter queue see them.
 *
 * Metrics: RemediationIgnored, RemediationNoAction, RemediationUnknownAlarm (an alarm the catalogue
 * lacks: nothing done, P1 told), RemediationDuplicate, RemediationPerformed,
 * RemediationDryRun, RemediationSkipped (dimension `reason`: disabled, idle-colour,
 * no-live-colour, at-max, rate-limited, shift-in-progress), RemediationFailed, RemediationReportFailed,
 * InvalidRemediationEvent.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<RemediationResult> {
  const observability = deps.observability ?? defaultObservability;
  const { logger, metrics } = observability;
  return observeInvocation(
    observability,
    {
      failure: (error) => ({
        metrics: [
          error instanceof InvalidInputError
            ? 'InvalidRemediationEvent'
            : error instanceof RemediationReportError
              ? 'RemediationReportFailed'
              : 'RemediationFailed',
        ],
        message: 'Remediation failed',
        fields: { error, remediationFailed: error instanceof RemediationFailedError },
      }),
    },
    async () => {
      const config = configFor(deps.env);
      const result = await handleAlarmEvent(deps.clients, config, event, {
        now: deps.now,
        leaseMs: deps.leaseMs,
        logger,
      });
      recordOutcome(metrics, result);
      return result;
    },
  );
}

function recordOutcome(metrics: Metrics, result: RemediationResult): void {
  switch (result.outcome) {
    case 'ignored':
      metrics.addMetric('RemediationIgnored', MetricUnit.Count, 1);
      return;
    case 'no-action':
      metrics.addMetric('RemediationNoAction', MetricUnit.Count, 1);
      return;
    case 'unknown-alarm':
      metrics.addMetric(
        result.notified ? 'RemediationUnknownAlarm' : 'RemediationDuplicate',
        MetricUnit.Count,
        1,
      );
      return;
    case 'duplicate':
      metrics.addMetric('RemediationDuplicate', MetricUnit.Count, 1);
      return;
    case 'remediated':
      metrics.addMetric('RemediationPerformed', MetricUnit.Count, 1);
      return;
    case 'dry-run':
      metrics.addMetric('RemediationDryRun', MetricUnit.Count, 1);
      return;
    case 'skipped': {
      // Its own document: the reason dimension must not spread to the invocation's other metrics.
      const single = metrics.singleMetric();
      single.addDimension('reason', result.skip ?? 'unknown');
      single.addMetric('RemediationSkipped', MetricUnit.Count, 1);
      return;
    }
  }
}

// Module scope: reused across warm invocations. Retries are the SDK's (core/aws-clients.ts),
// each attempt bounded by its timeouts, each retry logged.
const aws = lambdaClientFactory({ logger: defaultObservability.logger });
const clients: RemediationClients = {
  ecs: aws.client(ECSClient),
  ssm: aws.client(SSMClient),
  sns: aws.client(SNSClient),
  scheduler: aws.client(SchedulerClient),
  ddb: DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG),
};

/** The Lambda entry point (EventBridge, asynchronous invocation). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event, context) =>
  handleEvent(event, {
    clients,
    env: process.env,
    // A claim outlives the invocation by a little: a retry after a crash or timeout acts again.
    leaseMs: context ? context.getRemainingTimeInMillis() + 5_000 : undefined,
  }),
);
