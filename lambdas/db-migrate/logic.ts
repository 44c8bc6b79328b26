import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutomationError, InvalidInputError } from '../../core/errors';
import type { SqlClient } from '../shared/db';
import type { Logger } from '../shared/observability';

/**
 * Key of the session-level advisory lock every run holds from before it reads
 * schema_migrations until it is done: 0x464141494442 is ASCII "FAAIDB". Operators can see
 * a run in progress with `SELECT * FROM pg_locks WHERE locktype = 'advisory'`
 * (classid 17985, objid 1095320642).
 */
export const MIGRATION_LOCK_KEY = 0x464141494442;

/** Name of the HNSW index on bluematrix_reports.embedding, the one the runbook names. */
export const HNSW_INDEX_NAME = 'idx_bluematrix_embedding';

/** pgvector's HNSW limits (src/hnsw.h): m in 2..100, ef_construction in 4..1000 and >= 2*m. */
export const HNSW_LIMITS = { m: { min: 2, max: 100 }, efConstruction: { min: 4, max: 1000 } } as const;

/** One versioned SQL file, `NNNN_name.sql`. */
export interface Migration {
  /** The four digits, e.g. "0001"; ordering and identity. */
  readonly version: string;
  /** The part after the version, e.g. "core_schema". */
  readonly name: string;
  /** The file name, e.g. "0001_core_schema.sql"; what errors and results name. */
  readonly file: string;
  readonly sql: string;
  /** sha256 (hex) of the file's bytes, exactly as stored: any edit, even whitespace, counts. */
  readonly checksum: string;
}

/** HNSW build parameters of idx_bluematrix_embedding. */
export interface HnswOptions {
  readonly m: number;
  readonly efConstruction: number;
}

