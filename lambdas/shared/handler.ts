import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { type AwsClientFactory, lambdaClientFactory } from '../../core/aws-clients';
import { parseInput } from '../../core/errors';
import { createObservability, type Logger, type Metrics, MetricUnit } from './observability';

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

/** What an invocation of the deployed function is given: its clients, and the rest from its context. */
export type DeployedDeps<Clients, Deps> = (clients: Clients, context: Context | undefined) => Deps;

/**
 * The events a function takes: anything else fails with InvalidInputError, `invalid` followed
 * by every issue, before anything is done.
 */
export interface EventSpec<Event> {
  readonly schema: z.ZodType<Event>;
  readonly invalid: string;
}

/** A Lambda function: its name, its events, its clients, how one invocation runs and how it fails. */
export type LambdaDefinition<
  Clients,
  Deps extends { readonly observability?: Observability },
  Event,
  Result,
> = InvocationOptions & {
  /** Powertools' service name of the function's logs and metrics. */
  readonly service: string;
  /** The per-attempt timeout of the clients' calls. @default LAMBDA_REQUEST_TIMEOUTS.requestTimeout */
  readonly requestTimeout?: number;
  /** The deployed function's AWS clients, from a factory of the Lambdas' retries and timeouts. */
  readonly clients: (aws: AwsClientFactory) => Clients;
  /** One invocation, given `deps.observability` or else the function's own. */
  readonly run: (event: Event, deps: Deps, observability: Observability) => Promise<Result>;
} & (unknown extends Event
    ? { /** @default none: `run` is given the event as it came */ readonly event?: EventSpec<Event> }
    : { readonly event: EventSpec<Event> }) &
  (LambdaDeps<Clients, NodeJS.ProcessEnv> extends Deps
    ? { /** @default { clients, env: process.env } */ readonly deps?: DeployedDeps<Clients, Deps> }
    : { readonly deps: DeployedDeps<Clients, Deps> });

/** A defined Lambda function's two ways in. */
export interface LambdaFunction<Deps, Result> {
  /** One invocation with `deps` from the outside (tests inject all of it), observed by observeInvocation. */
  readonly handleEvent: (event: unknown, deps: Deps) => Promise<Result>;
  /** The exported Lambda entry point: one invocation with the deployed function's deps. */
  readonly handler: (event: unknown, context?: Context) => Promise<Result>;
}

/**
 * A Lambda function from its definition. Called at module scope: its Powertools logger and
 * metrics, and its clients, are built once per execution environment and reused across warm
 * invocations. Retries are the SDK's (core/aws-clients.ts), each attempt bounded by its
 * timeouts, each retry logged to the function's logger.
 */
export function defineLambda<Clients, Deps extends { readonly observability?: Observability }, Event, Result>(
  definition: LambdaDefinition<Clients, Deps, Event, Result>,
): LambdaFunction<Deps, Result> {
  const { service, requestTimeout, failure, keys, event: spec, run } = definition;
  const own = createObservability(service);
  const handleEvent = (event: unknown, deps: Deps): Promise<Result> => {
    const observability = deps.observability ?? own;
    return observeInvocation(observability, { failure, keys }, () =>
      // Without a spec, LambdaDefinition has made sure that Event is unknown.
      run(spec ? parseInput(spec.schema, event, spec.invalid) : (event as Event), deps, observability),
    );
  };
  const clients = definition.clients(lambdaClientFactory({ logger: own.logger, requestTimeout }));
  // Without `deps`, LambdaDefinition has made sure that Deps takes { clients, env }.
  const deployed =
    definition.deps ??
    (() => ({ clients, env: process.env }) satisfies LambdaDeps<Clients> as unknown as Deps);
  return {
    handleEvent,
    handler: lambdaEntryPoint(own.logger, (event, context) => handleEvent(event, deployed(clients, context))),
  };
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
