import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import { lambdaClientFactory } from '../../core/aws-clients';
import { describeIssues, InvalidInputError } from '../../core/errors';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import { type LambdaDeps, lambdaEntryPoint, observeInvocation } from '../shared/handler';
import { createObservability, type Metrics, MetricUnit } from '../shared/observability';
import { type BudgetGuardEnv, configFromEnv } from './config';
import {
  type BudgetNotificationResult,
  type HeldResult,
  handleBudgetNotification,
  type KillSwitchClients,
  KillSwitchIncompleteError,
  KillSwitchNotEngagedError,
} from './logic';
import { parseBudgetNotification } from './parse';

/** The SNS -> Lambda event; Subject is null when the publisher set none. */
const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        Sns: z.object({
          MessageId: z.string().min(1),
          Message: z.string(),
          Subject: z.string().nullish(),
          Timestamp: z.string().optional(),
          TopicArn: z.string().optional(),
        }),
      }),
    )
    .min(1),
});

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export interface HandlerDeps extends LambdaDeps<KillSwitchClients, BudgetGuardEnv> {
  /** @default randomUUID */
  readonly newId?: () => string;
}

const defaultObservability = createObservability('budget-guard');

/**
 * Handles an SNS delivery of AWS Budgets notifications (one record in practice, handled in
 * order otherwise). Throws InvalidInputError when the event is not an SNS event (nothing
 * done), and rethrows the kill switch's failures (KillSwitchIncompleteError,
 * KillSwitchNotEngagedError, ...) so that Lambda's asynchronous retries and the dead-letter
 * queue see them. An unreadable message body is not an error: humans are alerted, nothing is
 * done, and retrying would not make it readable.
 *
 * Metrics: BudgetNotificationIgnored (dimension `reason`), UnparseableBudgetNotification,
 * KillSwitchEngaged, ExecutionsStopped, TasksStopped, KillSwitchDuplicate,
 * KillSwitchInconsistent, KillSwitchIncomplete, KillSwitchNotEngaged, BudgetGuardFailed.
 */
export async function handleEvent(
  event: unknown,
  deps: HandlerDeps,
): Promise<Array<BudgetNotificationResult | HeldResult>> {
  const observability = deps.observability ?? defaultObservability;
  const { logger, metrics } = observability;
  return observeInvocation(
    observability,
    {
      failure: (error) => ({
        metrics: [
          ...(error instanceof KillSwitchIncompleteError
            ? ['KillSwitchIncomplete']
            : error instanceof KillSwitchNotEngagedError
              ? ['KillSwitchNotEngaged']
              : []),
          'BudgetGuardFailed',
        ],
        message: 'Budget guard failed',
      }),
      keys: ['messageId'],
    },
    async () => {
      const parsed = snsEventSchema.safeParse(event);
      if (!parsed.success) {
        metrics.addMetric('UnparseableBudgetNotification', MetricUnit.Count, 1);
        throw new InvalidInputError(
          `Not an SNS event, NO action taken: ${describeIssues(parsed.error.issues)}`,
        );
      }
      const config = configFromEnv(deps.env);
      const { automation } = config;
      const results: Array<BudgetNotificationResult | HeldResult> = [];
      for (const record of parsed.data.Records) {
        const { MessageId: messageId, Subject, Message } = record.Sns;
        logger.appendKeys({ messageId });
        const result = await handleBudgetNotification(
          deps.clients,
          config,
          { messageId, subject: Subject ?? undefined, parsed: parseBudgetNotification(Message) },
          { now: deps.now, newId: deps.newId, logger, automation },
        );
        recordOutcome(metrics, result);
        results.push(result);
      }
      return results;
    },
  );
}

function recordOutcome(metrics: Metrics, result: BudgetNotificationResult | HeldResult): void {
  switch (result.outcome) {
    case 'ignored': {
      // Its own document: the reason dimension must not spread to the invocation's other metrics.
      const single = metrics.singleMetric();
      single.addDimension('reason', result.reason);
      single.addMetric('BudgetNotificationIgnored', MetricUnit.Count, 1);
      return;
    }
    case 'unparseable':
      metrics.addMetric('UnparseableBudgetNotification', MetricUnit.Count, 1);
      return;
    case 'held': {
      const single = metrics.singleMetric();
      single.addDimension('held', result.held);
      single.addMetric('KillSwitchHeld', MetricUnit.Count, 1);
      return;
    }
    case 'duplicate':
      metrics.addMetric('KillSwitchDuplicate', MetricUnit.Count, 1);
      if (result.inconsistent) metrics.addMetric('KillSwitchInconsistent', MetricUnit.Count, 1);
      return;
    case 'engaged':
      metrics.addMetric('KillSwitchEngaged', MetricUnit.Count, 1);
      metrics.addMetric('ExecutionsStopped', MetricUnit.Count, result.stoppedExecutions.length);
      metrics.addMetric('TasksStopped', MetricUnit.Count, result.stoppedTasks.length);
      return;
  }
}

// Module scope: reused across warm invocations. Retries are the SDK's (core/aws-clients.ts),
// each attempt bounded by its timeouts, each retry logged.
const aws = lambdaClientFactory({ logger: defaultObservability.logger });
const clients: KillSwitchClients = {
  scheduler: aws.client(SchedulerClient),
  sfn: aws.client(SFNClient),
  ecs: aws.client(ECSClient),
  ssm: aws.client(SSMClient),
  sns: aws.client(SNSClient),
  ddb: DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG),
};

/** The Lambda entry point (SNS, asynchronous invocation). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event) =>
  handleEvent(event, { clients, env: process.env }),
);
