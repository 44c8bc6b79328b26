import { AutomationError, DependencyUnavailableError } from '../../core/errors';

/** The provider refused the admin key (HTTP 401 or 403): never retried, a human must act. */
export class ProviderAuthError extends AutomationError {}

/**
 * The provider did not answer usably in the time allowed: 429 or 5xx past the retries, a
 * Retry-After beyond the time left, a connection or request timeout.
 */
export class ProviderUnavailableError extends DependencyUnavailableError {}

/** The provider rejected the request itself (another 4xx): the API changed or the query is wrong. */
export class ProviderRequestError extends AutomationError {}

/**
 * The provider answered 2xx with something that is not its documented cost report: not JSON,
 * the wrong shape, a currency other than USD, a bucket that is not a UTC day, endless pages.
 */
export class ProviderResponseError extends AutomationError {}

/** The admin key secret does not hold an admin key yet (or holds another kind of key). */
export class AdminKeyNotSetError extends AutomationError {}

/** The application's own LLM cost could not be read from CloudWatch, or reads as garbage. */
export class ReportedSpendUnreadableError extends DependencyUnavailableError {}
