import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
  /**
   * CPU seconds (user + system) of the command and every process it waited for, where the OS
   * says (Linux); on a shared machine the figure that load does not inflate much, unlike `ms`.
   */
  readonly cpuSeconds?: number;
}

/**
 * CPU seconds of this process's waited-for children (cutime + cstime of /proc/self/stat, which
 * include their own waited-for children), or undefined where there is no /proc.
 */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime are fields 16 and 17 of the line, 14 and 15 after the name; clock
    // ticks, 100 a second on Linux.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion and measures its wall time (spawn included, as a user sees it). */
export function timedRun(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv },
): TimedRun {
  const cpuBefore = childrenCpuSeconds();
  const start = performance.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  const cpuAfter = childrenCpuSeconds();
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (cpuBefore === undefined || cpuAfter === undefined) return { ms, status: result.status, output };
  return { ms, status: result.status, output, cpuSeconds: cpuAfter - cpuBefore };
}
