import type { Context } from 'aws-lambda';
import { type Logger, type Metrics, MetricUnit } from './observability';

// Hand-written rather than Powertools' logMetrics/injectLambdaContext: those are Middy
// middlewares or class decorators around the exported handler, while our tests drive
// handleEvent with their own logger and metrics (and Middy is not a dependency).

/** A Lambda's Powertools logger and metrics. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** What every handleEvent of a Lambda with AWS clients needs from the outside; tests inject all of it. */
export interface LambdaDeps<Clients, Env = Readonly<Record<string, string | undefined>>> {
  readonly clients: Clients;
  readonly env: Env;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default the module's Powertools logger and metrics */
  readonly observability?: Observability;
}

/** How one failed invocation is counted and logged before it is rethrown. */
export interface FailureReport {
  /** Counted once each (Count 1), in this order. */
  readonly metrics: readonly string[];
  readonly message: string;
  /** @default 'error' */
  readonly level?: 'error' | 'warn';
  /** The log line's keys. @default { error } */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** What differs between the handlers around their logic. */
export interface InvocationOptions {
  /** How a failure is counted and logged; it is rethrown, so that retries and the dead-letter queue see it. */
  readonly failure: (error: unknown) => FailureReport;
  /**
   * Keys the invocation appends to the logger; removed afterwards whatever happens (the logger
   * outlives the invocation in a warm container). @default none
   */
  readonly keys?: readonly string[];
}

/**
 * Runs one invocation: on failure counts and logs it and rethrows; always removes the
 * invocation's log keys and publishes the stored metrics (an empty flush only logs a warning,
 * so nothing is flushed when there are none).
 */
export async function observeInvocation<T>(
  { logger, metrics }: Observability,
  options: InvocationOptions,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const report = options.failure(error);
    for (const name of report.metrics) metrics.addMetric(name, MetricUnit.Count, 1);
    logger[report.level ?? 'error'](report.message, report.fields ?? { error });
    throw error;
  } finally {
    if (options.keys !== undefined && options.keys.length > 0) logger.removeKeys([...options.keys]);
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}

/** The exported Lambda entry point: adds the invocation's context to the module's logger, then invokes. */
export function lambdaEntryPoint<T>(
  logger: Logger,
  invoke: (event: unknown, context: Context | undefined) => Promise<T>,
): (event: unknown, context?: Context) => Promise<T> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    return invoke(event, context);
  };
}

/**
 * A configuration parsed once per environment object (process.env in Lambda): a warm function
 * does not re-validate its configuration every invocation.
 */
export function configPerEnv<Env extends object, Config>(parse: (env: Env) => Config): (env: Env) => Config {
  const configs = new WeakMap<Env, Config>();
  return (env) => {
    const cached = configs.get(env);
    if (cached !== undefined) return cached;
    const config = parse(env);
    configs.set(env, config);
    return config;
  };
}
