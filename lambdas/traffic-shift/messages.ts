/**
 * The words of the shift's notices: what ended a shift and how, from the facts end.ts hands
 * over. Nothing here decides or calls AWS.
 */

import { formatWeights, type Weights } from '../../core/traffic';

/** One notice of the alert topic. */
export interface Notice {
  readonly subject: string;
  readonly lines: readonly string[];
}

/** What a rollback on alarm did. */
export interface RollbackFacts {
  readonly environment: string;
  readonly to: string;
  readonly why: string;
  /** The weights write's error, when it failed. */
  readonly writeError: string | undefined;
  readonly from: Weights;
  readonly weightsParameter: string;
  readonly executionArn: string;
  /** The bookkeeping that failed besides. */
  readonly problems: readonly string[];
  /** The verification's line (core/automation), when it was recorded. */
  readonly verification: string | undefined;
}

export function rollbackNotice(f: RollbackFacts): Notice {
  const ok = f.writeError === undefined;
  return {
    subject: ok
      ? `[${f.environment}] Traffic shift to ${f.to} ROLLED BACK`
      : `[${f.environment}] Traffic shift to ${f.to}: ROLLBACK FAILED`,
    lines: [
      ok
        ? `Shift to ${f.to} rolled back (${f.environment}): ${f.why}.`
        : `Shift to ${f.to} (${f.environment}) had to be rolled back (${f.why}), but writing the weights FAILED: ${f.writeError}`,
      '',
      `Weights ${ok ? 'restored to' : 'to restore'}: ${formatWeights(f.from)} (listener and ${f.weightsParameter}).`,
      `Execution: ${f.executionArn}`,
      ...(f.problems.length > 0 ? ['', 'Also failed:', ...f.problems.map((p) => `- ${p}`)] : []),
      ...(f.verification === undefined ? [] : ['', f.verification]),
      '',
      ok
        ? 'Check with `npm run ops -- weights`.'
        : 'Run `npm run ops -- rollback` now, then check with `npm run ops -- weights`.',
    ],
  };
}

/** What a completed shift did. */
export interface FinishFacts {
  readonly environment: string;
  readonly to: string;
  readonly requestedBy: string;
  /** The weights it started from, as text ('unknown' when not recorded). */
  readonly fromText: string;
  readonly final: Weights;
  readonly executionArn: string;
}

export function finishNotice(f: FinishFacts): Notice {
  return {
    subject: `[${f.environment}] Traffic shift to ${f.to} completed`,
    lines: [
      `Shift to ${f.to} completed (${f.environment}), requested by ${f.requestedBy}.`,
      '',
      `Weights: ${f.fromText} -> ${formatWeights(f.final)}.`,
      `Execution: ${f.executionArn}`,
      '',
      `Within the automatic rollback window, a P0 alarm restores ${f.fromText}.`,
    ],
  };
}

/** What an abort did. */
export interface AbortFacts {
  readonly environment: string;
  readonly to: string;
  readonly why: string;
  /** The weights it restored (or tried to); null when nothing needed restoring. */
  readonly restore: Weights | null;
  /** The weights write's error, when it failed. */
  readonly writeError: string | undefined;
  readonly weightsParameter: string;
  /** Whether the execution is the recorded in-progress shift. */
  readonly ours: boolean;
  readonly executionArn: string;
  readonly failures: readonly string[];
}

export function abortNotice(f: AbortFacts): Notice {
  const failed = f.writeError !== undefined;
  return {
    subject: `[${f.environment}] Traffic shift to ${f.to} ABORTED${failed ? ': weights NOT restored' : ''}`,
    lines: [
      `Shift to ${f.to} (${f.environment}) ${f.why}.`,
      '',
      f.restore
        ? !failed
          ? `Weights restored to ${formatWeights(f.restore)} (listener and ${f.weightsParameter}).`
          : `Restoring ${formatWeights(f.restore)} FAILED: ${f.writeError}. Run \`npm run ops -- rollback\`.`
        : `No weights restored (${f.ours ? 'the live weights are the ones the shift started from' : 'this execution is not the recorded in-progress shift'}).`,
      `Execution: ${f.executionArn}`,
      ...(f.failures.length > 0 ? ['', 'Failed:', ...f.failures.map((x) => `- ${x}`)] : []),
    ],
  };
}
