import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { InvalidInputError } from '../../core/errors';
import { automationClients } from '../shared/automation-clients';
import { defineLambda, type LambdaDeps } from '../shared/handler';
import { countWithDimensions, MetricUnit } from '../shared/observability';
import { configFromEnv } from './config';
import { type AutoRollbackResult, handleAlarmEvent, parseAlarmEvent, type RollbackClients } from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<RollbackClients>;

const lambda = defineLambda({
  service: 'traffic-rollback',
  clients: (aws): RollbackClients => ({
    ...automationClients(aws),
    elbv2: aws.client(ElasticLoadBalancingV2Client),
    ssm: aws.client(SSMClient),
    sfn: aws.client(SFNClient),
  }),
  failure: (error) => ({
    metrics: ['TrafficRollbackFailed'],
    message: 'Automatic traffic rollback failed',
    fields: { error, invalidInput: error instanceof InvalidInputError },
  }),
  keys: ['eventId', 'alarmName'],
  run: async (event, deps: HandlerDeps, { logger, metrics }): Promise<AutoRollbackResult> => {
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
      countWithDimensions(metrics, 'TrafficRollbackHeld', { held: result.held });
    } else if (result.rollback.changed) {
      metrics.addMetric('TrafficRolledBack', MetricUnit.Count, 1);
      if (result.rollback.problems.length > 0)
        metrics.addMetric('TrafficRollbackProblems', MetricUnit.Count, 1);
    } else {
      countWithDimensions(metrics, 'TrafficRollbackSkipped', { outcome: result.rollback.outcome });
    }
    return result;
  },
});

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
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (EventBridge, asynchronous invocation). */
export const handler = lambda.handler;
