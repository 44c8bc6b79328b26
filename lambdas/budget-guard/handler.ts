// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import { describeIssues, InvalidInputError } from '../../core/errors';
import { defineLambda, type LambdaDeps } from '../shared/handler';
import { killSwitchClients } from '../shared/kill-switch-clients';
import { countWithDimensions, type Metrics, MetricUnit } from '../shared/observability';
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

const lambda = defineLambda({
  service: 'budget-guard',
  clients: killSwitchClients,
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
  run: async (
    event,
    deps: HandlerDeps,
    { logger, metrics },
  ): Promise<Array<BudgetNotificationResult | HeldResult>> => {
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
});

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
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (SNS, asynchronous invocation). */
export const handler = lambda.handler;

function recordOutcome(metrics: Metrics, result: BudgetNotificationResult | HeldResult): void {
  switch (result.outcome) {
    case 'ignored':
      countWithDimensions(metrics, 'BudgetNotificationIgnored', { reason: result.reason });
      return;
    case 'unparseable':
      metrics.addMetric('UnparseableBudgetNotification', MetricUnit.Count, 1);
      return;
    case 'held':
      countWithDimensions(metrics, 'KillSwitchHeld', { held: result.held });
      return;
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
