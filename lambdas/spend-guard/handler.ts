import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseFunctionEnv } from '../../core/contracts/env';
import { schema as envSchema } from '../../core/contracts/spend-guard';
import { KillSwitchIncompleteError } from '../../core/kill-switch/types';
import {
  LLM_COMPONENTS,
  SPEND_GUARD_METRICS,
  SPEND_GUARD_SERVICE,
  spendGuardDimensions,
} from '../../core/spend/metric';
import { configPerEnv, defineLambda, type LambdaDeps } from '../shared/handler';
import { killSwitchClients } from '../shared/kill-switch-clients';
import { countWithDimensions, type Metrics, MetricUnit } from '../shared/observability';
import { runSpendGuard, type SpendGuardClients, type SpendGuardConfig, type SpendGuardResult } from './logic';

/**
 * The EventBridge Scheduler input: `{"scheduledTime": "<aws.scheduler.scheduled-time>",
 * "executionId": "<aws.scheduler.execution-id>"}`, the context attributes Scheduler fills in.
 */
const inputSchema = z.object({
  scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }),
  executionId: z.string().min(1).optional(),
});

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export interface HandlerDeps extends LambdaDeps<SpendGuardClients> {
  /** @default randomUUID */
  readonly newId?: () => string;
}

const configOf = configPerEnv(
  (env: HandlerDeps['env']): SpendGuardConfig => parseFunctionEnv(envSchema, env),
);

const lambda = defineLambda({
  service: SPEND_GUARD_SERVICE,
  requestTimeout: 5_000,
  event: {
    schema: inputSchema,
    invalid: 'Malformed schedule input, NO action taken: expected {"scheduledTime": "<ISO time>"}',
  },
  clients: (aws): SpendGuardClients => ({
    ...killSwitchClients(aws),
    cloudwatch: aws.client(CloudWatchClient),
    // Budgets is served from us-east-1 whatever the function's region.
    budgets: aws.client(BudgetsClient, { region: 'us-east-1' }),
  }),
  failure: (error) => ({
    metrics: [
      ...(error instanceof KillSwitchIncompleteError ? ['KillSwitchIncomplete'] : []),
      'SpendGuardFailed',
    ],
    message: 'Spend guard failed',
  }),
  run: async (input, deps: HandlerDeps, { logger, metrics }): Promise<SpendGuardResult> => {
    const config = configOf(deps.env);
    metrics.addDimension('Environment', config.environment);
    const scheduledTime = new Date(input.scheduledTime);
    const now = deps.now ?? (() => new Date());
    const lateMs = now().getTime() - scheduledTime.getTime();
    if (lateMs > 15 * 60_000) {
      // Lambda retries and throttled invocations arrive late: the spend is evaluated as it is now.
      logger.info('Late delivery: evaluating the spend as it is now', { scheduledTime, lateMs });
    }
    // Only when late: a custom metric bills every hour it has data (README: Cost).
    if (lateMs >= 60_000)
      metrics.addMetric('LateDeliverySeconds', MetricUnit.Seconds, Math.round(lateMs / 1000));
    const result = await runSpendGuard(deps.clients, config, {
      now,
      newId: deps.newId,
      logger,
      scheduledTime,
    });
    observe(metrics, result, config.environment);
    // Only now: a guard whose run cannot finish must look as dead as one that stopped.
    metrics.addMetric(SPEND_GUARD_METRICS.heartbeat, MetricUnit.Count, 1);
    return result;
  },
});

/**
 * Runs the spend guard once (logic.ts) and returns what it found and did. Throws
 * InvalidInputError for malformed input or configuration (before any AWS call), and rethrows the
 * guard's failures (SpendGuardIncompleteError, after they were reported) so that Lambda retries
 * the run: every action is recorded per threshold, so a retry redoes only what failed. A late or
 * repeated delivery is an ordinary run: it evaluates the spend as it is now.
 *
 * Metrics (dimensions service, Environment): Heartbeat (1 once a run finished; its absence
 * alarms) and LlmCostSilent (1/0, dimension Component) every run; SpendUnknown, SpendActions,
 * ClockSkewSeconds, LateDeliverySeconds, KillSwitchIncomplete and SpendGuardFailed when they occur.
 */
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambda.handler;

/**
 * The run's metrics. Heartbeat and LlmCostSilent go out every run (their alarms need them); the
 * others only when they have something to say, since a custom metric bills every hour it has data.
 */
function observe(metrics: Metrics, result: SpendGuardResult, environment: string): void {
  if (result.problems.length > 0) metrics.addMetric(SPEND_GUARD_METRICS.spendUnknown, MetricUnit.Count, 1);
  if (result.clockSkewSeconds > 0)
    metrics.addMetric('ClockSkewSeconds', MetricUnit.Seconds, result.clockSkewSeconds);
  const done = result.actions.filter((a) => a.outcome === 'done').length;
  if (done > 0) metrics.addMetric('SpendActions', MetricUnit.Count, done);
  for (const component of LLM_COMPONENTS) {
    const silent = result.silence[component];
    // Not known: no datapoint (the alarm treats missing data as not breaching; the heartbeat covers a dead guard).
    if (typeof silent !== 'boolean') continue;
    const dimensions = Object.entries(spendGuardDimensions(environment, { Component: component }));
    // `service` is Powertools' own default dimension.
    countWithDimensions(
      metrics,
      SPEND_GUARD_METRICS.llmCostSilent,
      Object.fromEntries(dimensions.filter(([name]) => name !== 'service')),
      silent ? 1 : 0,
    );
  }
}
