import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { lambdaClientFactory } from '../../core/aws-clients';
import { parseFunctionEnv } from '../../core/contracts/env';
import { schema as envSchema } from '../../core/contracts/spend-guard';
import { describeIssues, InvalidInputError } from '../../core/errors';
import { KillSwitchIncompleteError } from '../../core/kill-switch/types';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import {
  LLM_COMPONENTS,
  SPEND_GUARD_METRICS,
  SPEND_GUARD_SERVICE,
  spendGuardDimensions,
} from '../../core/spend/metric';
import { configPerEnv, type LambdaDeps, lambdaEntryPoint, observeInvocation } from '../shared/handler';
import { createObservability, type Metrics, MetricUnit } from '../shared/observability';
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

const defaultObservability = createObservability(SPEND_GUARD_SERVICE);

const configOf = configPerEnv(
  (env: HandlerDeps['env']): SpendGuardConfig => parseFunctionEnv(envSchema, env),
);

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
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<SpendGuardResult> {
  const observability = deps.observability ?? defaultObservability;
  const { logger, metrics } = observability;
  return observeInvocation(
    observability,
    {
      failure: (error) => ({
        metrics: [
          ...(error instanceof KillSwitchIncompleteError ? ['KillSwitchIncomplete'] : []),
          'SpendGuardFailed',
        ],
        message: 'Spend guard failed',
      }),
    },
    async () => {
      const input = inputSchema.safeParse(event);
      if (!input.success) {
        throw new InvalidInputError(
          `Malformed schedule input, NO action taken: expected {"scheduledTime": "<ISO time>"}: ${describeIssues(input.error.issues)}`,
        );
      }
      const config = configOf(deps.env);
      metrics.addDimension('Environment', config.environment);
      const scheduledTime = new Date(input.data.scheduledTime);
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
  );
}

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
    // Its own document: the Component dimension must not spread to the invocation's other metrics.
    const single = metrics.singleMetric();
    for (const [name, value] of Object.entries(spendGuardDimensions(environment, { Component: component }))) {
      // `service` is Powertools' own default dimension.
      if (name !== 'service') single.addDimension(name, value);
    }
    single.addMetric(SPEND_GUARD_METRICS.llmCostSilent, MetricUnit.Count, silent ? 1 : 0);
  }
}

// Module scope: reused across warm invocations. Retries are the SDK's (core/aws-clients.ts),
// each attempt bounded by its timeouts, each retry logged.
const aws = lambdaClientFactory({ logger: defaultObservability.logger, requestTimeout: 5_000 });
const clients: SpendGuardClients = {
  scheduler: aws.client(SchedulerClient),
  sfn: aws.client(SFNClient),
  ecs: aws.client(ECSClient),
  ssm: aws.client(SSMClient),
  sns: aws.client(SNSClient),
  ddb: DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG),
  cloudwatch: aws.client(CloudWatchClient),
  // Budgets is served from us-east-1 whatever the function's region.
  budgets: aws.client(BudgetsClient, { region: 'us-east-1' }),
};

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event) =>
  handleEvent(event, { clients, env: process.env }),
);
