/**
 * The spend contract with the application: the metric it publishes once per model call, and the
 * metrics the spend guard publishes about it. One definition for the application's README table,
 * the spend guard, the bill reconciliation, the alarms and the cost estimate.
 *
 * Bundled into Lambdas and loaded by the synth and the CLI: no imports.
 */

/** The application's CloudWatch namespace (lib/constructs/app-metrics.ts re-exports it). */
export const APP_NAMESPACE = 'FA-AI-System';

/** The automation's CloudWatch namespace (Powertools metrics of the Lambdas). */
export const AUTOMATION_NAMESPACE = 'FA-AI-System/Automation';

/** What a model call is for, i.e. which budget pays it (runbook: batch $1,200, interactive $600). */
export const LLM_COMPONENTS = ['batch', 'interactive'] as const;
export type LlmComponent = (typeof LLM_COMPONENTS)[number];

/**
 * The providers that bill model calls and, per provider, the models the application may name.
 * The Model values of Anthropic are the router's (`ModelInvocations` uses the same); OpenAI's
 * embeddings are one model family.
 */
export const LLM_MODELS = {
  anthropic: ['sonnet', 'haiku'],
  openai: ['embedding'],
} as const;
export type LlmProvider = keyof typeof LLM_MODELS;
export const LLM_PROVIDERS = Object.keys(LLM_MODELS) as LlmProvider[];

/** The dimension names of {@link LLM_COST_METRIC}, in the order the application writes them. */
export const LLM_COST_DIMENSIONS = ['Environment', 'Component', 'Provider', 'Model'] as const;

/**
 * `LlmCostUsd`: the cost in USD of ONE model call as the provider will bill it (input, output and
 * cached tokens at the provider's list price), published right after the call with every
 * dimension of {@link LLM_COST_DIMENSIONS} set to an allowed value. Unit None (USD). A call that
 * costs nothing is published as 0; a value is never negative and never aggregated over calls.
 *
 * CloudWatch keeps a metric per dimension combination and does not sum across them, so readers
 * sum the allowed combinations ({@link llmCostSeries}); a value published with another
 * Provider or Model is not counted (the bill reconciliation finds such under-reporting).
 */
export const LLM_COST_METRIC = {
  namespace: APP_NAMESPACE,
  name: 'LlmCostUsd',
  unit: 'None',
  dimensions: LLM_COST_DIMENSIONS,
} as const;

/**
 * The statistics a month-to-date reading takes of each series, by day: the spend (Sum), the calls
 * (SampleCount), and Minimum and Maximum, which show values that break the contract.
 */
export const LLM_COST_READ_STATISTICS = ['Sum', 'SampleCount', 'Minimum', 'Maximum'] as const;

/** The dimensions of one series of {@link LLM_COST_METRIC}. */
export interface LlmCostSeries {
  readonly Environment: string;
  readonly Component: LlmComponent;
  readonly Provider: LlmProvider;
  readonly Model: string;
}

/** The GetMetricData query `id` of one series' `stat` per `periodSeconds`: how every reader asks. */
export function llmCostQuery(id: string, series: LlmCostSeries, periodSeconds: number, stat: string) {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: LLM_COST_METRIC.namespace,
        MetricName: LLM_COST_METRIC.name,
        Dimensions: LLM_COST_METRIC.dimensions.map((name) => ({ Name: name, Value: series[name] })),
      },
      Period: periodSeconds,
      Stat: stat,
    },
    ReturnData: true,
  };
}

/** Every allowed series of `environment`, optionally of one component: what a reader sums. */
export function llmCostSeries(environment: string, component?: LlmComponent): LlmCostSeries[] {
  const components = component === undefined ? LLM_COMPONENTS : [component];
  return components.flatMap((c) =>
    LLM_PROVIDERS.flatMap((provider) =>
      LLM_MODELS[provider].map((model) => ({
        Environment: environment,
        Component: c,
        Provider: provider,
        Model: model,
      })),
    ),
  );
}

/** Whether `dimensions` name an allowed series (what the application's publisher may check). */
export function isAllowedLlmCostSeries(dimensions: Readonly<Record<string, string>>): boolean {
  const models: readonly string[] | undefined = LLM_MODELS[dimensions.Provider as LlmProvider];
  return (
    typeof dimensions.Environment === 'string' &&
    dimensions.Environment.length > 0 &&
    (LLM_COMPONENTS as readonly string[]).includes(dimensions.Component ?? '') &&
    models?.includes(dimensions.Model ?? '') === true
  );
}

/**
 * `QueryCount`, one per interactive query with dimension Tier (README: application metrics): what
 * the silence check compares LLM cost data with. lib/constructs/app-metrics.ts takes its tiers from here.
 */
export const QUERY_COUNT_METRIC = {
  namespace: APP_NAMESPACE,
  name: 'QueryCount',
  tierDimension: 'Tier',
  tiers: ['hook', 'medium', 'expanded'],
} as const;

/** The spend guard's service name: its Lambda folder, Powertools service and metric dimension. */
export const SPEND_GUARD_SERVICE = 'spend-guard';

/**
 * The metrics the spend guard publishes (namespace {@link AUTOMATION_NAMESPACE}); every one has
 * the dimensions `service` = spend-guard and `Environment` = the environment.
 */
export const SPEND_GUARD_METRICS = {
  /** 1 at the end of every run that evaluated the spend and did what it called for. Count. */
  heartbeat: 'Heartbeat',
  /**
   * 1 when LLM cost data stopped while the component worked (queries counted, or a batch run
   * RUNNING), 0 otherwise, once per run; extra dimension `Component`. Count.
   */
  llmCostSilent: 'LlmCostSilent',
  /** 1 in a run in which some spend figure could not be read (the guard paged); absent otherwise. Count. */
  spendUnknown: 'SpendUnknown',
} as const;

/** The dimensions of a spend guard metric. */
export function spendGuardDimensions(
  environment: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return { service: SPEND_GUARD_SERVICE, Environment: environment, ...extra };
}
