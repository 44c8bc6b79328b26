import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { InvalidInputError } from '../../core/errors';
import { automationClients } from '../shared/automation-clients';
import { configPerEnv, defineLambda, type LambdaDeps } from '../shared/handler';
import { countWithDimensions, type Metrics, MetricUnit } from '../shared/observability';
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

const configFor = configPerEnv(configFromEnv);

const lambda = defineLambda({
  service: 'remediation',
  clients: (aws): RemediationClients => ({
    ...automationClients(aws),
    ecs: aws.client(ECSClient),
    ssm: aws.client(SSMClient),
  }),
  deps: (clients, context): HandlerDeps => ({
    clients,
    env: process.env,
    // A claim outlives the invocation by a little: a retry after a crash or timeout acts again.
    leaseMs: context ? context.getRemainingTimeInMillis() + 5_000 : undefined,
  }),
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
  run: async (event, deps: HandlerDeps, { logger, metrics }): Promise<RemediationResult> => {
    const config = configFor(deps.env);
    const result = await handleAlarmEvent(deps.clients, config, event, {
      now: deps.now,
      leaseMs: deps.leaseMs,
      logger,
    });
    recordOutcome(metrics, result);
    return result;
  },
});

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
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (EventBridge, asynchronous invocation). */
export const handler = lambda.handler;

/** The metric of each outcome that is counted whatever its details. */
const OUTCOME_METRICS: Readonly<
  Record<Exclude<RemediationResult['outcome'], 'unknown-alarm' | 'skipped'>, string>
> = {
  ignored: 'RemediationIgnored',
  'no-action': 'RemediationNoAction',
  duplicate: 'RemediationDuplicate',
  remediated: 'RemediationPerformed',
  'dry-run': 'RemediationDryRun',
};

function recordOutcome(metrics: Metrics, result: RemediationResult): void {
  if (result.outcome === 'unknown-alarm') {
    metrics.addMetric(
      result.notified ? 'RemediationUnknownAlarm' : 'RemediationDuplicate',
      MetricUnit.Count,
      1,
    );
  } else if (result.outcome === 'skipped') {
    countWithDimensions(metrics, 'RemediationSkipped', { reason: result.skip ?? 'unknown' });
  } else {
    metrics.addMetric(OUTCOME_METRICS[result.outcome], MetricUnit.Count, 1);
  }
}
