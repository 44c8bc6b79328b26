import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { InvalidInputError } from '../../core/errors';
import { ShiftInProgressError, type TrafficFunctionConfig, trafficConfigFromEnv } from '../../core/traffic';
import { automationClients } from '../shared/automation-clients';
import { defineLambda, type LambdaDeps } from '../shared/handler';
import { MetricUnit } from '../shared/observability';
import {
  type BeginResult,
  type CheckAlarmsResult,
  parseShiftEvent,
  runShiftAction,
  type ShiftActionResult,
  type ShiftClients,
  type ShiftEvent,
} from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<ShiftClients>;

const lambda = defineLambda({
  service: 'traffic-shift',
  clients: (aws): ShiftClients => ({
    ...automationClients(aws),
    elbv2: aws.client(ElasticLoadBalancingV2Client),
    ssm: aws.client(SSMClient),
    cloudwatch: aws.client(CloudWatchClient),
  }),
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
  run: async (event, deps: HandlerDeps, { logger, metrics }): Promise<ShiftActionResult> => {
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
    const metric = ACTION_METRICS[parsed.action](result);
    if (metric !== undefined) metrics.addMetric(metric, MetricUnit.Count, 1);
    return result;
  },
});

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
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (Step Functions task, synchronous). */
export const handler = lambda.handler;

/** What each action counts once done, from its result: a healthy alarm check counts nothing. */
const ACTION_METRICS: {
  readonly [A in ShiftEvent['action']]: (result: ShiftActionResult) => string | undefined;
} = {
  begin: (result) => ((result as BeginResult).noop ? 'TrafficShiftNoop' : 'TrafficShiftStarted'),
  checkAlarms: (result) => ((result as CheckAlarmsResult).healthy ? undefined : 'TrafficGateFiring'),
  setWeights: () => 'TrafficWeightsSet',
  rollback: () => 'TrafficShiftRolledBack',
  finish: () => 'TrafficShiftCompleted',
  abort: () => 'TrafficShiftAborted',
};
