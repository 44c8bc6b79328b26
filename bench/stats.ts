import { spawnSync } from 'node:child_process';

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

/** The result of {@link timedRun}. */
export interface TimedRun {
  readonly ms: number;
  readonly status: number | null;
  readonly output: string;
}

/** Runs a command to completion and measures its wall time (spawn included, as a user sees it). */
export function timedRun(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv },
): TimedRun {
  const start = performance.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  return { ms, status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
