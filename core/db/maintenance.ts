import { AutomationError, InvalidInputError } from '../errors';
import type { SqlClient } from './sql';

/**
 * The runbook's tables: the weekly job vacuums and reindexes each of them. batch_audit_archive
 * is left out on purpose: it is append-only (no dead tuples to reclaim, no index churn) and
 * the monthly database-wide ANALYZE keeps its statistics current.
 */
export const MAINTENANCE_TABLES: readonly string[] = Object.freeze([
  'stock_summaries',
  'citations',
  'bluematrix_reports',
  'batch_audit',
  'source_documents',
  'batch_runs',
]);

/** Every schema object of the system lives in `public` (the runbook's queries assume it). */
const SCHEMA = 'public';

/** @default 10,000 rows per archive transaction */
export const DEFAULT_ARCHIVE_BATCH_SIZE = 10_000;

/** Upper bound of batchSize: one batch is one transaction, and that is what the batches exist to bound. */
export const MAX_ARCHIVE_BATCH_SIZE = 100_000;

const DAY_MS = 86_400_000;

/** A step of the weekly or monthly job, as named in logs, errors and metrics. */
export type MaintenanceStep =
  | 'drop-invalid-indexes'
  | 'vacuum'
  | 'reindex'
  | 'table-sizes'
  | 'archive'
  | 'analyze'
  | 'index-health';

/** The subset of the Powertools logger the jobs use, so tests can pass nothing or a spy. */
export interface MaintenanceLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** One failed step; `table` is set when the step works table by table. */
export interface MaintenanceFailure {
  readonly step: MaintenanceStep;
  readonly table?: string;
  readonly message: string;
  /** The PostgreSQL SQLSTATE when the database raised the error (57014 = statement timeout). */
  readonly code?: string;
}

/** What the weekly job did. */
export interface WeeklyReport {
  /** Tables vacuumed and analyzed, in the order given. */
  vacuumed: string[];
  /** Tables whose indexes were rebuilt concurrently, in the order given. */
  reindexed: string[];
  /** Every table of the schema, largest first (the runbook's bloat check). */
  tableSizes: Array<{ table: string; bytes: number; size: string }>;
  /**
   * Invalid leftovers of an interrupted REINDEX CONCURRENTLY (`*_ccnew`, `*_ccold`) that were
   * dropped before reindexing; REINDEX TABLE CONCURRENTLY skips them, so they would otherwise
   * slow every write forever.
   */
  droppedInvalidIndexes: string[];
}

/** What the monthly job did. */
export interface MonthlyReport {
  analyzed: true;
  /** batch_audit rows moved to batch_audit_archive by this run. */
  archivedRows: number;
  /** Archive transactions that moved at least one row. */
  batches: number;
  /** Rows created strictly before this instant were archived (ISO 8601). */
  cutoff: string;
  /** Indexes never scanned since statistics were last reset, except those backing a constraint. */
  unusedIndexes: Array<{ index: string; scans: number }>;
}

/**
 * One or more maintenance steps failed. `step`/`table` name the first failure, `failures`
 * lists all of them, and `partialReport` holds what did complete (archive batches that
 * committed stay committed).
 */
export class MaintenanceError extends AutomationError {
  readonly step: MaintenanceStep;
  readonly table: string | undefined;
  readonly failures: readonly MaintenanceFailure[];
  readonly partialReport: Partial<WeeklyReport> | Partial<MonthlyReport>;

  constructor(
    task: 'weekly' | 'monthly',
    failures: readonly [MaintenanceFailure, ...MaintenanceFailure[]],
    partialReport: Partial<WeeklyReport> | Partial<MonthlyReport>,
    options?: ErrorOptions,
  ) {
    const list = failures.map((f) => `${f.step}${f.table ? ` of ${f.table}` : ''}: ${f.message}`).join('; ');
    super(`${task} maintenance failed in ${failures.length} step(s): ${list}`, options);
    this.step = failures[0].step;
    this.table = failures[0].table;
    this.failures = failures;
    this.partialReport = partialReport;
  }
}

/** Options of {@link runWeeklyMaintenance}. */
export interface WeeklyOptions {
  /** @default MAINTENANCE_TABLES */
  readonly tables?: readonly string[];
  readonly logger?: MaintenanceLogger;
}

/** Options of {@link runMonthlyMaintenance}. */
export interface MonthlyOptions {
  /** The instant the cutoff is computed from. @default new Date() */
  readonly now?: Date;
  /** Rows older than this many days are archived (config `database.archiveRetentionDays`). */
  readonly retentionDays: number;
  /** Rows per archive transaction. @default DEFAULT_ARCHIVE_BATCH_SIZE */
  readonly batchSize?: number;
  readonly logger?: MaintenanceLogger;
}

const silentLogger: MaintenanceLogger = { info: () => undefined, warn: () => undefined };

