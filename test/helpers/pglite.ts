import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Client } from 'pg';
import type { SqlClient } from '../../core/db/sql';
import { applyMigrations, loadMigrations } from '../../lambdas/db-migrate/logic';
import { type ClosableSqlClient, type ConnectOptions, connectWithSecret } from '../../lambdas/shared/db';

export type TestDatabase = { db: PGlite; client: SqlClient & { end(): Promise<void> } };

const ROOT = join(__dirname, '..', '..');

/**
 * The data directory of a new cluster, as PGlite's initdb leaves it, kept between runs: the
 * first database of a worker loaded from it costs ~1.8 s of CPU, one made by initdb ~5.9 s
 * (initdb runs enough WebAssembly to have V8 optimise much of it). Named by the versions of
 * PGlite and pgvector, whose build is what initdb's output depends on.
 */
function templateFile(): string {
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string })
      .version;
  const name = `pglite-${version('@electric-sql/pglite')}-pgvector-${version('@electric-sql/pglite-pgvector')}.tar`;
  return join(ROOT, 'node_modules', '.cache', 'fa-ai-pglite', name);
}

/** How long a worker waits for the other to write the template before running initdb itself. */
const TEMPLATE_WAIT_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One worker makes the template; a lock left by a worker that died is taken over. */
function takeLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(lock, { force: true });
    return false;
  }
}

async function initdb(template: string): Promise<PGlite> {
  const db = await PGlite.create({ extensions: { vector } });
  const dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
  // Written aside and renamed: the other worker never loads half a file.
  const temp = `${template}.${process.pid}`;
  writeFileSync(temp, dump);
  renameSync(temp, template);
  return db;
}

/** A new cluster: loaded from the template, or made by initdb (which writes the template). */
async function startDatabase(): Promise<PGlite> {
  const template = templateFile();
  const lock = `${template}.lock`;
  mkdirSync(dirname(template), { recursive: true });
  const deadline = Date.now() + TEMPLATE_WAIT_MS;
  for (;;) {
    if (existsSync(template)) {
      try {
        return await PGlite.create({
          extensions: { vector },
          loadDataDir: new Blob([readFileSync(template)]),
        });
      } catch {
        // An unreadable template (say, a disk that filled while it was written): make it anew.
        rmSync(template, { force: true });
      }
    }
    if (takeLock(lock)) {
      try {
        return await initdb(template);
      } finally {
        rmSync(lock, { force: true });
      }
    }
    if (Date.now() > deadline) return PGlite.create({ extensions: { vector } });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starting PGlite with pgvector costs seconds of CPU; emptying a used one costs
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
  const db = idle.pop() ?? (await startDatabase());
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
  const migrationsDir = join(ROOT, 'lambdas', 'db-migrate', 'migrations');
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

/**
 * The real connectWithSecret (secret read, connection settings) over a PGlite database: every
 * statement is appended to `state().statements`, and `fail` may reject one by its text.
 * `state` is read per connection, so a test file may replace both between tests.
 */
export function connectToPglite(
  state: () => { readonly db: TestDatabase; readonly statements: string[] },
  fail?: (text: string) => Error | undefined,
  onConnect: () => Promise<void> = async () => undefined,
): (secrets: SecretsManagerClient, options: ConnectOptions) => Promise<ClosableSqlClient> {
  return async (secrets, options) => {
    const { db, statements } = state();
    return connectWithSecret(secrets, {
      ...options,
      createClient: () =>
        ({
          connect: onConnect,
          query: (text: string, params?: unknown[]) => {
            statements.push(text);
            const error = fail?.(text);
            return error ? Promise.reject(error) : db.client.query(text, params);
          },
          end: async () => undefined,
        }) as unknown as Client,
    }) as unknown as Promise<ClosableSqlClient>;
  };
}