/** What a run creates and which index it keeps. */
export interface ApplyOptions {
  /** Extensions to create before any migration (production: vector, pg_stat_statements). */
  readonly extensions: readonly string[];
  readonly hnsw: HnswOptions;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

/** What a run did. */
export interface MigrationResult {
  /** Files applied by this run, in order. */
  applied: string[];
  /** Files a previous run had applied (checksums verified). */
  alreadyApplied: string[];
  hnswIndex: 'created' | 'rebuilt' | 'unchanged';
}

/** An applied migration's file changed; nothing was applied. Add a new migration instead. */
export class MigrationChecksumMismatchError extends AutomationError {}

/** A migration failed; its transaction was rolled back, earlier migrations stay applied. */
export class MigrationFailedError extends AutomationError {}

/** The advisory lock could not be taken; nothing was done. */
export class MigrationLockError extends AutomationError {}

/** Creating or rebuilding the HNSW index failed; its transaction was rolled back. */
export class IndexBuildFailedError extends AutomationError {}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const EXTENSION_PATTERN = /^[a-z_][a-z0-9_]*$/;

/**
 * Reads the `*.sql` files of a directory (other files are ignored), sorted by version, with
 * their checksums. Throws InvalidInputError for a name not of the form `NNNN_name.sql`, a
 * version used twice, an unreadable directory or one without migrations (a bundling error).
 */
export function loadMigrations(dir: string): Migration[] {
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.sql'))
      .map((entry) => entry.name);
  } catch (error) {
    throw new InvalidInputError(`Cannot read the migrations directory ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const byVersion = new Map<string, Migration>();
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new InvalidInputError(`Migration file ${file} is not named NNNN_name.sql (name: a-z, 0-9, _)`);
    }
    const version = match[1];
    const previous = byVersion.get(version);
    if (previous) {
      throw new InvalidInputError(
        `Migration version ${version} is used by both ${previous.file} and ${file}`,
      );
    }
    const bytes = readFileSync(join(dir, file));
    byVersion.set(version, {
      version,
      name: match[2],
      file,
      sql: bytes.toString('utf8'),
      checksum: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  if (byVersion.size === 0) throw new InvalidInputError(`No migrations (NNNN_name.sql) in ${dir}`);
  return [...byVersion.values()].sort((a, b) => a.version.localeCompare(b.version));
}

/**
 * One checksum over a set of migrations: sha256 over each file's name and bytes, in order,
 * NUL-separated, the recipe of `migrationsChecksum` in lib/constructs/db-migrations.ts (the
 * custom resource's MigrationsChecksum), so the handler can tell a stale bundle in its log.
 */
export function migrationsChecksum(migrations: readonly Migration[]): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(m.file).update('\0').update(m.sql, 'utf8').update('\0');
  return hash.digest('hex');
}

/**
 * Checks what applyMigrations would reject before it touches the database: extension names
 * (they are interpolated into DDL) and pgvector's HNSW parameter rules. Throws InvalidInputError.
 */
export function validateApplyOptions(options: Pick<ApplyOptions, 'extensions' | 'hnsw'>): void {
  for (const name of options.extensions) {
    if (!EXTENSION_PATTERN.test(name)) {
      throw new InvalidInputError(
        `Extension name ${JSON.stringify(name)} does not match ${EXTENSION_PATTERN}`,
      );
    }
  }
  const { m, efConstruction } = options.hnsw;
  const { m: mLimits, efConstruction: efLimits } = HNSW_LIMITS;
  if (!Number.isInteger(m) || m < mLimits.min || m > mLimits.max) {
    throw new InvalidInputError(`HNSW m must be an integer in ${mLimits.min}..${mLimits.max}, got ${m}`);
  }
  if (!Number.isInteger(efConstruction) || efConstruction < efLimits.min || efConstruction > efLimits.max) {
    throw new InvalidInputError(
      `HNSW ef_construction must be an integer in ${efLimits.min}..${efLimits.max}, got ${efConstruction}`,
    );
  }
  if (efConstruction < 2 * m) {
    throw new InvalidInputError(
      `HNSW ef_construction must be at least 2 * m (pgvector's rule): m=${m}, ef_construction=${efConstruction}`,
    );
  }
}

/**
 * Brings the database to the given migrations under the advisory lock MIGRATION_LOCK_KEY:
 * creates the bookkeeping tables and the extensions, verifies the checksums of applied
 * migrations (all of them, before applying anything), applies the others in order, each in
 * its own transaction, then creates or rebuilds the HNSW index if its parameters differ.
 *
 * Bookkeeping: `schema_migrations` holds one row per applied file; HNSW builds are recorded
 * in `schema_index_builds` (one row per create/rebuild with its parameters, e.g.
 * `m=16,ef_construction=200`), so schema_migrations only ever holds files whose checksums
 * can be verified, and going back to earlier parameters keeps the full history.
 *
 * Migration files run inside the runner's transaction: they must not contain
 * COMMIT/ROLLBACK or statements that cannot run in a transaction (VACUUM,
 * CREATE INDEX CONCURRENTLY); a file that ends the transaction fails the run.
 */
export async function applyMigrations(
  client: SqlClient,
  migrations: readonly Migration[],
  options: ApplyOptions,
): Promise<MigrationResult> {
  validateApplyOptions(options);
  for (let i = 1; i < migrations.length; i++) {
    const previous = migrations[i - 1];
    const current = migrations[i];
    if (previous && current && previous.version >= current.version) {
      throw new InvalidInputError(
        `Migrations must be sorted by unique version: ${previous.file} comes before ${current.file}`,
      );
    }
  }
  const logger = options.logger;

  try {
    // Through RDS Proxy, a SET pins the client connection to one database connection for
    // the session, so the session lock, the transactions and the unlock all reach the same
    // backend; it also names the lock holder in pg_stat_activity.
    await client.query("SET application_name = 'fa-ai-db-migrate'");
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  } catch (error) {
    throw new MigrationLockError(
      `Cannot take the migration lock (pg_advisory_lock(${MIGRATION_LOCK_KEY})): ${(error as Error).message}`,
      { cause: error },
    );
  }

  try {
    await client.query(BOOKKEEPING_DDL);
    const recorded = await client.query<{ version: string; checksum: string; name: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const appliedChecksums = new Map(recorded.rows.map((row) => [row.version, row]));

    const mismatches = migrations.flatMap((m) => {
      const row = appliedChecksums.get(m.version);
      return row && row.checksum !== m.checksum
        ? [`${m.file} (applied with checksum ${row.checksum}, file now has ${m.checksum})`]
        : [];
    });
    if (mismatches.length > 0) {
      throw new MigrationChecksumMismatchError(
        `Applied migrations were changed; nothing was applied. Revert the files and add a new migration instead: ${mismatches.join('; ')}`,
      );
    }

    const known = new Set(migrations.map((m) => m.version));
    const unknown = recorded.rows.filter((row) => !known.has(row.version));
    if (unknown.length > 0) {
      // A rollback deploys older code against a newer schema; failing would leave the stack
      // stuck in UPDATE_ROLLBACK_FAILED, so this is only reported.
      logger?.warn('Database has migrations this bundle does not know', {
        versions: unknown.map((row) => `${row.version}_${row.name}`),
      });
    }

    for (const name of options.extensions) {
      await client.query(`CREATE EXTENSION IF NOT EXISTS "${name}"`);
    }

    const alreadyApplied = migrations.filter((m) => appliedChecksums.has(m.version)).map((m) => m.file);
    const applied: string[] = [];
    for (const migration of migrations) {
      if (appliedChecksums.has(migration.version)) continue;
      const executionMs = await applyOne(client, migration);
      logger?.info('Migration applied', { file: migration.file, checksum: migration.checksum, executionMs });
      applied.push(migration.file);
    }

    const hnswIndex = await ensureHnswIndex(client, options.hnsw);
    logger?.info('HNSW index checked', { index: HNSW_INDEX_NAME, action: hnswIndex, ...options.hnsw });
    return { applied, alreadyApplied, hnswIndex };
  } finally {
    try {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    } catch (error) {
      // Never mask the run's own outcome; the lock also ends with the session (client.end()).
      logger?.warn('Cannot release the migration lock', { error: (error as Error).message });
    }
  }
}

const BOOKKEEPING_DDL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version       text PRIMARY KEY CHECK (version ~ '^[0-9]{4}$'),
  name          text NOT NULL,
  checksum      text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at    timestamptz NOT NULL DEFAULT now(),
  execution_ms  integer NOT NULL CHECK (execution_ms >= 0)
);
CREATE TABLE IF NOT EXISTS schema_index_builds (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  index_name    text NOT NULL,
  action        text NOT NULL CHECK (action IN ('created', 'rebuilt')),
  parameters    text NOT NULL,
  built_at      timestamptz NOT NULL DEFAULT now(),
  execution_ms  integer NOT NULL CHECK (execution_ms >= 0)
);`;

/** A transaction-local setting: it reads back empty once the transaction has ended. */
const TRANSACTION_MARKER = 'fa_ai.migration';

async function applyOne(client: SqlClient, migration: Migration): Promise<number> {
  const started = Date.now();
  await client.query('BEGIN');
  try {
    await client.query('SELECT set_config($1, $2, true)', [TRANSACTION_MARKER, migration.version]);
    await client.query(migration.sql);
    const marker = await client.query<{ value: string }>('SELECT current_setting($1, true) AS value', [
      TRANSACTION_MARKER,
    ]);
    if (marker.rows[0]?.value !== migration.version) {
      // Whatever ran before its COMMIT is committed and cannot be undone here; stop before
      // recording it, so the file is fixed instead of silently half-applied.
      throw new MigrationFailedError(
        `Migration ${migration.file} ended the runner's transaction (COMMIT or ROLLBACK in the file); it was not recorded`,
      );
    }
    const executionMs = Date.now() - started;
    await client.query(
      'INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)',
      [migration.version, migration.name, migration.checksum, executionMs],
    );
    await client.query('COMMIT');
    return executionMs;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof MigrationFailedError) throw error;
    throw new MigrationFailedError(
      `Migration ${migration.file} failed and was rolled back: ${describePgError(error, migration.sql)}`,
      { cause: error },
    );
  }
}

