import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import { InvalidInputError } from '../../core/errors';
import type { LlmProvider } from '../../core/spend/metric';
import {
  RECONCILIATION_METRICS,
  type ReconciliationMetricName,
} from '../../core/spend/reconciliation-metrics';
import { defineLambda, type Observability } from '../shared/handler';
import { type Logger, type Metrics, MetricUnit } from '../shared/observability';
import { anthropicCostReader } from './anthropic';
import { configFromEnv, type ReconcileConfig } from './config';
import type { HttpOptions } from './http';
import { type ProviderOutcome, type ReconciliationReport, reconcile } from './logic';
import { openAiCostReader } from './openai';
import { type AdminKeys, adminKeysFrom } from './secrets';
import { addDays, dayOf, latestSettledDay, monthStartOf, parseUtcDay, type UtcDay } from './window';

/**
 * The input: the schedule's `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`, or an
 * operator's `{"day": "2026-11-30"}` to reconcile one day (and its month to date) again.
 */
const eventSchema = z
  .object({
    scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional(),
    day: z
      .string()
      .refine((d) => parseUtcDay(d) !== undefined, 'must be a UTC day YYYY-MM-DD')
      .optional(),
  })
  .refine((e) => (e.scheduledTime === undefined) !== (e.day === undefined), {
    message:
      'expected exactly one of {"scheduledTime": "<ISO time>"} (the schedule) or {"day": "YYYY-MM-DD"}',
  });

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export interface HandlerDeps {
  readonly cloudwatch: CloudWatchClient;
  readonly secrets: SecretsManagerClient;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Time left before the function's timeout. @default 5 minutes */
  readonly remainingTimeMs?: number;
  /** The providers' API roots. @default their public APIs */
  readonly baseUrls?: Partial<Readonly<Record<LlmProvider, string>>>;
  /** The providers' HTTP (fetch, sleep, clock...); tests point it at a local server. */
  readonly http?: Partial<HttpOptions>;
  /** @default the module's Powertools logger and metrics */
  readonly observability?: Observability;
}

/** How long the providers' reports may take, of the function's timeout (the rest: publish, log). */
const HTTP_BUDGET_MS = 90_000;
const HTTP_MARGIN_MS = 20_000;

// One key cache per Secrets Manager client, i.e. per execution environment in Lambda.
const keysBySecrets = new WeakMap<SecretsManagerClient, AdminKeys>();

function keysOf(secrets: SecretsManagerClient, config: ReconcileConfig): AdminKeys {
  let keys = keysBySecrets.get(secrets);
  if (!keys) {
    keys = adminKeysFrom(secrets, config.adminKeySecretArns);
    keysBySecrets.set(secrets, keys);
  }
  return keys;
}

/**
 * The day a run reconciles: for the schedule, the latest day final at its scheduled time (so a
 * late or repeated delivery reconciles the same day as the on-time one); for an operator, the
 * day asked for, from the first of last month up to today.
 */
function dayToReconcile(input: z.output<typeof eventSchema>, now: Date, config: ReconcileConfig): UtcDay {
  if (input.scheduledTime !== undefined) {
    return latestSettledDay(new Date(input.scheduledTime), config.settleHours);
  }
  const day = input.day as UtcDay;
  const today = dayOf(now);
  const earliest = monthStartOf(addDays(monthStartOf(today), -1));
  if (day > today || day < earliest) {
    throw new InvalidInputError(
      `Cannot reconcile ${day}: expected a day from ${earliest} (the first of last month) to ${today} (today, UTC)`,
    );
  }
  return day;
}

