/**
 * The spend contract with the application: the one metric it publishes per model call, LLM cost
 * in USD. The spend guard, the daily reconciliation with the providers' bills and `ops cost`
 * read it from here; the README's application-metrics table documents it for the application
 * team. No imports: Lambdas, constructs and the ops CLI all load this module.
 */

/**
 * The namespace of the application's own metrics. It must equal APP_METRICS_NAMESPACE of
 * lib/constructs/app-metrics.ts (a test holds them together; that module loads aws-cdk-lib,
 * which a Lambda bundle must not).
 */
export const APP_NAMESPACE = 'FA-AI-System';

/** Who spent: the weekly batch or interactive queries (the runbook's two LLM budgets). */
export const LLM_COMPONENTS = ['batch', 'interactive'] as const;
export type LlmComponent = (typeof LLM_COMPONENTS)[number];

/** Who bills: each provider's own cost report is reconciled against this metric. */
export const LLM_PROVIDERS = ['anthropic', 'openai'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

/**
 * LLM cost of one model call, in USD (CloudWatch unit None), published by the application with
 * exactly these four dimensions; Model is the provider's model name and its values are open.
 */
export const LLM_COST_METRIC = {
  namespace: APP_NAMESPACE,
  name: 'LlmCostUsd',
  unit: 'None',
  dimensions: ['Environment', 'Component', 'Provider', 'Model'],
} as const;

export type LlmCostDimension = (typeof LLM_COST_METRIC.dimensions)[number];
