import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import {
  applyMigrations,
  HNSW_INDEX_NAME,
  loadMigrations,
  MIGRATION_LOCK_KEY,
  type Migration,
  MigrationChecksumMismatchError,
  MigrationFailedError,
  MigrationLockError,
  migrationsChecksum,
} from '../../../lambdas/db-migrate/logic';
import type { SqlClient } from '../../../lambdas/shared/db';
import { createTestDatabase, type TestDatabase } from '../../helpers/pglite';
import {
  MIGRATIONS_DIR,
  migrationsDirOf,
  migrationsWith,
  RUNBOOK_HNSW,
  recordingClient,
  removeTempDirs,
  TEST_EXTENSIONS,
} from './fixtures';

const CORE = '0001_core_schema.sql';
const coreSql = readFileSync(join(MIGRATIONS_DIR, CORE), 'utf8');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** pg_locks shows a one-bigint advisory key as classid (high 32 bits), objid (low), objsubid 1. */
async function migrationLockHeld(client: SqlClient): Promise<boolean> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1`,
    [Math.floor(MIGRATION_LOCK_KEY / 2 ** 32), MIGRATION_LOCK_KEY % 2 ** 32],
  );
  return rows[0]?.n === 1;
}

async function recordedMigrations(client: SqlClient) {
  const { rows } = await client.query<{
    version: string;
    name: string;
    checksum: string;
    applied_at: string;
  }>('SELECT version, name, checksum, applied_at::text FROM schema_migrations ORDER BY version');
  return rows;
}

async function tableExists(client: SqlClient, name: string): Promise<boolean> {
  const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [name]);
  return rows[0]?.oid != null;
}

async function hnswIndex(client: SqlClient) {
  const { rows } = await client.query<{ oid: number; reloptions: string[]; definition: string }>(
    `SELECT c.oid::int AS oid, c.reloptions, pg_get_indexdef(c.oid) AS definition
       FROM pg_class c WHERE c.oid = to_regclass($1)`,
    [HNSW_INDEX_NAME],
  );
  return rows[0];
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

afterAll(removeTempDirs);

describe('loadMigrations', () => {
  it('reads the shipped migrations with the sha256 of their bytes', () => {
    const [first] = loadMigrations(MIGRATIONS_DIR);
    expect(first).toEqual({
      version: '0001',
      name: 'core_schema',
      file: CORE,
      sql: coreSql,
      checksum: createHash('sha256')
        .update(readFileSync(join(MIGRATIONS_DIR, CORE)))
        .digest('hex'),
    });
  });

  it('sorts by version and ignores files that are not .sql', () => {
    const dir = migrationsDirOf({
      '0010_b.sql': 'SELECT 10;',
      '0002_a.sql': 'SELECT 2;',
      'README.md': '# notes',
    });
    expect(loadMigrations(dir).map((m) => m.file)).toEqual(['0002_a.sql', '0010_b.sql']);
  });

  it.each(['1_short.sql', '0003-dash.sql', '0003_Upper.sql', 'V0003_flyway.sql', '0003_.sql'])(
    'rejects the badly named %s',
    (file) => {
      const dir = migrationsDirOf({ '0001_ok.sql': 'SELECT 1;', [file]: 'SELECT 3;' });
      expect(() => loadMigrations(dir)).toThrow(InvalidInputError);
      expect(() => loadMigrations(dir)).toThrow(file);
    },
  );

  it('rejects a version used twice, naming both files', () => {
    const dir = migrationsDirOf({ '0002_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 2;' });
    expect(() => loadMigrations(dir)).toThrow(/0002 is used by both 0002_a\.sql and 0002_b\.sql/);
  });

  it('rejects a missing or empty directory (a bundle without its migrations)', () => {
    expect(() => loadMigrations(join(MIGRATIONS_DIR, 'nope'))).toThrow(InvalidInputError);
    expect(() => loadMigrations(migrationsDirOf({ 'notes.txt': 'x' }))).toThrow(/No migrations/);
  });

  it("migrationsChecksum follows the stack's recipe (name NUL bytes NUL, per file in order)", () => {
    const expected = createHash('sha256')
      .update(CORE)
      .update('\0')
      .update(readFileSync(join(MIGRATIONS_DIR, CORE)))
      .update('\0')
      .digest('hex');
    expect(migrationsChecksum(loadMigrations(MIGRATIONS_DIR))).toBe(expected);
  });

  it('migrationsChecksum changes when any file changes', () => {
    const before = migrationsChecksum(loadMigrations(MIGRATIONS_DIR));
    expect(before).toBe(migrationsChecksum(loadMigrations(migrationsWith({}))));
    expect(before).not.toBe(migrationsChecksum(loadMigrations(migrationsWith({ [CORE]: `${coreSql} ` }))));
  });
});

describe('applyMigrations input validation', () => {
  const migrations = loadMigrations(MIGRATIONS_DIR);

  it.each([
    [{ m: 1, efConstruction: 200 }, /m must be an integer in 2\.\.100/],
    [{ m: 101, efConstruction: 1000 }, /m must be an integer in 2\.\.100/],
    [{ m: 16.5, efConstruction: 200 }, /m must be an integer/],
    [{ m: 2, efConstruction: 3 }, /ef_construction must be an integer in 4\.\.1000/],
    [{ m: 16, efConstruction: 1001 }, /ef_construction must be an integer in 4\.\.1000/],
    [{ m: 64, efConstruction: 100 }, /at least 2 \* m/],
  ])('rejects HNSW %o before touching the database', async (hnsw, message) => {
    const client = { query: vi.fn() };
    const error = await failure(applyMigrations(client, migrations, { extensions: TEST_EXTENSIONS, hnsw }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(message);
    expect(client.query).not.toHaveBeenCalled();
  });

  it.each(['vector; DROP TABLE citations', 'Vector', '1vector', 'pg-stat', ''])(
    'rejects the extension name %j before touching the database',
    async (name) => {
      const client = { query: vi.fn() };
      const error = await failure(
        applyMigrations(client, migrations, { extensions: ['vector', name], hnsw: RUNBOOK_HNSW }),
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(client.query).not.toHaveBeenCalled();
    },
  );

  it('rejects migrations out of version order', async () => {
    const [a, b] = loadMigrations(migrationsDirOf({ '0001_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 2;' }));
    const client = { query: vi.fn() };
    const unsorted = [b, a] as Migration[];
    await expect(
      applyMigrations(client, unsorted, { extensions: TEST_EXTENSIONS, hnsw: RUNBOOK_HNSW }),
    ).rejects.toThrow(InvalidInputError);
    expect(client.query).not.toHaveBeenCalled();
  });
});

// The tests of a describe share one database and build on each other, in order.
describe('applyMigrations on a fresh database', () => {
  let database: TestDatabase;
  let client: SqlClient;
  const migrations = loadMigrations(MIGRATIONS_DIR);
  const options = { extensions: TEST_EXTENSIONS, hnsw: RUNBOOK_HNSW };

  beforeAll(async () => {
    database = await createTestDatabase();
    client = database.client;
  });
  afterAll(() => database.client.end());

  it('applies every migration in its own transaction under the advisory lock, then builds the HNSW index', async () => {
    const lockedDuringMigration: boolean[] = [];
    const spy = recordingClient(client, async (text) => {
      if (text === coreSql) lockedDuringMigration.push(await migrationLockHeld(client));
    });

    const result = await applyMigrations(spy, migrations, options);

    expect(result).toEqual({ applied: [CORE], alreadyApplied: [], hnswIndex: 'created' });
    expect(lockedDuringMigration).toEqual([true]);
    expect(await migrationLockHeld(client)).toBe(false);
    const coreAt = spy.statements.indexOf(coreSql);
    expect(spy.statements.slice(coreAt - 2, coreAt + 4)).toEqual([
      'BEGIN',
      expect.stringContaining('set_config'),
      coreSql,
      expect.stringContaining('current_setting'),
      expect.stringContaining('INSERT INTO schema_migrations'),
      'COMMIT',
    ]);

    expect(await recordedMigrations(client)).toEqual([
      { version: '0001', name: 'core_schema', checksum: sha256(coreSql), applied_at: expect.any(String) },
    ]);
    const { rows: extensions } = await client.query<{ extname: string }>(
      "SELECT extname FROM pg_extension WHERE extname = 'vector'",
    );
    expect(extensions).toHaveLength(1);
    for (const table of [
      'batch_runs',
      'source_documents',
      'bluematrix_reports',
      'stock_summaries',
      'citations',
      'batch_audit',
      'batch_audit_archive',
    ]) {
      expect(await tableExists(client, table), table).toBe(true);
    }
    expect((await hnswIndex(client))?.reloptions).toEqual(['m=16', 'ef_construction=200']);
    const { rows: builds } = await client.query(
      'SELECT index_name, action, parameters FROM schema_index_builds',
    );
    expect(builds).toEqual([
      { index_name: HNSW_INDEX_NAME, action: 'created', parameters: 'm=16,ef_construction=200' },
    ]);
  });

  it('applies nothing when run again and keeps the recorded checksums', async () => {
    const before = await recordedMigrations(client);
    const index = await hnswIndex(client);
    const spy = recordingClient(client);

    const result = await applyMigrations(spy, migrations, options);

    expect(result).toEqual({ applied: [], alreadyApplied: [CORE], hnswIndex: 'unchanged' });
    expect(spy.statements).not.toContain(coreSql);
    expect(await recordedMigrations(client)).toEqual(before);
    expect((await hnswIndex(client))?.oid).toBe(index?.oid);
  });

  it("runs the runbook's queries unchanged against the schema", async () => {
    await client.query(`
      INSERT INTO batch_runs (batch_id) VALUES ('batch-2025-01-06');
      INSERT INTO stock_summaries
        (ticker, tier, summary, model_used, fact_check_status, fact_check_details, batch_run_id, updated_at)
      SELECT v.ticker, 'hook', 'summary of ' || v.ticker, 'model-a', v.status, v.details::jsonb, r.id, v.updated_at
        FROM batch_runs r,
             (VALUES ('AAPL', 'failed', '{"reason": "unsupported claim"}', now() - interval '2 hours'),
                     ('MSFT', 'failed', '{"reason": "stale price"}', now() - interval '1 hour'),
                     ('NVDA', 'passed', NULL, now())) AS v (ticker, status, details, updated_at)
       WHERE r.batch_id = 'batch-2025-01-06';
      INSERT INTO source_documents (source, external_id, ticker, document_type)
      VALUES ('edgar', '0000320193-24-000123', 'AAPL', '10-K');
      INSERT INTO citations (summary_id, source_document_id, quote)
      SELECT s.id, d.id, 'revenue grew' FROM stock_summaries s, source_documents d;
      INSERT INTO batch_audit (ticker, event, status, created_at)
      VALUES ('AAPL', 'summarize', 'ok', now() - interval '13 months'),
             ('MSFT', 'summarize', 'ok', now() - interval '1 day');
    `);

    const rejected = await client.query(
      "SELECT ticker, fact_check_status, fact_check_details FROM stock_summaries WHERE fact_check_status = 'failed' ORDER BY updated_at DESC LIMIT 10;",
    );
    expect(rejected.rows).toEqual([
      { ticker: 'MSFT', fact_check_status: 'failed', fact_check_details: { reason: 'stale price' } },
      { ticker: 'AAPL', fact_check_status: 'failed', fact_check_details: { reason: 'unsupported claim' } },
    ]);

    await client.query("DELETE FROM batch_audit WHERE created_at < NOW() - INTERVAL '1 year';");
    const audit = await client.query('SELECT ticker FROM batch_audit');
    expect(audit.rows).toEqual([{ ticker: 'MSFT' }]);

    // reltuples is -1 until a table is first vacuumed or analyzed.
    await client.query('VACUUM ANALYZE stock_summaries;');
    await client.query('VACUUM ANALYZE citations;');
    const stats = await client.query(
      "SELECT relname, reltuples FROM pg_class WHERE relname IN ('stock_summaries', 'citations') ORDER BY relname",
    );
    expect(stats.rows).toEqual([
      { relname: 'citations', reltuples: 3 },
      { relname: 'stock_summaries', reltuples: 3 },
    ]);

    const index = await hnswIndex(client);
    await client.query(
      'CREATE INDEX IF NOT EXISTS idx_bluematrix_embedding ON bluematrix_reports USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200);',
    );
    expect(await hnswIndex(client)).toEqual(index);
  });

  it('serves nearest-neighbour queries from the HNSW index', async () => {
    // setseed makes the random vectors the same on every run.
    await client.query(`
      SELECT setseed(0.42);
      INSERT INTO bluematrix_reports (report_id, ticker, content, embedding)
      SELECT 'bm-' || g, 'AAPL', 'report ' || g,
             (SELECT array_agg(random()::real) FROM generate_series(1, 1536) WHERE g > 0)::vector(1536)
        FROM generate_series(1, 100) AS g;
    `);
    const { rows } = await client.query<{ embedding: string }>(
      "SELECT embedding::text AS embedding FROM bluematrix_reports WHERE report_id = 'bm-17'",
    );
    const probe = rows[0]?.embedding;
    expect(probe).toMatch(/^\[/);

    const nearest = 'SELECT report_id FROM bluematrix_reports ORDER BY embedding <=> $1 LIMIT 5';
    // With a few hundred rows a scan and sort is cheaper, and the planner rightly picks it;
    // disabling it asks whether the index can serve this ORDER BY at all (operator class).
    await client.query('SET enable_seqscan = off');
    try {
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${nearest}`, [probe]);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(
        /Index Scan using idx_bluematrix_embedding/,
      );
      const found = await client.query<{ report_id: string }>(nearest, [probe]);
      expect(found.rows).toHaveLength(5);
      expect(found.rows[0]?.report_id).toBe('bm-17');
    } finally {
      await client.query('RESET enable_seqscan');
    }
  });

  it('rebuilds the index when m or ef_construction change, and keeps it when they do not', async () => {
    const rebuilt = await applyMigrations(client, migrations, {
      ...options,
      hnsw: { m: 24, efConstruction: 100 },
    });
    expect(rebuilt.hnswIndex).toBe('rebuilt');
    expect((await hnswIndex(client))?.reloptions).toEqual(['m=24', 'ef_construction=100']);

    const again = await applyMigrations(client, migrations, {
      ...options,
      hnsw: { m: 24, efConstruction: 100 },
    });
    expect(again).toEqual({ applied: [], alreadyApplied: [CORE], hnswIndex: 'unchanged' });

    const back = await applyMigrations(client, migrations, options);
    expect(back.hnswIndex).toBe('rebuilt');
    const { rows: builds } = await client.query(
      'SELECT action, parameters FROM schema_index_builds ORDER BY id',
    );
    expect(builds).toEqual([
      { action: 'created', parameters: 'm=16,ef_construction=200' },
      { action: 'rebuilt', parameters: 'm=24,ef_construction=100' },
      { action: 'rebuilt', parameters: 'm=16,ef_construction=200' },
    ]);
    // The rebuilt index holds the rows inserted before it.
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bluematrix_reports');
    expect(rows[0]?.n).toBe(100);
  });

  it("reads an index built without WITH (...) as pgvector's defaults (m=16, ef_construction=64)", async () => {
    await client.query(`
      DROP INDEX idx_bluematrix_embedding;
      CREATE INDEX idx_bluematrix_embedding ON bluematrix_reports USING hnsw (embedding vector_cosine_ops);
    `);
    const defaults = await applyMigrations(client, migrations, {
      ...options,
      hnsw: { m: 16, efConstruction: 64 },
    });
    expect(defaults.hnswIndex).toBe('unchanged');
    expect((await hnswIndex(client))?.reloptions).toBeNull();
  });

  it('rebuilds an index of the right name with the wrong operator class', async () => {
    await client.query(`
      DROP INDEX idx_bluematrix_embedding;
      CREATE INDEX idx_bluematrix_embedding ON bluematrix_reports
        USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 200);
    `);
    const result = await applyMigrations(client, migrations, options);
    expect(result.hnswIndex).toBe('rebuilt');
    expect((await hnswIndex(client))?.definition).toContain('(embedding vector_cosine_ops)');
  });
});

