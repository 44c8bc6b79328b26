/**
 * Explicit retries of AWS calls with exponential backoff and full jitter.
 *
 * The SDK's own retry middleware is bypassed by aws-sdk-client-mock, so a policy that only
 * lives there cannot be tested; the Lambdas build their clients with `maxAttempts: 1` and
 * retry here instead, so attempts are not multiplied (SDK attempts x these attempts).
 */
import { describeError } from './errors';

/** Error names AWS services use for throttling and transient server-side failures. */
export const RETRYABLE_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  // Raised by the SDK's HTTP handler when a request or connection times out.
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Node socket error codes of a connection that failed before or during a request. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/** How {@link withRetry} retries. */
export interface RetryOptions {
  /** Total attempts, the first included. @default 5 */
  readonly attempts?: number;
  /** The backoff cap of the first retry; doubles per retry. @default 100 */
  readonly baseDelayMs?: number;
  /** The largest backoff cap. @default 5000 */
  readonly maxDelayMs?: number;
  /** @default a setTimeout-based sleep; tests inject a no-op. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default isRetryableAwsError */
  readonly isRetryable?: (error: unknown) => boolean;
  /** A number in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Called before each sleep, e.g. to log the retry. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether an AWS SDK v3 error is worth retrying: a throttling or transient error name, the
 * SDK's `$retryable` marker, HTTP 429 or 5xx, or a transient socket error.
 */
export function isRetryableAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  if (typeof e.name === 'string' && RETRYABLE_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false) return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

/**
 * The delay before retry number `retry` (1-based): a uniformly random value in
 * [0, min(maxDelayMs, baseDelayMs * 2^(retry-1))), "full jitter", so that many clients
 * throttled at once do not come back in lockstep.
 */
export function backoffDelay(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

/**
 * Runs `fn` until it resolves, retrying retryable errors with exponential backoff and full
 * jitter. A non-retryable error propagates at once; after the last attempt the last error
 * propagates unchanged (callers classify it by name).
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 5));
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const sleep = options.sleep ?? defaultSleep;
  const isRetryable = options.isRetryable ?? isRetryableAwsError;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/**
 * `options` with each retry logged as a warning naming `call` (and the caller's own onRetry
 * still called), so that a throttled dependency shows in the logs before it fails.
 */
export function loggedRetry(
  options: RetryOptions | undefined,
  logger: { warn(message: string, extra: Record<string, unknown>): void },
  call: string,
): RetryOptions {
  return {
    ...options,
    onRetry: (info) => {
      logger.warn('Retrying an AWS call', {
        call,
        attempt: info.attempt,
        delayMs: info.delayMs,
        error: describeError(info.error),
      });
      options?.onRetry?.(info);
    },
  };
}
