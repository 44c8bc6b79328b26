/**
 * GET of a provider's JSON API with the retry policy both cost reports need, on Node's global
 * fetch (Node 22 in Lambda: no HTTP client to bundle).
 *
 * Written here rather than left to the AWS SDK's retries (core/aws-clients.ts): those
 * live in an SDK client's middleware, and these are fetch calls to Anthropic's and OpenAI's
 * APIs, which need a server-given delay (Retry-After, retry-after-ms) and one deadline for every
 * attempt and page of a report within the function's timeout. The backoff itself is the
 * shared one (exponential, full jitter).
 *
 * - 2xx: the body parsed as JSON; not JSON is a ProviderResponseError (never retried).
 * - 401 / 403: ProviderAuthError at once: a refused key does not heal by retrying.
 * - 429: retried after the response's `retry-after-ms` or `retry-after` (seconds or an HTTP
 *   date), else the backoff; a wait longer than `maxRetryAfterMs` or past the deadline gives up
 *   at once with ProviderUnavailableError rather than sleeping into the function's timeout.
 * - 5xx (Anthropic's 529 overloaded included), a connection error or a request timeout:
 *   retried with backoff (or the server's Retry-After), then ProviderUnavailableError.
 * - any other status: ProviderRequestError.
 */

import { backoffDelay } from '../../core/aws-clients';
import {
  ProviderAuthError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderUnavailableError,
} from './errors';

/** How {@link getJson} retries and how long it may take. */
export interface HttpOptions {
  /** Epoch milliseconds by which every attempt (and every page) must be done. */
  readonly deadline: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a setTimeout-based sleep; tests record the waits instead. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts per request, the first included. @default 4 */
  readonly attempts?: number;
  /** The backoff cap of the first retry; doubles per retry. @default 500 */
  readonly baseDelayMs?: number;
  /** @default 8000 */
  readonly maxDelayMs?: number;
  /** The longest Retry-After honoured; a longer one gives up. @default 30000 */
  readonly maxRetryAfterMs?: number;
  /** Limit of one attempt (connection and body). @default 10000 */
  readonly requestTimeoutMs?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Called before each wait, e.g. to log it. */
  readonly onRetry?: (info: { provider: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** A successful answer. */
export interface JsonResponse {
  readonly body: unknown;
  /** The response's `Date` header: the provider's clock. */
  readonly date?: Date;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest error text kept from a response body: enough to say why, never a whole page. */
const DETAIL_CHARS = 200;

/** A failed attempt that may be retried, with the server's requested delay if it gave one. */
class Retryable {
  constructor(
    readonly reason: string,
    readonly retryAfterMs: number | undefined,
    readonly cause?: unknown,
  ) {}
}

/** The delay a 429/503 asks for: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The start of a response body, for an error message. */
async function detailOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > DETAIL_CHARS ? `${flat.slice(0, DETAIL_CHARS)}...` : flat;
}

/** The `Date` header as a Date, if it is one. */
function dateOf(headers: Headers): Date | undefined {
  const value = headers.get('date');
  if (value === null) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : new Date(at);
}

async function attempt(
  provider: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  options: HttpOptions,
  now: () => number,
): Promise<JsonResponse | Retryable> {
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return new Retryable(`request failed: ${(error as Error).message}`, undefined, error);
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return new Retryable(`reading the body failed: ${(error as Error).message}`, undefined, error);
    }
    try {
      return { body: JSON.parse(text), date: dateOf(response.headers) };
    } catch {
      throw new ProviderResponseError(
        `${provider} answered ${status} with a body that is not JSON: ${text.slice(0, DETAIL_CHARS)}`,
      );
    }
  }
  const detail = await detailOf(response);
  if (status === 401 || status === 403) {
    throw new ProviderAuthError(
      `${provider} refused the admin key (HTTP ${status}): ${detail}. Check the admin key secret ` +
        '(aws secretsmanager put-secret-value) and the key in the provider console.',
    );
  }
  if (status === 429 || status >= 500) {
    return new Retryable(`HTTP ${status}: ${detail}`, retryAfterMs(response.headers, now()));
  }
  throw new ProviderRequestError(`${provider} rejected the request (HTTP ${status}): ${detail}`);
}

/**
 * GET `url` with `headers` (the credentials among them) as JSON, retrying as the module header
 * says. The URL and the headers never appear in an error: the headers hold the admin key.
 */
export async function getJson(
  provider: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  options: HttpOptions,
): Promise<JsonResponse> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const attempts = Math.max(1, options.attempts ?? 4);
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  let last: Retryable | undefined;
  let made = 0;
  for (let n = 1; n <= attempts; n += 1) {
    const left = options.deadline - now();
    if (left <= 0) break;
    made = n;
    const outcome = await attempt(
      provider,
      url,
      headers,
      Math.min(options.requestTimeoutMs ?? 10_000, left),
      options,
      now,
    );
    if (!(outcome instanceof Retryable)) return outcome;
    last = outcome;
    if (n === attempts) break;
    const delayMs =
      outcome.retryAfterMs ??
      backoffDelay(
        {
          maxAttempts: attempts,
          baseDelayMs: options.baseDelayMs ?? 500,
          maxDelayMs: options.maxDelayMs ?? 8_000,
        },
        n,
        options.random,
      );
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > maxRetryAfterMs) {
      throw new ProviderUnavailableError(
        `${provider} asked to retry after ${Math.ceil(outcome.retryAfterMs / 1000)} s, more than the ` +
          `${maxRetryAfterMs / 1000} s this job waits (${outcome.reason})`,
      );
    }
    if (now() + delayMs >= options.deadline) {
      throw new ProviderUnavailableError(
        `${provider} did not answer in time: the next attempt would start after the deadline (${outcome.reason})`,
        { cause: outcome.cause },
      );
    }
    options.onRetry?.({ provider, attempt: n, delayMs, reason: outcome.reason });
    await sleep(delayMs);
  }
  throw new ProviderUnavailableError(
    last
      ? `${provider} unavailable after ${made} attempt${made === 1 ? '' : 's'}: ${last.reason}`
      : `${provider} not called: no time left before the deadline`,
    { cause: last?.cause },
  );
}
