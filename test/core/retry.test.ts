import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, isRetryableAwsError, withRetry } from '../../core/retry';

function awsError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 } }, extra);
}

/** A function failing with `errors` in turn, then resolving 'done'. */
function failing(...errors: unknown[]) {
  return vi.fn(async (_attempt: number) => {
    const next = errors.shift();
    if (next !== undefined) throw next;
    return 'done';
  });
}

describe('withRetry', () => {
  it('retries retryable errors and returns the first success', async () => {
    const fn = failing(awsError('ThrottlingException'), awsError('TooManyRequestsException'));
    const sleep = vi.fn(async () => undefined);

    await expect(withRetry(fn, { sleep })).resolves.toBe('done');

    expect(fn).toHaveBeenCalledTimes(3);
    expect(fn.mock.calls.map((c) => c[0])).toEqual([1, 2, 3]);
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('propagates a non-retryable error at once', async () => {
    const denied = awsError('AccessDeniedException');
    const fn = failing(denied);
    const sleep = vi.fn(async () => undefined);

    await expect(withRetry(fn, { sleep })).rejects.toBe(denied);

    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  it('gives up after the given attempts with the last error, unchanged', async () => {
    const errors = Array.from({ length: 10 }, (_, i) => awsError('ThrottlingException', { attempt: i + 1 }));
    const fn = failing(...errors);
    const sleep = vi.fn(async () => undefined);

    await expect(withRetry(fn, { sleep })).rejects.toMatchObject({ name: 'ThrottlingException', attempt: 5 });
    expect(fn).toHaveBeenCalledTimes(5);
    expect(sleep).toHaveBeenCalledTimes(4);

    fn.mockClear();
    await expect(withRetry(fn, { sleep, attempts: 2 })).rejects.toMatchObject({ attempt: 7 });
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('backs off exponentially with full jitter, bounded by maxDelayMs', async () => {
    const errors = Array.from({ length: 9 }, () => awsError('Throttling'));
    const delays: number[] = [];
    const onRetry = vi.fn();

    await withRetry(failing(...errors), {
      attempts: 10,
      baseDelayMs: 100,
      maxDelayMs: 5000,
      // The top of the jitter range shows the caps.
      random: () => 0.999_999,
      sleep: async (ms) => {
        delays.push(ms);
      },
      onRetry,
    });

    expect(delays).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999, 4999]);
    expect(onRetry).toHaveBeenCalledTimes(9);
    expect(onRetry.mock.calls[0]?.[0]).toMatchObject({ attempt: 1, delayMs: 99 });
  });

  it('uses a custom isRetryable', async () => {
    const fn = failing(new Error('flaky'));
    await expect(
      withRetry(fn, { sleep: async () => undefined, isRetryable: (e) => (e as Error).message === 'flaky' }),
    ).resolves.toBe('done');
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('really waits with the default sleep', async () => {
    vi.useFakeTimers();
    try {
      const fn = failing(awsError('ThrottlingException'));
      const result = withRetry(fn, { baseDelayMs: 1000, random: () => 0.5 });
      await vi.advanceTimersByTimeAsync(499);
      expect(fn).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(1);
      await expect(result).resolves.toBe('done');
      expect(fn).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('backoffDelay', () => {
  it('stays within [0, min(max, base * 2^(retry-1)))', () => {
    for (let retry = 1; retry <= 12; retry += 1) {
      const cap = Math.min(5000, 100 * 2 ** (retry - 1));
      expect(backoffDelay(retry, 100, 5000, () => 0)).toBe(0);
      const top = backoffDelay(retry, 100, 5000, () => 0.999_999);
      expect(top).toBeLessThan(cap);
      expect(top).toBeGreaterThanOrEqual(cap - 1);
    }
  });
});

describe('isRetryableAwsError', () => {
  it.each([
    'ThrottlingException',
    'Throttling',
    'ThrottledException',
    'TooManyRequestsException',
    'RequestLimitExceeded',
    'ProvisionedThroughputExceededException',
    'TransactionInProgressException',
    'ServiceUnavailable',
    'InternalServerError',
    'TimeoutError',
  ])('retries %s', (name) => {
    expect(isRetryableAwsError(awsError(name))).toBe(true);
  });

  it('retries errors the SDK marks retryable, HTTP 429 and 5xx, and reset connections', () => {
    expect(isRetryableAwsError(awsError('SomethingNew', { $retryable: { throttling: true } }))).toBe(true);
    expect(isRetryableAwsError(awsError('SomethingNew', { $metadata: { httpStatusCode: 429 } }))).toBe(true);
    expect(isRetryableAwsError(awsError('SomethingNew', { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isRetryableAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
  });

  it.each([
    ['AccessDeniedException', awsError('AccessDeniedException')],
    ['a conditional failure', awsError('TransactionCanceledException')],
    ['a validation error', awsError('ValidationException')],
    ['HTTP 404', awsError('ResourceNotFoundException', { $metadata: { httpStatusCode: 404 } })],
    ['a string', 'ThrottlingException'],
    ['null', null],
    ['$retryable false', awsError('X', { $retryable: false })],
  ])('does not retry %s', (_name, error) => {
    expect(isRetryableAwsError(error)).toBe(false);
  });
});
