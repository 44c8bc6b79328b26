import {
  AUTOMATION_NAMESPACE,
  LLM_COMPONENTS,
  LLM_COST_METRIC,
  llmCostSeries,
  SPEND_GUARD_METRICS,
  spendGuardDimensions,
} from '../../core/spend/metric';
import { APP_METRICS, APP_METRICS_NAMESPACE, MODELS, QUERY_TIERS } from '../constructs/app-metrics';
import type { MetricIdentity } from './metrics';

/** Values of each extra dimension the catalogue names; one metric per value. */
const DIMENSION_VALUES: Readonly<Record<string, readonly string[]>> = { Tier: QUERY_TIERS, Model: MODELS };

/**
 * ASSUMPTION: the application publishes every metric of its catalogue (APP_METRICS) with the
 * dimension Environment=<env>, and one metric per value of its extra dimension, and LlmCostUsd
 * for each series the spend contract allows (core/spend/metric.ts). The template cannot show
 * this: the containers publish them at run time. So does the spend guard, every run, with the
 * metrics its alarms read (Heartbeat, LlmCostSilent per component).
 */
export function appCatalogueMetrics(envName: string): MetricIdentity[] {
  return [...catalogueMetrics(envName), ...llmCostMetrics(envName), ...spendGuardMetrics(envName)];
}

function llmCostMetrics(envName: string): MetricIdentity[] {
  return llmCostSeries(envName).map((series) => ({
    namespace: LLM_COST_METRIC.namespace,
    name: LLM_COST_METRIC.name,
    dimensions: { ...series },
  }));
}

function spendGuardMetrics(envName: string): MetricIdentity[] {
  return [
    {
      namespace: AUTOMATION_NAMESPACE,
      name: SPEND_GUARD_METRICS.heartbeat,
      dimensions: spendGuardDimensions(envName),
    },
    ...LLM_COMPONENTS.map((component) => ({
      namespace: AUTOMATION_NAMESPACE,
      name: SPEND_GUARD_METRICS.llmCostSilent,
      dimensions: spendGuardDimensions(envName, { Component: component }),
    })),
  ];
}

function catalogueMetrics(envName: string): MetricIdentity[] {
  return Object.entries(APP_METRICS).flatMap(([name, spec]) => {
    const extra: string | undefined = spec.extraDimension;
    if (extra === undefined) {
      return [{ namespace: APP_METRICS_NAMESPACE, name, dimensions: { Environment: envName } }];
    }
    // A dimension the table above does not know still bills at least once.
    const values = DIMENSION_VALUES[extra] ?? ['<any>'];
    return values.map((value) => ({
      namespace: APP_METRICS_NAMESPACE,
      name,
      dimensions: { Environment: envName, [extra]: value },
    }));
  });
}
