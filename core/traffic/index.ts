/**
 * The one implementation of the listener weights: reading them (listener and SSM), writing
 * them (both, in parallel), planning a shift and rolling back to the last known-good weights.
 * The traffic-shift and traffic-rollback Lambdas and the ops CLI all go through here.
 *
 * Weights have ONE source of truth: the SSM StringList `/fa-ai-system/<env>/traffic/weights`
 * ("<blue>,<green>"), which CloudFormation reads at every deploy. A live change therefore
 * writes the listener AND the parameter ({@link writeWeights}); writing only the listener
 * would be undone by the next deploy.
 *
 * Items of the ops table (pk `TRAFFIC`; string keys, TTL attribute `expiresAt`):
 * - sk `SHIFT_LOCK` ({@link ShiftLock}): `{ executionArn, to, acquiredAt, expiresAt }`. One
 *   shift at a time: put only when absent or expired (`attribute_not_exists(pk) OR expiresAt <
 *   :now`, or already held by the same execution, so a retried task is not refused). Removed
 *   by the shift's finish/rollback/abort and by a rollback that stops the shift; `expiresAt`
 *   (epoch seconds, {@link SHIFT_LOCK_TTL_SECONDS} ahead) is the safety net of a shift that
 *   died without cleaning up. The condition checks the expiry itself: TTL deletion is lazy.
 * - sk `LAST_SHIFT` ({@link LastShift}): `{ executionArn, to, from, final?, startedAt,
 *   completedAt?, status, rolledBackAt?, ... }`. `from` is the last known-good weights a
 *   rollback restores. Status 'in-progress' | 'completed' | 'rolled-back' | 'aborted' (an
 *   aborted shift whose weights needed no restoring). Never expires.
 * - sk `ROLLBACK` ({@link RollbackRecord}): `{ at, by, reason, restored, executionArn? }`, the
 *   last rollback: the cool-down of the automatic rollbacks. Never expires.
 * - audit entries (pk `AUDIT`, see ops-table.ts) with source 'traffic-shift' |
 *   'traffic-rollback' | 'cli' and actions 'traffic-shift-start', 'traffic-weights-set',
 *   'traffic-shift-complete', 'traffic-shift-rollback', 'traffic-shift-abort',
 *   'traffic-rollback'.
 *
 * The code is in traffic/: common (types, errors, message helpers), weights (read, write,
 * plan), items (the TRAFFIC items and their conditional writes), rollback and env. Callers
 * import from here.
 */

export * from './common';
export * from './env';
export * from './items';
export * from './rollback';
export * from './weights';
