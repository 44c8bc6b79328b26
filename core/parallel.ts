/**
 * One runner for "do these actions in parallel, report which failed": the kill switch's
 * stops, the batch re-enable, a rollback's weights and bookkeeping, the reads of a
 * remediation or a diagnosis. Written here rather than taken from a library because it is
 * Promise.allSettled plus the bookkeeping each caller repeated (which action, which error),
 * and it also catches an action that throws before returning its promise.
 */

/** What one piece of work came to: its value, or why not. */
export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * Settles `work` (a promise, or a function starting one) into a {@link Settled}: it never
 * rejects, so a failure is a value the caller reads, never an unhandled rejection.
 */
export async function settle<T>(work: Promise<T> | (() => Promise<T>)): Promise<Settled<T>> {
  try {
    return { ok: true, value: await (typeof work === 'function' ? work() : work) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The outcome of one action of {@link runInParallel}, with the action it belongs to. */
export type ActionOutcome<A, T> = Settled<T> & { readonly action: A };

/** What {@link runInParallel} reports. */
export interface ParallelReport<A, T> {
  /** One per action, in the order of the actions (not of completion). */
  readonly outcomes: readonly ActionOutcome<A, T>[];
  /** The actions that succeeded, in order. */
  readonly succeeded: readonly { readonly action: A; readonly value: T }[];
  /** The actions that failed, in order, each with its error. */
  readonly failed: readonly { readonly action: A; readonly error: unknown }[];
}

/**
 * Starts every action at once through `start` and waits for all of them, whatever fails.
 * Never rejects: a failed action (a rejected promise, or `start` throwing) is reported in
 * `failed` with its error, and the others still run to their end.
 */
export async function runInParallel<A, T>(
  actions: readonly A[],
  start: (action: A) => Promise<T>,
): Promise<ParallelReport<A, T>> {
  const settled = await Promise.all(actions.map((action) => settle(() => start(action))));
  const outcomes = settled.map((result, i) => ({ ...result, action: actions[i] as A }));
  const succeeded: { action: A; value: T }[] = [];
  const failed: { action: A; error: unknown }[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) succeeded.push({ action: outcome.action, value: outcome.value });
    else failed.push({ action: outcome.action, error: outcome.error });
  }
  return { outcomes, succeeded, failed };
}
