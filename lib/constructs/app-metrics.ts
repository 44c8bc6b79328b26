import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { APP_NAMESPACE, AUTOMATION_NAMESPACE, LLM_MODELS, QUERY_COUNT_METRIC } from '../../core/spend/metric';

/**
 * The one CloudWatch namespace of the application's own metrics (batch, queries, cost).
 * The application publishes into it; dashboards and alarms read from it.
 */
export const APP_METRICS_NAMESPACE = APP_NAMESPACE;

/** Namespace of the automation's own metrics (Lambdas, Powertools). */
export const AUTOMATION_METRICS_NAMESPACE = AUTOMATION_NAMESPACE;

/** Tiers of a summary, a dimension of query metrics. */
export const QUERY_TIERS = QUERY_COUNT_METRIC.tiers;
/** Models the router chooses between, a dimension of model usage. */
export const MODELS = LLM_MODELS.anthropic;

/**
 * What the application publishes (README: "Application metrics"). Every metric carries the
 * dimension Environment=<env>; some carry one more, named here.
 */
export const APP_METRICS = {
  /** Stocks finished by a batch run, published once per run. Count. */
  BatchStocksProcessed: { unit: 'Count', extraDimension: undefined },
  /** Stocks that failed in a batch run. Count. */
  BatchStocksFailed: { unit: 'Count', extraDimension: undefined },
  /** successful / total of a batch run, 0-100. Percent. */
  BatchSuccessRate: { unit: 'Percent', extraDimension: undefined },
  /** Wall time of a batch run. Minutes (unit None). */
  BatchDurationMinutes: { unit: 'None', extraDimension: undefined },
  /** Stocks per hour of a batch run. Count/Hour (unit None). */
  BatchThroughput: { unit: 'None', extraDimension: undefined },
  /** One per interactive query, dimension Tier = hook | medium | expanded. Count. */
  QueryCount: { unit: 'Count', extraDimension: 'Tier' },
  /** End-to-end query latency. Milliseconds. */
  QueryLatency: { unit: 'Milliseconds', extraDimension: undefined },
  /** LLM cost per stock of a batch run, USD (unit None). */
  CostPerStock: { unit: 'None', extraDimension: undefined },
  /** LLM cost of one query, USD (unit None). */
  CostPerQuery: { unit: 'None', extraDimension: undefined },
  /** One per model call, dimension Model = sonnet | haiku. Count. */
  ModelInvocations: { unit: 'Count', extraDimension: 'Model' },
} as const;

export type AppMetricName = keyof typeof APP_METRICS;

/** An application metric of one environment. */
export function appMetric(
  envName: string,
  name: AppMetricName,
  options: { statistic?: string; period?: Duration; extra?: string; label?: string } = {},
): cloudwatch.Metric {
  const extraDimension = APP_METRICS[name].extraDimension;
  return new cloudwatch.Metric({
    namespace: APP_METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: {
      Environment: envName,
      ...(extraDimension && options.extra ? { [extraDimension]: options.extra } : {}),
    },
    statistic: options.statistic ?? 'Average',
    period: options.period ?? Duration.minutes(5),
    label: options.label,
  });
}