/**
 * The weekly job: drops invalid leftovers of interrupted concurrent reindexes, then
 * `VACUUM (ANALYZE)` and `REINDEX TABLE CONCURRENTLY` each table, then measures table sizes.
 *
 * Each statement runs on its own: neither VACUUM nor REINDEX CONCURRENTLY may run inside a
 * transaction block, and both take only SHARE UPDATE EXCLUSIVE locks, so readers and writers
 * carry on. A failing table does not stop the others (both commands are safe to rerun); all
 * failures are thrown together as one MaintenanceError once every step has been tried.
 */
export async function runWeeklyMaintenance(
  client: SqlClient,
  options: WeeklyOptions = {},
): Promise<WeeklyReport> {
  const tables = (options.tables ?? MAINTENANCE_TABLES).map(validateTableName);
  const logger = options.logger ?? silentLogger;
  const failures: MaintenanceFailure[] = [];
  const errors: unknown[] = [];
  const report: WeeklyReport = { vacuumed: [], reindexed: [], tableSizes: [], droppedInvalidIndexes: [] };

  const attempt = async (step: MaintenanceStep, table: string | undefined, work: () => Promise<void>) => {
    const started = Date.now();
    try {
      await work();
      logger.info('Maintenance step done', { step, table, durationMs: Date.now() - started });
    } catch (error) {
      const failure = toFailure(step, table, error);
      failures.push(failure);
      errors.push(error);
      logger.warn('Maintenance step failed; continuing with the next', {
        ...failure,
        durationMs: Date.now() - started,
      });
    }
  };

  // Before the reindex, so the reindex is not left running next to an invalid twin that
  // every insert and update still has to maintain.
  await attempt('drop-invalid-indexes', undefined, async () => {
    const { rows } = await client.query<{ index: string }>(
      `SELECT ic.relname AS index
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND NOT i.indisvalid
          AND ic.relname ~ '_cc(new|old)[0-9]*$'
        ORDER BY ic.relname`,
      [SCHEMA, tables],
    );
    for (const { index } of rows) {
      // CONCURRENTLY for the same reason as the reindex: no lock that blocks readers.
      await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualify(index)}`);
      report.droppedInvalidIndexes.push(index);
    }
  });

  for (const table of tables) {
    await attempt('vacuum', table, async () => {
      await client.query(`VACUUM (ANALYZE) ${qualify(table)}`);
      report.vacuumed.push(table);
    });
  }
  for (const table of tables) {
    await attempt('reindex', table, async () => {
      await client.query(`REINDEX TABLE CONCURRENTLY ${qualify(table)}`);
      report.reindexed.push(table);
    });
  }

  await attempt('table-sizes', undefined, async () => {
    // The runbook's bloat check, with format('%I.%I') instead of string concatenation so a
    // table whose name needs quoting cannot break the query.
    const { rows } = await client.query<{ table: string; bytes: string | number; size: string }>(
      `SELECT tablename AS table,
              pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass) AS bytes,
              pg_size_pretty(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)) AS size
         FROM pg_tables
        WHERE schemaname = $1
        ORDER BY bytes DESC, tablename`,
      [SCHEMA],
    );
    report.tableSizes = rows.map((r) => ({ table: r.table, bytes: Number(r.bytes), size: r.size }));
  });

  throwIfFailed('weekly', failures, errors, report);
  return report;
}

/**
 * The monthly job: moves batch_audit rows older than the retention period to
 * batch_audit_archive, then `ANALYZE`s the database (after the archive, so the planner sees
 * the smaller table) and lists unused indexes (the runbook's index health check).
 *
 * The archive runs in batches of `batchSize` rows, one transaction each, until a batch finds
 * nothing left: a year of backlog never becomes one giant transaction holding locks and WAL,
 * and a failure loses at most the current batch's progress, never rows. If the archive fails,
 * ANALYZE and the index check still run (they are independent and harmless), then the
 * failures are thrown together as one MaintenanceError.
 */
export async function runMonthlyMaintenance(
  client: SqlClient,
  options: MonthlyOptions,
): Promise<MonthlyReport> {
  const { retentionDays } = options;
  const batchSize = options.batchSize ?? DEFAULT_ARCHIVE_BATCH_SIZE;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new InvalidInputError(`retentionDays must be a whole number of days >= 1, got ${retentionDays}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_ARCHIVE_BATCH_SIZE) {
    throw new InvalidInputError(
      `batchSize must be a whole number from 1 to ${MAX_ARCHIVE_BATCH_SIZE}, got ${batchSize}`,
    );
  }
  const now = options.now ?? new Date();
  if (Number.isNaN(now.getTime())) throw new InvalidInputError('now is not a valid date');
  const logger = options.logger ?? silentLogger;

  // Captured once for every batch: rows that age past the line while the job runs wait for
  // next month instead of making the loop chase a moving target.
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
  const report: MonthlyReport = { analyzed: true, archivedRows: 0, batches: 0, cutoff, unusedIndexes: [] };
  const failures: MaintenanceFailure[] = [];
  const errors: unknown[] = [];

  const started = Date.now();
  try {
    for (;;) {
      const moved = await archiveBatch(client, cutoff, batchSize);
      if (moved === 0) break;
      report.archivedRows += moved;
      report.batches += 1;
      logger.info('Archive batch committed', { step: 'archive', batch: report.batches, rows: moved, cutoff });
    }
    logger.info('Maintenance step done', {
      step: 'archive',
      archivedRows: report.archivedRows,
      batches: report.batches,
      durationMs: Date.now() - started,
    });
  } catch (error) {
    const failure = toFailure('archive', 'batch_audit', error);
    failures.push(failure);
    errors.push(error);
    logger.warn('Archive stopped; committed batches stay archived, the failed batch was rolled back', {
      ...failure,
      archivedRows: report.archivedRows,
      batches: report.batches,
    });
  }

  try {
    // Database-wide like the runbook's ANALYZE VERBOSE; VERBOSE only prints progress
    // messages nobody reads in a Lambda.
    await client.query('ANALYZE');
    logger.info('Maintenance step done', { step: 'analyze' });
  } catch (error) {
    failures.push(toFailure('analyze', undefined, error));
    errors.push(error);
  }

  try {
    // Indexes backing a primary key or unique constraint are left out: they enforce
    // integrity whether or not a query ever scans them, so they are never drop candidates.
    const { rows } = await client.query<{ index: string; scans: string | number }>(
      `SELECT s.indexrelname AS index, s.idx_scan AS scans
         FROM pg_stat_user_indexes s
         JOIN pg_index i ON i.indexrelid = s.indexrelid
        WHERE s.schemaname = $1 AND s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
        ORDER BY s.idx_scan ASC, s.indexrelname`,
      [SCHEMA],
    );
    report.unusedIndexes = rows.map((r) => ({ index: r.index, scans: Number(r.scans) }));
  } catch (error) {
    failures.push(toFailure('index-health', undefined, error));
    errors.push(error);
  }

  throwIfFailed('monthly', failures, errors, report);
  return report;
}