type IndexState = {
  reloptions: string[] | null;
  amname: string;
  indisvalid: boolean;
  definition: string;
};

/** pgvector's defaults, which an index built without WITH (...) has. */
const HNSW_DEFAULTS: HnswOptions = { m: 16, efConstruction: 64 };

async function ensureHnswIndex(client: SqlClient, hnsw: HnswOptions): Promise<MigrationResult['hnswIndex']> {
  const state = await client.query<IndexState>(
    `SELECT c.reloptions, am.amname, i.indisvalid, pg_get_indexdef(c.oid) AS definition
       FROM pg_class c
       JOIN pg_am am ON am.oid = c.relam
       JOIN pg_index i ON i.indexrelid = c.oid
      WHERE c.oid = to_regclass($1)`,
    [HNSW_INDEX_NAME],
  );
  const existing = state.rows[0];
  if (existing && isWanted(existing, hnsw)) return 'unchanged';

  const parameters = `m=${hnsw.m},ef_construction=${hnsw.efConstruction}`;
  const action = existing ? 'rebuilt' : 'created';
  const started = Date.now();
  // Not CONCURRENTLY: that cannot run in a transaction, and the transaction is what makes
  // drop + create atomic (no window where searches fall back to scanning every vector, and a
  // failed build leaves the old index). The cost: DROP INDEX holds an ACCESS EXCLUSIVE lock
  // on bluematrix_reports until the build commits, so reads and writes wait for the build;
  // change m/ef_construction outside the batch window.
  await client.query('BEGIN');
  try {
    await client.query(`DROP INDEX IF EXISTS ${HNSW_INDEX_NAME}`);
    await client.query(
      `CREATE INDEX ${HNSW_INDEX_NAME} ON bluematrix_reports USING hnsw (embedding vector_cosine_ops) ` +
        `WITH (m = ${hnsw.m}, ef_construction = ${hnsw.efConstruction})`,
    );
    await client.query(
      'INSERT INTO schema_index_builds (index_name, action, parameters, execution_ms) VALUES ($1, $2, $3, $4)',
      [HNSW_INDEX_NAME, action, parameters, Date.now() - started],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new IndexBuildFailedError(
      `${action === 'created' ? 'Creating' : 'Rebuilding'} ${HNSW_INDEX_NAME} (${parameters}) failed and was rolled back: ${describePgError(error)}`,
      { cause: error },
    );
  }
  return action;
}

/** Same access method, operator class, validity and parameters: nothing to rebuild. */
function isWanted(index: IndexState, hnsw: HnswOptions): boolean {
  if (index.amname !== 'hnsw' || !index.indisvalid) return false;
  if (!/\(embedding vector_cosine_ops\)/.test(index.definition)) return false;
  const options = new Map((index.reloptions ?? []).map((option) => option.split('=', 2) as [string, string]));
  const m = Number(options.get('m') ?? HNSW_DEFAULTS.m);
  const efConstruction = Number(options.get('ef_construction') ?? HNSW_DEFAULTS.efConstruction);
  return m === hnsw.m && efConstruction === hnsw.efConstruction;
}

/** The PostgreSQL error's message, SQLSTATE, detail, hint and (for a file) line. */
function describePgError(error: unknown, sql?: string): string {
  if (!(error instanceof Error)) return String(error);
  const pg = error as Error & { code?: unknown; detail?: unknown; hint?: unknown; position?: unknown };
  const parts = [pg.message];
  if (typeof pg.code === 'string') parts.push(`SQLSTATE ${pg.code}`);
  const position = Number(pg.position);
  if (sql !== undefined && Number.isInteger(position) && position > 0) {
    // The server reports a 1-based character offset into the whole text sent.
    parts.push(`line ${sql.slice(0, position - 1).split('\n').length}`);
  }
  if (typeof pg.detail === 'string' && pg.detail) parts.push(`detail: ${pg.detail}`);
  if (typeof pg.hint === 'string' && pg.hint) parts.push(`hint: ${pg.hint}`);
  return parts.join('; ');
}
