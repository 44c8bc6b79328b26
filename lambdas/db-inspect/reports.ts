/**
 * The runbook's database checks as fixed, read-only SQL: the slowest statements of
 * pg_stat_statements, unused indexes, table sizes with dead tuples (bloat), and the HNSW
 * index. Nothing here takes SQL from outside: a caller picks reports by name and a row limit.
 */

import {
  type HnswIndexState,
  type InspectEvent,
  type InspectReportName,
  type InspectResult,
  MAX_INSPECT_LIMIT,
  type QueryStat,
  type ReportOutcome,
  type ReportRows,
  type TableStat,
  type UnusedIndex,
} from '../../core/db/inspect';
import { InvalidInputError } from '../../core/errors';
import { HNSW_INDEX_NAME } from '../db-migrate/logic';
import type { SqlClient } from '../shared/db';

/** The schema of the system's tables (the runbook's bloat check looks at `public`). */
const SCHEMA = 'public';

/** Longest query text returned: enough to recognise a statement, bounded for the response. */
const MAX_QUERY_CHARS = 2000;

/** @default 10 s: every report is a catalogue or statistics read that takes milliseconds. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

/** Options of {@link runInspection}. */
export interface InspectOptions {
  /** Server-side limit of each statement. @default DEFAULT_STATEMENT_TIMEOUT_MS */
  readonly statementTimeoutMs?: number;
}

/** A report's own "cannot run here", as opposed to a failure. */
class Unavailable extends Error {}

type Row = Record<string, unknown>;

/**
 * Runs `work` in a READ ONLY transaction with a statement timeout, and always rolls it back:
 * a write fails (SQLSTATE 25006) whatever the SQL, and nothing the reports do can persist.
 */
export async function inReadOnlyTransaction<T>(
  client: SqlClient,
  statementTimeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 1 || statementTimeoutMs > 600_000) {
    throw new InvalidInputError(`statementTimeoutMs must be 1..600000, got ${statementTimeoutMs}`);
  }
  await client.query('BEGIN TRANSACTION READ ONLY');
  let result: T;
  try {
    // SET LOCAL takes no parameters; the value is a checked integer.
    await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
    result = await work();
  } catch (error) {
    // The report's own error is the one to tell; a failed rollback would only hide it.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  await client.query('ROLLBACK');
  return result;
}

const num = (value: unknown): number => Number(value ?? 0);
const iso = (value: unknown): string | null =>
  value === null || value === undefined ? null : new Date(value as string | Date).toISOString();

async function queryStats(client: SqlClient, limit: number): Promise<QueryStat[]> {
  const { rows: presence } = await client.query<{ present: boolean }>(
    `SELECT to_regclass('pg_stat_statements') IS NOT NULL AS present`,
  );
  if (!presence[0]?.present) {
    throw new Unavailable(
      'pg_stat_statements is not installed in this database (the migrations create the extension; ' +
        'the parameter group preloads it): run `CREATE EXTENSION pg_stat_statements` or redeploy the stateful stack',
    );
  }
  try {
    // The runbook's query, for this database only (the view counts every database's
    // statements, rdsadmin's included), with the totals that tell a hot path from a rare one.
    const { rows } = await client.query<Row>(
      `SELECT left(s.query, $2) AS query, s.calls, s.mean_exec_time, s.total_exec_time, s.rows
         FROM pg_stat_statements s
        WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY s.mean_exec_time DESC
        LIMIT $1`,
      [limit, MAX_QUERY_CHARS],
    );
    return rows.map((r) => ({
      query: String(r.query),
      calls: num(r.calls),
      meanExecTimeMs: num(r.mean_exec_time),
      totalExecTimeMs: num(r.total_exec_time),
      rows: num(r.rows),
    }));
  } catch (error) {
    // Installed but not preloaded: "pg_stat_statements must be loaded via shared_preload_libraries".
    if ((error as { code?: unknown }).code === '55000') {
      throw new Unavailable(`pg_stat_statements is installed but not loaded: ${(error as Error).message}`);
    }
    throw error;
  }
}