/**
 * Moves up to `limit` rows created before `cutoff` and returns how many moved.
 *
 * One statement rather than BEGIN/INSERT/DELETE/COMMIT: the INSERT archives exactly the rows
 * the DELETE's RETURNING hands it, so a row inserted or updated concurrently can neither be
 * deleted without being copied nor copied twice, and a single statement is atomic without
 * relying on the caller's connection handling transactions (no BEGIN left open on an RDS
 * Proxy session if the Lambda dies). Any failure, such as a primary-key clash in the archive,
 * rolls back the DELETE with it.
 */
async function archiveBatch(client: SqlClient, cutoff: string, limit: number): Promise<number> {
  const { rows } = await client.query<{ moved: number | string }>(
    `WITH doomed AS (
       SELECT id FROM batch_audit
        WHERE created_at < $1::timestamptz
        ORDER BY created_at, id
        LIMIT $2
     ), moved AS (
       DELETE FROM batch_audit a
        USING doomed
        WHERE a.id = doomed.id
        RETURNING a.id, a.batch_run_id, a.ticker, a.tier, a.event, a.status, a.model_used,
                  a.cost_usd, a.details, a.created_at
     ), archived AS (
       INSERT INTO batch_audit_archive
              (id, batch_run_id, ticker, tier, event, status, model_used, cost_usd, details, created_at)
       SELECT id, batch_run_id, ticker, tier, event, status, model_used, cost_usd, details, created_at
         FROM moved
       RETURNING 1
     )
     SELECT count(*)::int AS moved FROM archived`,
    [cutoff, limit],
  );
  return Number(rows[0]?.moved ?? 0);
}

/**
 * Lower-case SQL identifiers only: the tables come from configuration, and a name that needs
 * more than quoting to be safe is a mistake to report, not to escape.
 */
function validateTableName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new InvalidInputError(
      `Invalid table name ${JSON.stringify(name)}: expected a lower-case SQL identifier`,
    );
  }
  return name;
}

function qualify(name: string): string {
  return `"${SCHEMA}"."${name.replaceAll('"', '""')}"`;
}

function toFailure(step: MaintenanceStep, table: string | undefined, error: unknown): MaintenanceFailure {
  const message = error instanceof Error ? error.message : String(error);
  const code =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  return { step, ...(table ? { table } : {}), message, ...(code ? { code } : {}) };
}

function throwIfFailed(
  task: 'weekly' | 'monthly',
  failures: MaintenanceFailure[],
  errors: unknown[],
  report: WeeklyReport | MonthlyReport,
): void {
  const [first, ...rest] = failures;
  if (!first) return;
  const cause =
    errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} maintenance steps failed`);
  throw new MaintenanceError(task, [first, ...rest], report, { cause });
}

/** The maintenance tasks a schedule (or `ops db maintenance`) asks for: `{ "task": "weekly" }`. */
export const MAINTENANCE_TASKS = ['weekly', 'monthly'] as const;

/** The maintenance task a schedule asks for. */
export type MaintenanceTask = (typeof MAINTENANCE_TASKS)[number];

/** The db-maintenance function's result, also logged. */
export type MaintenanceResult =
  | { task: 'weekly'; report: WeeklyReport }
  | { task: 'monthly'; report: MonthlyReport };