const lambda = defineLambda({
  service: 'spend-reconcile',
  requestTimeout: 5_000,
  event: { schema: eventSchema, invalid: 'Malformed reconciliation event' },
  clients: (aws): Pick<HandlerDeps, 'cloudwatch' | 'secrets'> => ({
    cloudwatch: aws.client(CloudWatchClient),
    secrets: aws.client(SecretsManagerClient),
  }),
  deps: (clients, context): HandlerDeps => ({
    ...clients,
    env: process.env,
    remainingTimeMs: context?.getRemainingTimeInMillis(),
  }),
  failure: () => ({ metrics: [], message: 'Spend reconciliation failed' }),
  run: async (input, deps: HandlerDeps, { logger, metrics }): Promise<ReconciliationReport> => {
    const config = configFromEnv(deps.env);
    const now = deps.now?.() ?? new Date();
    const day = dayToReconcile(input, now, config);

    const budget = Math.min(HTTP_BUDGET_MS, (deps.remainingTimeMs ?? 300_000) - HTTP_MARGIN_MS);
    const clock = deps.http?.now ?? Date.now;
    const http: HttpOptions = {
      ...deps.http,
      deadline: clock() + Math.max(0, budget),
      onRetry: (info) => logger.warn('Retrying a cost report request', info),
    };
    const report = await reconcile(
      {
        cloudwatch: deps.cloudwatch,
        keys: keysOf(deps.secrets, config),
        readers: {
          anthropic: anthropicCostReader(
            { workspaceIds: config.anthropicWorkspaceIds },
            { baseUrl: deps.baseUrls?.anthropic, http },
          ),
          openai: openAiCostReader(
            { projectIds: config.openaiProjectIds },
            { baseUrl: deps.baseUrls?.openai, http },
          ),
        },
      },
      config,
      { day, now },
    );
    for (const outcome of report.providers) observe(outcome, report, metrics, logger);
    publish(metrics, 'LlmCostReconciliationHeartbeat', 1, { Environment: config.environment });
    return report;
  },
});

/**
 * Reconciles the providers' bills with the application's reported LLM cost (logic.ts) and
 * publishes the outcome. Throws InvalidInputError for a malformed event or configuration
 * (before any AWS or provider call); a provider or CloudWatch failing is not an error but an
 * unknown outcome, published and logged, so that the other provider is still reconciled.
 *
 * Metrics (core/spend/reconciliation-metrics.ts): per provider and window LlmBilledCostUsd,
 * LlmReportedCostUsd, LlmCostDiscrepancyPercent; per provider LlmCostUnderReported,
 * LlmCostOverReported, LlmCostReconciliationUnknown; LlmCostReconciliationHeartbeat per run.
 */
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambda.handler;

const UNITS = { None: MetricUnit.NoUnit, Percent: MetricUnit.Percent, Count: MetricUnit.Count } as const;

/** One metric in its own document, with exactly the dimensions its catalogue entry names. */
function publish(
  metrics: Metrics,
  name: ReconciliationMetricName,
  value: number,
  dimensions: Readonly<Record<string, string>>,
): void {
  const spec = RECONCILIATION_METRICS[name];
  const single = metrics.singleMetric();
  for (const dimension of spec.dimensions) single.addDimension(dimension, dimensions[dimension] ?? 'unknown');
  single.addMetric(name, UNITS[spec.unit], value);
}

/** Publishes and logs one provider's outcome, with the figures it rests on. */
function observe(
  outcome: ProviderOutcome,
  report: ReconciliationReport,
  metrics: Metrics,
  logger: Logger,
): void {
  const dims = { Environment: report.environment, Provider: outcome.provider };
  if (outcome.status === 'unknown') {
    publish(metrics, 'LlmCostReconciliationUnknown', 1, dims);
    logger.warn(`${outcome.provider} NOT reconciled for ${report.day}: ${outcome.reason}`, { outcome });
    return;
  }
  for (const w of [outcome.day, outcome.month]) {
    const windowDims = { ...dims, Window: w.window };
    publish(metrics, 'LlmBilledCostUsd', w.billedUsd, windowDims);
    publish(metrics, 'LlmReportedCostUsd', w.reportedUsd, windowDims);
    publish(metrics, 'LlmCostDiscrepancyPercent', w.discrepancyPercent, windowDims);
  }
  publish(metrics, 'LlmCostUnderReported', outcome.underReported ? 1 : 0, dims);
  publish(metrics, 'LlmCostOverReported', outcome.overReported ? 1 : 0, dims);
  publish(metrics, 'LlmCostReconciliationUnknown', 0, dims);
  const figures = (['day', 'month'] as const).map((k) => {
    const w = outcome[k];
    return `${k} ${w.from}..${w.to}: billed $${w.billedUsd.toFixed(2)}, reported $${w.reportedUsd.toFixed(2)} (${w.discrepancyPercent}%, ${w.verdict})`;
  });
  const message = `${outcome.provider} reconciled for ${report.day}: ${figures.join('; ')}`;
  if (outcome.underReported || outcome.overReported) logger.warn(message, { outcome });
  else logger.info(message, { outcome });
}
