import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { applyMigrations, loadMigrations } from '../../lambdas/db-migrate/logic';
import type { SqlClient } from '../../lambdas/shared/db';

/**
 * A real PostgreSQL (PGlite, in-process) with pgvector, behind the SqlClient interface the
 * Lambdas' logic takes. One instance per test file is enough; each is a fresh database.
 */
export async function createTestDatabase(): Promise<{
  db: PGlite;
  client: SqlClient & { end(): Promise<void> };
}> {
  const db = await PGlite.create({ extensions: { vector } });
  const client = {
    async query<R extends Record<string, unknown>>(text: string, params?: unknown[]) {
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
      await db.close();
    },
  };
  return { db, client };
}

/**
 * A test database with the real schema, applied by the real migration runner (PGlite has
 * no pg_stat_statements: it needs shared_preload_libraries, so only `vector` is created).
 */
export async function createMigratedDatabase(): Promise<Awaited<ReturnType<typeof createTestDatabase>>> {
  const database = await createTestDatabase();
  const migrationsDir = join(__dirname, '..', '..', 'lambdas', 'db-migrate', 'migrations');
  await applyMigrations(database.client, loadMigrations(migrationsDir), {
    extensions: ['vector'],
    hnsw: { m: 16, efConstruction: 200 },
  });
  return database;
}
