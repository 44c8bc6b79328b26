import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { applyMigrations, loadMigrations } from '../../lambdas/db-migrate/logic';
import type { SqlClient } from '../../lambdas/shared/db';

export type TestDatabase = { db: PGlite; client: SqlClient & { end(): Promise<void> } };

/**
 * Starting PGlite with pgvector costs about two seconds of CPU; emptying a used one costs
 * tens of milliseconds. Databases a test has ended are emptied and kept here for the next
 * test of this worker (files share a worker's modules: vitest runs with isolate: false).
 */
const idle: PGlite[] = [];

/**
 * Back to the state of a new database: no open transaction, default settings, no advisory
 * locks or prepared statements, no schema but an empty public, no extension but plpgsql.
 */
async function empty(db: PGlite): Promise<void> {
  if (db.isInTransaction()) await db.exec('ROLLBACK');
  await db.exec('DISCARD ALL');
  await db.exec(`
    DO $$
    DECLARE s text;
    BEGIN
      FOR s IN SELECT nspname FROM pg_namespace
               WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s);
      END LOOP;
    END $$;
    CREATE SCHEMA public;
  `);
  const leftovers = await db.query<{ what: string }>(`
    SELECT 'extension ' || extname AS what FROM pg_extension WHERE extname <> 'plpgsql'
    UNION ALL
    SELECT 'schema ' || nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public')
    UNION ALL
    SELECT 'relation ' || relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'`);
  if (leftovers.rows.length > 0) {
    throw new Error(`test database not emptied: ${leftovers.rows.map((r) => r.what).join(', ')}`);
  }
}

/**
 * A real PostgreSQL (PGlite, in-process) with pgvector, behind the SqlClient interface the
 * Lambdas' logic takes. Each call returns an empty database of its own; `end()` hands it back.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const db = idle.pop() ?? (await PGlite.create({ extensions: { vector } }));
  let ended = false;
  const client = {
    async query<R extends Record<string, unknown>>(text: string, params?: unknown[]) {
      if (ended) throw new Error('test database used after end()');
      // Parameterless statements may hold several commands (migration files); exec runs them.
      if (!params || params.length === 0) {
        const results = await db.exec(text);
        const last = results.at(-1);
        return { rows: (last?.rows ?? []) as R[] };
      }
      const result = await db.query<R>(text, params);
      return { rows: result.rows };
    },
    async end() {
      if (ended) return;
      ended = true;
      await empty(db);
      idle.push(db);
    },
  };
  return { db, client };
}

/**
 * A test database with the real schema, applied by the real migration runner (PGlite has
 * no pg_stat_statements: it needs shared_preload_libraries, so only `vector` is created).
 */
export async function createMigratedDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  const migrationsDir = join(__dirname, '..', '..', 'lambdas', 'db-migrate', 'migrations');
  await applyMigrations(database.client, loadMigrations(migrationsDir), {
    extensions: ['vector'],
    hnsw: { m: 16, efConstruction: 200 },
  });
  return database;
}

/**
 * Flushes the statistics counters still pending in this session (PostgreSQL reports them at a
 * later transaction end), so that two reads of pg_stat_* views around read-only work agree.
 */
export async function settleStatistics(database: TestDatabase): Promise<void> {
  await database.client.query('SELECT pg_stat_force_next_flush()');
  await database.client.query('SELECT 1');
}
