/**
 * The AWS SDK clients of the Lambdas and the ops CLI, and their retry policy, declared once.
 *
 * Retries are the SDK's own: its retry middleware with a ConfiguredRetryStrategy. The SDK
 * classifies errors (throttling such as ThrottlingException, Throttling,
 * TooManyRequestsException, ProvisionedThroughputExceededException and HTTP 429; transient ones
 * such as TimeoutError, ECONNRESET and HTTP 500/502/503/504), keeps a retry quota per client so
 * an outage is not hammered, and honours a service's Retry-After. A client error (access denied,
 * a validation error, a DynamoDB condition that failed, a cancelled transaction) is never
 * retried: the caller decides what it means.
 *
 * Only the backoff is ours. The SDK's default waits up to 1 s, 2 s, 4 s ... after throttling
 * (up to 20 s a retry); a Lambda that makes several calls in a row within a 30-60 s timeout,
 * and a person at the CLI, are better served by exponential backoff with full jitter from
 * 100 ms capped at 5 s: at most 1.5 s of waiting across the 4 retries of one call.
 */

// The SDK's own strategy, from the module the clients use; @smithy/util-retry re-exports it
// through a CommonJS file that esbuild cannot tree-shake (12 KB more in every bundle).
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { describeError } from './errors';

/** How the clients retry. */
export interface RetryPolicy {
  /** Attempts of one call, the first included. */
  readonly maxAttempts: number;
  /** The backoff cap of the first retry; it doubles per retry. */
  readonly baseDelayMs: number;
  /** The largest backoff cap. */
  readonly maxDelayMs: number;
}

/** The policy of every client. */
export const RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

/**
 * One attempt: for a call that must not be sent twice, such as a synchronous invocation of the
 * database maintenance (a second attempt after a lost connection would start a second run
 * while the first one goes on).
 */
export const ONE_ATTEMPT: RetryPolicy = { ...RETRY_POLICY, maxAttempts: 1 };

/**
 * Timeouts of each attempt of a Lambda's calls: a hung connection fails over to a retry long
 * before the function's timeout. The SDK's HTTP handler only warns when a request outlives
 * requestTimeout unless told to throw (a TimeoutError, which the strategy retries).
 */
export const LAMBDA_REQUEST_TIMEOUTS = {
  requestTimeout: 3_000,
  connectionTimeout: 2_000,
  throwOnRequestTimeout: true,
} as const;

/**
 * The wait before retry number `retry` (1-based): uniformly random in
 * [0, min(maxDelayMs, baseDelayMs * 2^(retry-1))), "full jitter", so that clients throttled at
 * once do not come back in lockstep.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

/** Where a retry is told (a Powertools logger fits). */
export interface RetryLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

type RetryToken = Awaited<ReturnType<ConfiguredRetryStrategy['refreshRetryTokenForRetry']>>;
type RetryErrorInfo = Parameters<ConfiguredRetryStrategy['refreshRetryTokenForRetry']>[1];

/**
 * The SDK's strategy with the policy's backoff; each retry is logged as a warning naming the
 * client, so that a throttled dependency shows in the logs before it fails.
 */
class LoggedRetryStrategy extends ConfiguredRetryStrategy {
  constructor(
    policy: RetryPolicy,
    private readonly client: string,
    private readonly logger?: RetryLogger,
  ) {
    super(policy.maxAttempts, (retry) => backoffDelay(policy, retry));
  }

  override async refreshRetryTokenForRetry(
    token: RetryToken,
    errorInfo: RetryErrorInfo,
  ): Promise<RetryToken> {
    const started = Date.now();
    // Throws when the error is not retried (not retryable, attempts or quota exhausted); else
    // waits the backoff and returns the next attempt's token.
    const next = await super.refreshRetryTokenForRetry(token, errorInfo);
    this.logger?.warn('Retrying an AWS call', {
      client: this.client,
      attempt: next.getRetryCount() + 1,
      waitedMs: Date.now() - started,
      errorType: errorInfo.errorType,
      error: describeError(errorInfo.error),
    });
    return next;
  }
}

/** The settings every client class accepts that the factory sets or passes on. */
export interface AwsClientSettings {
  readonly region?: string;
  /** A local engine's endpoint in tests. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly requestHandler?: {
    readonly requestTimeout?: number;
    readonly connectionTimeout?: number;
    readonly throwOnRequestTimeout?: boolean;
  };
}

/** What a factory needs to know. */
export interface AwsClientFactoryOptions extends AwsClientSettings {
  /** @default RETRY_POLICY */
  readonly policy?: RetryPolicy;
  /** Where retries are logged. @default nowhere */
  readonly logger?: RetryLogger;
}

/**
 * Builds clients of one policy, each with a retry strategy of its own (the SDK keeps its retry
 * quota per client), e.g. `aws.client(ECSClient)`; a document client wraps
 * `aws.client(DynamoDBClient)`, whose middleware (the retries) it uses.
 */
export interface AwsClientFactory {
  client<C>(Client: new (config: ClientConfig) => C, settings?: AwsClientSettings): C;
}

/** What the factory gives a client's constructor. */
export type ClientConfig = AwsClientSettings & { readonly retryStrategy: ConfiguredRetryStrategy };

/** A factory of clients with `options`' settings and the policy. */
export function awsClientFactory(options: AwsClientFactoryOptions = {}): AwsClientFactory {
  const { policy = RETRY_POLICY, logger, ...defaults } = options;
  return {
    client: (Client, settings = {}) =>
      new Client({
        ...defaults,
        ...settings,
        retryStrategy: new LoggedRetryStrategy(policy, Client.name, logger),
      }),
  };
}

/**
 * The clients of a Lambda: the policy, per-attempt timeouts (`requestTimeout` longer for a
 * slow API), retries logged to `logger`.
 */
export function lambdaClientFactory(
  options: Omit<AwsClientFactoryOptions, 'requestHandler'> & { readonly requestTimeout?: number } = {},
): AwsClientFactory {
  const { requestTimeout = LAMBDA_REQUEST_TIMEOUTS.requestTimeout, ...rest } = options;
  return awsClientFactory({ requestHandler: { ...LAMBDA_REQUEST_TIMEOUTS, requestTimeout }, ...rest });
}