describe('applyMigrations with changed and failing migrations', () => {
  let database: TestDatabase;
  let client: SqlClient;
  const options = { extensions: TEST_EXTENSIONS, hnsw: RUNBOOK_HNSW };

  beforeAll(async () => {
    database = await createTestDatabase();
    client = database.client;
    await applyMigrations(client, loadMigrations(MIGRATIONS_DIR), options);
  });
  afterAll(() => database.client.end());

  it('fails on a changed applied migration, naming the file and both checksums, and applies nothing', async () => {
    const edited = `${coreSql}\n-- edited after it was applied\n`;
    const dir = migrationsWith({
      [CORE]: edited,
      '0002_added_later.sql': 'CREATE TABLE added_later (id int);',
    });

    const error = await failure(applyMigrations(client, loadMigrations(dir), options));

    expect(error).toBeInstanceOf(MigrationChecksumMismatchError);
    expect((error as Error).name).toBe('MigrationChecksumMismatchError');
    expect((error as Error).message).toContain(CORE);
    expect((error as Error).message).toContain(sha256(coreSql));
    expect((error as Error).message).toContain(sha256(edited));
    expect(await tableExists(client, 'added_later')).toBe(false);
    expect((await recordedMigrations(client)).map((row) => row.version)).toEqual(['0001']);
    expect(await migrationLockHeld(client)).toBe(false);
  });

  it('does nothing when the lock cannot be taken', async () => {
    const dir = migrationsWith({ '0002_added_later.sql': 'CREATE TABLE added_later (id int);' });
    const spy = recordingClient(client, (text) => {
      if (text.includes('pg_advisory_lock')) throw new Error('canceling statement due to lock timeout');
    });

    const error = await failure(applyMigrations(spy, loadMigrations(dir), options));

    expect(error).toBeInstanceOf(MigrationLockError);
    expect((error as Error).message).toContain('lock timeout');
    expect(spy.statements).toEqual([
      expect.stringContaining('SET application_name'),
      `SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`,
    ]);
    expect(await tableExists(client, 'added_later')).toBe(false);
  });

  it('rolls back a failing migration, naming the file and the PostgreSQL error, and keeps earlier ones', async () => {
    const dir = migrationsWith({
      '0002_watchlists.sql': 'CREATE TABLE watchlists (id int PRIMARY KEY, name text NOT NULL);\n',
      '0099_broken.sql': 'CREATE TABLE broken_partial (id int);\n\nSELECT no_such_column FROM watchlists;\n',
    });

    const error = await failure(applyMigrations(client, loadMigrations(dir), options));

    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toMatch(
      /0099_broken\.sql failed and was rolled back: column "no_such_column" does not exist; SQLSTATE 42703; line 3/,
    );
    expect(await tableExists(client, 'broken_partial')).toBe(false);
    expect(await tableExists(client, 'watchlists')).toBe(true);
    expect((await recordedMigrations(client)).map((row) => row.version)).toEqual(['0001', '0002']);
    expect(await migrationLockHeld(client)).toBe(false);

    // Once fixed, the next run applies only the fixed file.
    const fixed = migrationsWith({
      '0002_watchlists.sql': 'CREATE TABLE watchlists (id int PRIMARY KEY, name text NOT NULL);\n',
      '0099_broken.sql': 'CREATE TABLE broken_partial (id int);\n',
    });
    const result = await applyMigrations(client, loadMigrations(fixed), options);
    expect(result).toEqual({
      applied: ['0099_broken.sql'],
      alreadyApplied: [CORE, '0002_watchlists.sql'],
      hnswIndex: 'unchanged',
    });
  });

  it('fails a migration that commits the transaction itself, without recording it', async () => {
    const dir = migrationsWith({
      '0002_watchlists.sql': 'CREATE TABLE watchlists (id int PRIMARY KEY, name text NOT NULL);\n',
      '0099_broken.sql': 'CREATE TABLE broken_partial (id int);\n',
      '0100_commits.sql': 'CREATE TABLE committed_early (id int);\nCOMMIT;\n',
    });

    const error = await failure(applyMigrations(client, loadMigrations(dir), options));

    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toMatch(/0100_commits\.sql ended the runner's transaction/);
    expect((await recordedMigrations(client)).map((row) => row.version)).toEqual(['0001', '0002', '0099']);
  });
});
