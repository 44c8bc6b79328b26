import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lambdaClientFactory } from '../../core/aws-clients';
import { InvalidInputError } from '../../core/errors';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import { ShiftInProgressError, type TrafficFunctionConfig, trafficConfigFromEnv } from '../../core/traffic';
import { type LambdaDeps, lambdaEntryPoint, observeInvocation } from '../shared/handler';
import { createObservability, type Metrics, MetricUnit } from '../shared/observability';
import {
  type BeginResult,
  type CheckAlarmsResult,
  parseShiftEvent,
  runShiftAction,
  type ShiftActionResult,
  type ShiftClients,
} from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<ShiftClients>;

const defaultObservability = createObservability('traffic-shift');

/**
 * Runs one task of the shift state machine: `{ "action": "begin" | "checkAlarms" |
 * "setWeights" | "rollback" | "finish" | "abort", ... }` (see logic.ts for each contract).
 * Errors propagate with their class name as the Step Functions error (ShiftInProgressError,
 * AlarmNotFoundError, ShiftNotActiveError, WeightsPartiallyWrittenError, InvalidInputError ...).
 *
 * Metrics: TrafficShiftStarted, TrafficShiftNoop, TrafficGateFiring, TrafficWeightsSet,
 * TrafficShiftRolledBack, TrafficShiftCompleted, TrafficShiftAborted, TrafficShiftRefused
 * (a concurrent shift), TrafficShiftTaskFailed.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<ShiftActionResult> {
  const observability = deps.observability ?? defaultObservability;
  const { logger, metrics } = observability;
  return observeInvocation(
    observability,
    {
      failure: (error) =>
        error instanceof ShiftInProgressError
          ? {
              metrics: ['TrafficShiftRefused'],
              level: 'warn',
              message: 'Shift refused: another shift is in progress',
              fields: { error: error.message },
            }
          : {
              metrics: ['TrafficShiftTaskFailed'],
              message: 'Traffic shift task failed',
              fields: { error, invalidInput: error instanceof InvalidInputError },
            },
      keys: ['action', 'executionArn'],
    },
    async () => {
      const parsed = parseShiftEvent(event);
      logger.appendKeys({
        action: parsed.action,
        executionArn: 'executionArn' in parsed ? parsed.executionArn : undefined,
      });
      const config: TrafficFunctionConfig = trafficConfigFromEnv(deps.env);
      const result = await runShiftAction(deps.clients, config, parsed, {
        now: deps.now,
        logger,
        // A rollback is recorded and read back (core/automation).
        automation: parsed.action === 'rollback' ? config.automation : undefined,
      });
      recordOutcome(metrics, parsed.action, result);
      return result;
    },
  );
}

function recordOutcome(metrics: Metrics, action: string, result: ShiftActionResult): void {
  switch (action) {
    case 'begin':
      metrics.addMetric(
        (result as BeginResult).noop ? 'TrafficShiftNoop' : 'TrafficShiftStarted',
        MetricUnit.Count,
        1,
      );
      return;
    case 'checkAlarms':
      if (!(result as CheckAlarmsResult).healthy) metrics.addMetric('TrafficGateFiring', MetricUnit.Count, 1);
      return;
    case 'setWeights':
      metrics.addMetric('TrafficWeightsSet', MetricUnit.Count, 1);
      return;
    case 'rollback':
      metrics.addMetric('TrafficShiftRolledBack', MetricUnit.Count, 1);
      return;
    case 'finish':
      metrics.addMetric('TrafficShiftCompleted', MetricUnit.Count, 1);
      return;
    case 'abort':
      metrics.addMetric('TrafficShiftAborted', MetricUnit.Count, 1);
      return;
  }
}

// Module scope: reused across warm invocations. Retries are the SDK's (core/aws-clients.ts),
// each attempt bounded by its timeouts, each retry logged.
const aws = lambdaClientFactory({ logger: defaultObservability.logger });
const clients: ShiftClients = {
  elbv2: aws.client(ElasticLoadBalancingV2Client),
  ssm: aws.client(SSMClient),
  cloudwatch: aws.client(CloudWatchClient),
  sns: aws.client(SNSClient),
  scheduler: aws.client(SchedulerClient),
  ddb: DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG),
};

/** The Lambda entry point (Step Functions task, synchronous). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event) =>
  handleEvent(event, { clients, env: process.env }),
);
