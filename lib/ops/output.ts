/** Output of the ops CLI: text for humans, one JSON document with --json. */

import type { TextSink } from './clients';
import { EXIT } from './errors';

/** What a command returns: the exit code, its data (printed with --json) and its text. */
export interface CommandResult {
  readonly exitCode: number;
  readonly data: unknown;
  readonly lines: readonly string[];
}

/** Where a command writes while it runs. */
export class Output {
  constructor(
    private readonly stdout: TextSink,
    private readonly stderr: TextSink,
    readonly json: boolean,
  ) {}

  /** Progress of a long command: stdout for humans, stderr with --json (stdout holds the JSON). */
  progress(line: string): void {
    (this.json ? this.stderr : this.stdout).write(`${line}\n`);
  }

  /** A command's result. */
  result(result: CommandResult): void {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`);
    } else if (result.lines.length > 0) {
      this.stdout.write(`${result.lines.join('\n')}\n`);
    }
  }

  /** An error: on stderr for humans; with --json, a JSON error document on stdout as well. */
  error(message: string, exitCode: number, extra: readonly string[] = []): void {
    this.stderr.write(`${[message, ...extra].join('\n')}\n`);
    if (this.json) this.stdout.write(`${JSON.stringify({ error: message, exitCode }, null, 2)}\n`);
  }

  /** Text for the user only (usage), on stderr. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }
}

/**
 * The result of a command that reads several sources: what could not be read is listed last,
 * and the exit code says the picture is incomplete.
 */
export function readResult(
  lines: readonly string[],
  errors: readonly string[],
  data: unknown,
): CommandResult {
  if (errors.length === 0) return { exitCode: EXIT.ok, lines, data };
  return {
    exitCode: EXIT.failed,
    lines: [...lines, '', 'Could not read:', ...errors.map((e) => `- ${e}`)],
    data,
  };
}

/** Recorded entries as an indented table; UNKNOWN when they could not be read. */
export function recordsTable(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string>> | undefined,
): string[] {
  if (rows === undefined) return ['  UNKNOWN'];
  if (rows.length === 0) return ['  none recorded'];
  return table([header, ...rows], '  ');
}

/** Rows as aligned columns (two spaces apart); the last column is not padded. */
export function table(rows: ReadonlyArray<ReadonlyArray<string>>, indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}

/** "2026-11-25 04:12:35Z" of an ISO time or a Date; "-" when undefined. */
export function when(time: string | Date | undefined): string {
  if (time === undefined) return '-';
  const date = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) return String(time);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** "3 min ago", "2 h ago", "5 d ago". */
export function ago(time: string | Date | undefined, now: Date): string {
  if (time === undefined) return '';
  const ms = now.getTime() - (typeof time === 'string' ? Date.parse(time) : time.getTime());
  if (!Number.isFinite(ms)) return '';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}
