import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lambdaClientFactory } from '../../core/aws-clients';
import { InvalidInputError } from '../../core/errors';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import { type LambdaDeps, lambdaEntryPoint, observeInvocation } from '../shared/handler';
import { createObservability, MetricUnit } from '../shared/observability';
import { configFromEnv } from './config';
import { type AutoRollbackResult, handleAlarmEvent, parseAlarmEvent, type RollbackClients } from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<RollbackClients>;

const defaultObservability = createObservability('traffic-rollback');

/**
 * Handles an EventBridge "CloudWatch Alarm State Change" event of an alarm whose catalogue
 * response is traffic-rollback (the P0 alarm). Throws
 * InvalidInputError for anything else (nothing done) and rethrows a failed weights write (so
 * Lambda's asynchronous retries and the dead-letter queue see it; the rollback is idempotent).
 *
 * A duplicate delivery of a transition already handled pages nobody (unless its idempotent
 * rollback still changed the weights); an event older than ROLLBACK_MAX_EVENT_AGE_MINUTES
 * changes nothing and pages that it did not act.
 *
 * Metrics: TrafficRollbackIgnored, TrafficRollbackUnknownAlarm, TrafficRollbackDuplicate, TrafficRollbackStale,
 * TrafficRolledBack, TrafficRollbackSkipped (dimension
 * `outcome`: no-shift-recorded, already-rolled-back, cooldown, outside-window),
 * TrafficRollbackProblems, TrafficRollbackFailed.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<AutoRollbackResult> {
  const observability = deps.observability ?? defaultObservability;
  const { logger, metrics } = observability;
  return observeInvocation(
    observability,
    {
      failure: (error) => ({
        metrics: ['TrafficRollbackFailed'],
        message: 'Automatic traffic rollback failed',
        fields: { error, invalidInput: error instanceof InvalidInputError },
      }),
      keys: ['eventId', 'alarmName'],
    },
    async () => {
      const parsed = parseAlarmEvent(event);
      logger.appendKeys({ eventId: parsed.id, alarmName: parsed.detail.alarmName });
      const config = configFromEnv(deps.env);
      const result = await handleAlarmEvent(deps.clients, config, parsed, {
        now: deps.now,
        logger,
      });
      if (result.outcome === 'ignored') {
        metrics.addMetric('TrafficRollbackIgnored', MetricUnit.Count, 1);
      } else if (result.outcome === 'unknown-alarm') {
        metrics.addMetric('TrafficRollbackUnknownAlarm', MetricUnit.Count, 1);
      } else if (result.outcome === 'duplicate' && !result.rollback.changed) {
        metrics.addMetric('TrafficRollbackDuplicate', MetricUnit.Count, 1);
      } else if (result.outcome === 'stale') {
        metrics.addMetric('TrafficRollbackStale', MetricUnit.Count, 1);
      } else if (result.outcome === 'held') {
        const single = metrics.singleMetric();
        single.addDimension('held', result.held);
        single.addMetric('TrafficRollbackHeld', MetricUnit.Count, 1);
      } else if (result.rollback.changed) {
        metrics.addMetric('TrafficRolledBack', MetricUnit.Count, 1);
        if (result.rollback.problems.length > 0)
          metrics.addMetric('TrafficRollbackProblems', MetricUnit.Count, 1);
      } else {
        // Its own document: the outcome dimension must not spread to the invocation's other metrics.
        const single = metrics.singleMetric();
        single.addDimension('outcome', result.rollback.outcome);
        single.addMetric('TrafficRollbackSkipped', MetricUnit.Count, 1);
      }
      return result;
    },
  );
}

// Module scope: reused across warm invocations. Retries are the SDK's (core/aws-clients.ts),
// each attempt bounded by its timeouts, each retry logged.
const aws = lambdaClientFactory({ logger: defaultObservability.logger });
const clients: RollbackClients = {
  elbv2: aws.client(ElasticLoadBalancingV2Client),
  ssm: aws.client(SSMClient),
  sfn: aws.client(SFNClient),
  sns: aws.client(SNSClient),
  scheduler: aws.client(SchedulerClient),
  ddb: DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG),
};

/** The Lambda entry point (EventBridge, asynchronous invocation). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event) =>
  handleEvent(event, { clients, env: process.env }),
);
