/**
 * CloudWatch Logs Insights for `ops diagnose`: the runbook's error table (LOG_PATTERNS, the
 * metric filters' patterns) translated into one counting query, the ERROR sample query, and a
 * runner that polls a query to its end within a bound.
 *
 * Why Insights and not FilterLogEvents: the counts are aggregated by the service (one query
 * counts every pattern, per colour and per 5-minute bin, however many lines match), where
 * FilterLogEvents would page through every matching event of each pattern and log group
 * (12 paging loops under a 5 requests/s quota); and the sample must be the newest lines, which
 * Insights sorts while FilterLogEvents returns the oldest first.
 */

import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  type ResultField,
  StartQueryCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { LogPattern } from '../../constructs/runbook';
import { OpsError } from '../errors';

/** A filter pattern of a form the translation does not know. */
export class UnsupportedPatternError extends OpsError {}

/** A query that did not end well, or not within its bound. */
export class InsightsQueryError extends OpsError {}

/** The counting query's bin: every alarm period of the error table is a multiple of it. */
export const BIN_MINUTES = 5;

const quote = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The two forms of one pattern: a filter (a boolean) and a flag (1 or 0, for sums). */
interface Translated {
  readonly filter: string;
  readonly flag: string;
}

/**
 * The Insights forms of a CloudWatch Logs filter pattern. Known forms, those of the error
 * table: `{ $.field = "value" }` (a JSON field equals a text), `"term"` (the line contains the
 * term) and `?"a" ?"b"` (it contains any of them). Anything else throws, so that a new row of
 * the table cannot be counted wrongly in silence.
 */
export function translatePattern(pattern: string): Translated {
  const json = /^\{\s*\$\.([A-Za-z_][\w.]*)\s*=\s*"([^"\\]*)"\s*\}$/.exec(pattern.trim());
  if (json) {
    const [, field = '', value = ''] = json;
    return {
      filter: `${field} = ${quote(value)}`,
      // Insights sums numbers, not comparisons: equality as containment of the delimited value.
      flag: `strcontains(concat("<", ${field}, ">"), ${quote(`<${value}>`)})`,
    };
  }
  const terms = /^(\?"[^"\\]+"\s*)+$/.test(pattern.trim())
    ? [...pattern.matchAll(/\?"([^"\\]+)"/g)].map((m) => m[1] ?? '')
    : /^"[^"\\]+"$/.test(pattern.trim())
      ? [pattern.trim().slice(1, -1)]
      : undefined;
  if (terms === undefined || terms.length === 0) {
    throw new UnsupportedPatternError(`Cannot translate the log filter pattern ${pattern} for Logs Insights`);
  }
  const contains = terms.map((t) => `strcontains(@message, ${quote(t)})`);
  return {
    filter: terms.map((t) => `@message like ${quote(t)}`).join(' or '),
    flag: contains.length === 1 ? (contains[0] as string) : `greatest(${contains.join(', ')})`,
  };
}

/** The field of the counting query's bin. */
export const BIN_FIELD = `bin(${BIN_MINUTES}m)`;

/**
 * One query counting every pattern per log group and 5-minute bin: each pattern's sum is
 * named by its metric.
 */
export function patternCountQuery(patterns: readonly LogPattern[]): string {
  const translated = patterns.map((p) => ({ metric: p.metric, ...translatePattern(p.pattern) }));
  return [
    `filter ${translated.map((t) => `(${t.filter})`).join(' or ')}`,
    `stats ${translated.map((t) => `sum(${t.flag}) as ${t.metric}`).join(', ')} by ${BIN_FIELD}, @log`,
  ].join('\n| ');
}

/** The newest lines matching `pattern`, at most `limit`. */
export function sampleQuery(pattern: LogPattern, limit: number): string {
  return [
    'fields @timestamp, @message',
    `filter ${translatePattern(pattern.pattern).filter}`,
    'sort @timestamp desc',
    `limit ${limit}`,
  ].join('\n| ');
}

/** One row of a query's results: field -> value. */
export type Row = Readonly<Record<string, string>>;

/** How {@link runQuery} polls. */
export interface QueryOptions {
  readonly sleep: (ms: number) => Promise<void>;
  /** Between two GetQueryResults. */
  readonly pollIntervalMs: number;
  /** The query is stopped and the source reported unavailable after this long. */
  readonly maxWaitMs: number;
}

/** What to query. */
export interface QuerySpec {
  readonly logGroupNames: readonly string[];
  readonly queryString: string;
  readonly start: Date;
  readonly end: Date;
}

/**
 * Runs a Logs Insights query to its end and returns its rows. Throws InsightsQueryError when
 * it fails, is cancelled or times out in the service, or is still running after `maxWaitMs`
 * (then it is stopped, so that it stops scanning and costing).
 */
export async function runQuery(
  logs: CloudWatchLogsClient,
  spec: QuerySpec,
  options: QueryOptions,
): Promise<Row[]> {
  const started = await logs.send(
    new StartQueryCommand({
      logGroupNames: [...spec.logGroupNames],
      // Insights takes seconds since the epoch.
      startTime: Math.floor(spec.start.getTime() / 1000),
      endTime: Math.ceil(spec.end.getTime() / 1000),
      queryString: spec.queryString,
    }),
  );
  const queryId = started.queryId;
  if (queryId === undefined) throw new InsightsQueryError('StartQuery returned no queryId');
  let waited = 0;
  for (;;) {
    const page = await logs.send(new GetQueryResultsCommand({ queryId }));
    const status = page.status ?? 'Unknown';
    if (status === 'Complete') return (page.results ?? []).map(rowOf);
    if (status !== 'Scheduled' && status !== 'Running') {
      throw new InsightsQueryError(`the Logs Insights query ended ${status}`);
    }
    if (waited >= options.maxWaitMs) {
      await logs.send(new StopQueryCommand({ queryId })).catch(() => undefined);
      throw new InsightsQueryError(
        `the Logs Insights query was still ${status} after ${Math.round(options.maxWaitMs / 1000)} s (stopped)`,
      );
    }
    await options.sleep(options.pollIntervalMs);
    waited += options.pollIntervalMs;
  }
}

function rowOf(fields: readonly ResultField[]): Row {
  const row: Record<string, string> = {};
  for (const f of fields) if (f.field !== undefined && f.value !== undefined) row[f.field] = f.value;
  return row;
}

/** An Insights time ("2026-11-25 04:05:00.000", UTC) as a Date; undefined if it is not one. */
export function insightsTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(`${text.trim().replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? '' : 'Z'}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
