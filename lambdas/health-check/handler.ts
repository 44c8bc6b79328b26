import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient } from '@aws-sdk/client-sns';
// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import { configFromEnv, type HealthCheckEnv } from '../../core/health/config';
import type { HealthReport } from '../../core/health/report';
import { opsTableDocumentClient } from '../../core/ops-table/client';
import { configPerEnv, defineLambda, type LambdaDeps } from '../shared/handler';
import { countWithDimensions, type Logger, type Metrics, MetricUnit } from '../shared/observability';
import {
  deliverLightReport,
  type HealthCheckClients,
  type LightDelivery,
  publishReport,
  readLightAlertOutcome,
  runHealthCheck,
} from './logic';

/** The EventBridge Scheduler input: `{"check": "morning"}` daily at 9, `{"check": "light"}` every 5 minutes. */
const inputSchema = z.object({ check: z.enum(['morning', 'light']) });

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<HealthCheckClients, HealthCheckEnv>;

// A warm function does not re-validate its configuration every 5 minutes.
const configOf = configPerEnv(configFromEnv);

const lambda = defineLambda({
  service: 'health-check',
  event: {
    schema: inputSchema,
    invalid: 'Malformed schedule input, expected {"check": "morning"} or {"check": "light"}',
  },
  clients: (aws): HealthCheckClients => ({
    ecs: aws.client(ECSClient),
    elbv2: aws.client(ElasticLoadBalancingV2Client),
    cloudwatch: aws.client(CloudWatchClient),
    sns: aws.client(SNSClient),
    ddb: opsTableDocumentClient(aws),
  }),
  failure: () => ({ metrics: ['HealthCheckErrors'], message: 'Health check failed' }),
  run: async ({ check: kind }, deps: HandlerDeps, { logger, metrics }): Promise<HealthReport> => {
    const config = configOf(deps.env);
    // Environments may share an account: without it, one environment's heartbeat would keep
    // another's heartbeat alarm quiet while that one's check is dead.
    metrics.addDimension('Environment', config.environment);
    metrics.addDimension('Kind', kind);

    const now = deps.now?.() ?? new Date();
    // A light run reads what it last reported alongside its checks: no extra round trip.
    const [report, stored] = await Promise.all([
      runHealthCheck(deps.clients, config, { kind, now }),
      kind === 'light' ? readLightAlertOutcome(deps.clients.ddb, config) : undefined,
    ]);
    for (const check of report.checks) {
      countWithDimensions(
        metrics,
        'HealthCheckPassed',
        { Check: check.name },
        check.status === 'PASS' ? 1 : 0,
      );
    }
    metrics.addMetric(
      'ChecksNotPassing',
      MetricUnit.Count,
      report.checks.filter((c) => c.status !== 'PASS').length,
    );
    const log = report.overall === 'HEALTHY' ? logger.info.bind(logger) : logger.warn.bind(logger);
    log(`Health check ${report.overall}`, { report });

    if (stored === undefined) {
      const published = await publishReport(deps.clients.sns, config, report);
      if (published !== undefined) logger.info('Report published', { ...published });
    } else {
      observeLightDelivery(
        await deliverLightReport(deps.clients, config, report, stored, now),
        logger,
        metrics,
      );
    }
    // Only now: a check whose report cannot get out must look as dead as one that stopped.
    metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
    return report;
  },
});

/**
 * Runs the scheduled check and returns its report. An unhealthy or unknown report goes to the
 * topic of its most severe failing check (P2 when only unknown); a healthy morning report goes
 * to P3 as the daily summary; a healthy light check is silent. A light check reports a problem
 * once, again only when it changes or every LIGHT_RENOTIFY_MINUTES while it lasts, and says
 * RECOVERED when it clears (see alerting.ts).
 *
 * Throws InvalidInputError for malformed input or configuration (before any AWS call), and
 * rethrows when the report could not be published, so that the failed invocation is retried
 * and counted. A failing AWS read is not an error: its checks are UNKNOWN in the report.
 *
 * Metrics: HealthCheckPassed (1/0, dimension Check) per check; ChecksNotPassing and
 * Heartbeat (1 once the report was delivered or needed none), dimensions Environment and Kind; HealthReportsHeld
 * (a light report of a problem already out); HealthAlertStateErrors (the alert item could not
 * be read or written); HealthCheckErrors when the invocation throws.
 */
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambda.handler;

/** Logs and counts what a light run did with its report. */
function observeLightDelivery(delivery: LightDelivery, logger: Logger, metrics: Metrics): void {
  const { decision, published, readError, stateError } = delivery;
  if (readError !== undefined) {
    metrics.addMetric('HealthAlertStateErrors', MetricUnit.Count, 1);
    logger.warn('Could not read the last light alert; reporting as new', { error: readError });
  }
  if (decision.action === 'hold') {
    metrics.addMetric('HealthReportsHeld', MetricUnit.Count, 1);
    logger.info('Same problem already reported: held back', { alert: decision.alert });
  }
  if (published !== undefined) {
    logger.info(decision.action === 'recover' ? 'Recovery published' : 'Report published', {
      ...published,
      ...(decision.action === 'notify' ? { reason: decision.reason } : {}),
    });
  }
  if (stateError !== undefined) {
    metrics.addMetric('HealthAlertStateErrors', MetricUnit.Count, 1);
    logger.warn('Could not record the light alert: the next run may notify again', { error: stateError });
  }
}
