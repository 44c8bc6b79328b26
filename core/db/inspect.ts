/**
 * What crosses between `ops db` and the db-inspect Lambda: the event (which fixed reports, with
 * bounded options; never SQL) and the result. The handler parses the event with this schema
 * and the CLI builds it from the same types, so the two cannot disagree.
 */
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';

/** The runbook's database checks, each a fixed query in reports.ts. */
export const INSPECT_REPORTS = ['queries', 'unused-indexes', 'tables', 'hnsw'] as const;
export type InspectReportName = (typeof INSPECT_REPORTS)[number];

/** Rows per report: the runbook's `LIMIT 20`. */
export const DEFAULT_INSPECT_LIMIT = 20;
/** The most rows a report returns: keeps the response far below Lambda's 6 MB. */
export const MAX_INSPECT_LIMIT = 100;

/** The event: `{ "reports": ["queries"], "limit": 20 }`. Unknown fields are ignored. */
export const inspectEventSchema = z.object({
  reports: z
    .array(z.enum(INSPECT_REPORTS))
    .min(1, 'name at least one report')
    .transform((names) => [...new Set(names)]),
  limit: z.number().int().min(1).max(MAX_INSPECT_LIMIT).default(DEFAULT_INSPECT_LIMIT),
});

/** A parsed event. */
export type InspectEvent = z.output<typeof inspectEventSchema>;
/** What a caller sends (limit optional). */
export type InspectRequest = z.input<typeof inspectEventSchema>;

/** One statement of pg_stat_statements (the runbook's query, times in milliseconds). */
export interface QueryStat {
  readonly query: string;
  readonly calls: number;
  readonly meanExecTimeMs: number;
  readonly totalExecTimeMs: number;
  readonly rows: number;
}

/** An index never scanned since the statistics were reset, that backs no constraint. */
export interface UnusedIndex {
  readonly schema: string;
  readonly table: string;
  readonly index: string;
  readonly scans: number;
  readonly bytes: number;
  readonly size: string;
  readonly definition: string;
}

/** One table of the runbook's bloat check, with its dead tuples and last (auto)vacuum. */
export interface TableStat {
  readonly schema: string;
  readonly table: string;
  /** Table, indexes and TOAST (pg_total_relation_size, the runbook's figure). */
  readonly totalBytes: number;
  readonly totalSize: string;
  readonly liveTuples: number;
  readonly deadTuples: number;
  /** dead / (live + dead), 0 when the table is empty. */
  readonly deadRatio: number;
  readonly lastVacuum: string | null;
  readonly lastAutovacuum: string | null;
  readonly lastAnalyze: string | null;
  readonly lastAutoanalyze: string | null;
}

/** The HNSW index of bluematrix_reports.embedding. */
export interface HnswIndexState {
  readonly index: string;
  readonly table: string;
  readonly definition: string;
  readonly method: string;
  readonly valid: boolean;
  readonly bytes: number;
  readonly size: string;
  /** Its storage parameters, e.g. `{ m: '16', ef_construction: '200' }`. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly scans: number | null;
  /** The planner's row estimate of the table (reltuples; -1 before the first ANALYZE). */
  readonly tableRowsEstimate: number;
  /** The last create/rebuild the migration runner recorded (schema_index_builds). */
  readonly lastBuild: {
    readonly action: string;
    readonly parameters: string;
    readonly builtAt: string;
  } | null;
}

/** The outcome of one report: its rows, why it cannot run here, or what failed. */
export type ReportOutcome<T> =
  | { readonly status: 'ok'; readonly rows: readonly T[] }
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string; readonly code?: string };

/** The rows of each report. */
export interface ReportRows {
  readonly queries: QueryStat;
  readonly 'unused-indexes': UnusedIndex;
  readonly tables: TableStat;
  readonly hnsw: HnswIndexState;
}

/** What the Lambda returns. */
export interface InspectResult {
  readonly database: string;
  readonly serverVersion: string;
  /** The database's clock when the reports ran (ISO 8601). */
  readonly at: string;
  /** Since when the usage statistics (index scans, dead tuples) count; null if never reset. */
  readonly statsSince: string | null;
  readonly limit: number;
  readonly reports: { readonly [K in InspectReportName]?: ReportOutcome<ReportRows[K]> };
}