async function unusedIndexes(client: SqlClient, limit: number): Promise<UnusedIndex[]> {
  // The runbook's `idx_scan = 0`, without the indexes that enforce something whether or not a
  // query scans them: primary keys, unique indexes and any index backing a constraint.
  const { rows } = await client.query<Row>(
    `SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index, s.idx_scan AS scans,
            pg_relation_size(s.indexrelid) AS bytes,
            pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
            pg_get_indexdef(s.indexrelid) AS definition
       FROM pg_stat_user_indexes s
       JOIN pg_index i ON i.indexrelid = s.indexrelid
      WHERE s.idx_scan = 0
        AND NOT i.indisunique AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
      ORDER BY pg_relation_size(s.indexrelid) DESC, s.schemaname, s.indexrelname
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    schema: String(r.schema),
    table: String(r.table),
    index: String(r.index),
    scans: num(r.scans),
    bytes: num(r.bytes),
    size: String(r.size),
    definition: String(r.definition),
  }));
}

async function tableStats(client: SqlClient, limit: number): Promise<TableStat[]> {
  // The runbook's "Check for bloat" (pg_total_relation_size of public's tables, largest first)
  // joined by oid, so a name that needs quoting cannot break it, plus the dead tuples.
  const { rows } = await client.query<Row>(
    `SELECT t.schemaname AS schema, t.tablename AS table,
            pg_total_relation_size(c.oid) AS total_bytes,
            pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
            s.n_live_tup AS live, s.n_dead_tup AS dead,
            s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
       FROM pg_tables t
       JOIN pg_namespace n ON n.nspname = t.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
       LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
      WHERE t.schemaname = $2
      ORDER BY pg_total_relation_size(c.oid) DESC, t.tablename
      LIMIT $1`,
    [limit, SCHEMA],
  );
  return rows.map((r) => {
    const live = num(r.live);
    const dead = num(r.dead);
    return {
      schema: String(r.schema),
      table: String(r.table),
      totalBytes: num(r.total_bytes),
      totalSize: String(r.total_size),
      liveTuples: live,
      deadTuples: dead,
      deadRatio: live + dead === 0 ? 0 : dead / (live + dead),
      lastVacuum: iso(r.last_vacuum),
      lastAutovacuum: iso(r.last_autovacuum),
      lastAnalyze: iso(r.last_analyze),
      lastAutoanalyze: iso(r.last_autoanalyze),
    };
  });
}

/** `{m=16,ef_construction=200}` (reloptions) as an object. */
function parseOptions(value: unknown): Record<string, string> {
  const list = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.replace(/^\{|\}$/g, '').split(',')
      : [];
  return Object.fromEntries(
    list
      .map((o) => String(o).split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && kv[0] !== '')
      .map(([k, v]) => [k, v]),
  );
}

async function hnswIndex(client: SqlClient): Promise<HnswIndexState[]> {
  const { rows } = await client.query<Row>(
    `SELECT c.relname AS index, t.relname AS table, pg_get_indexdef(i.indexrelid) AS definition,
            am.amname AS method, i.indisvalid AS valid,
            pg_relation_size(i.indexrelid) AS bytes,
            pg_size_pretty(pg_relation_size(i.indexrelid)) AS size,
            c.reloptions AS options, s.idx_scan AS scans, t.reltuples AS table_rows,
            to_regclass(format('%I.schema_index_builds', n.nspname)) IS NOT NULL AS has_builds
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_am am ON am.oid = c.relam
       LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
      WHERE n.nspname = $1 AND c.relname = $2`,
    [SCHEMA, HNSW_INDEX_NAME],
  );
  const row = rows[0];
  if (!row) {
    throw new Unavailable(
      `${HNSW_INDEX_NAME} does not exist: the migration runner creates it at deploy time (redeploy the stateful stack)`,
    );
  }
  let lastBuild: HnswIndexState['lastBuild'] = null;
  if (row.has_builds === true) {
    const { rows: builds } = await client.query<Row>(
      `SELECT action, parameters, built_at FROM ${SCHEMA}.schema_index_builds
        WHERE index_name = $1 ORDER BY built_at DESC, id DESC LIMIT 1`,
      [HNSW_INDEX_NAME],
    );
    const build = builds[0];
    if (build) {
      lastBuild = {
        action: String(build.action),
        parameters: String(build.parameters),
        builtAt: iso(build.built_at) ?? '',
      };
    }
  }
  return [
    {
      index: String(row.index),
      table: String(row.table),
      definition: String(row.definition),
      method: String(row.method),
      valid: row.valid === true,
      bytes: num(row.bytes),
      size: String(row.size),
      parameters: parseOptions(row.options),
      scans: row.scans === null || row.scans === undefined ? null : num(row.scans),
      tableRowsEstimate: num(row.table_rows),
      lastBuild,
    },
  ];
}

const REPORTS: {
  readonly [K in InspectReportName]: (c: SqlClient, limit: number) => Promise<ReportRows[K][]>;
} = {
  queries: queryStats,
  'unused-indexes': unusedIndexes,
  tables: tableStats,
  hnsw: (client) => hnswIndex(client),
};

/**
 * Runs the reports `event` names, each in its own read-only transaction: one that fails or
 * cannot run here (no pg_stat_statements, no index) is reported as such and the others still
 * run. Throws only on bad options; a lost connection surfaces as the failure of each report.
 */
export async function runInspection(
  client: SqlClient,
  event: InspectEvent,
  options: InspectOptions = {},
): Promise<InspectResult> {
  const timeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (!Number.isInteger(event.limit) || event.limit < 1 || event.limit > MAX_INSPECT_LIMIT) {
    throw new InvalidInputError(`limit must be a whole number 1..${MAX_INSPECT_LIMIT}, got ${event.limit}`);
  }
  const header = await inReadOnlyTransaction(client, timeout, async () => {
    const { rows } = await client.query<Row>(
      `SELECT current_database() AS database, current_setting('server_version') AS version, now() AS at,
              (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset`,
    );
    return rows[0] ?? {};
  });
  const reports: Record<string, ReportOutcome<unknown>> = {};
  for (const name of event.reports) {
    try {
      const report: (c: SqlClient, limit: number) => Promise<unknown[]> = REPORTS[name];
      const rows = await inReadOnlyTransaction(client, timeout, () => report(client, event.limit));
      reports[name] = { status: 'ok', rows };
    } catch (error) {
      if (error instanceof Unavailable) {
        reports[name] = { status: 'unavailable', reason: error.message };
      } else {
        const code = (error as { code?: unknown }).code;
        reports[name] = {
          status: 'failed',
          error: error instanceof Error ? error.message : String(error),
          ...(typeof code === 'string' ? { code } : {}),
        };
      }
    }
  }
  return {
    database: String(header.database),
    serverVersion: String(header.version),
    at: iso(header.at) ?? '',
    statsSince: iso(header.stats_reset),
    limit: event.limit,
    reports: reports as InspectResult['reports'],
  };
}
