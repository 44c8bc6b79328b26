import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InspectEvent, inspectEventSchema } from '../../../core/db/inspect';
import { InvalidInputError } from '../../../core/errors';
import { inReadOnlyTransaction, runInspection } from '../../../lambdas/db-inspect/reports';
import type { SqlClient } from '../../../lambdas/shared/db';
import { createMigratedDatabase, settleStatistics, type TestDatabase } from '../../helpers/pglite';

let db: TestDatabase;
let client: SqlClient;

beforeAll(async () => {
  db = await createMigratedDatabase();
  client = db.client;
});

afterAll(async () => {
  await db.client.end();
});

beforeEach(async () => {
  await client.query(`
    DROP VIEW IF EXISTS pg_stat_statements;
    DROP FUNCTION IF EXISTS fake_statements();
    TRUNCATE batch_audit, batch_runs CASCADE;`);
});

const event = (reports: InspectEvent['reports'], limit = 20): InspectEvent =>
  inspectEventSchema.parse({ reports, limit });

/**
 * pg_stat_statements as PostgreSQL 17 documents its view (PGlite cannot load the extension,
 * which needs shared_preload_libraries): the real column names and types, over `rows`.
 */
async function createStatementsView(
  rows: Array<{ db: 'this' | 'other'; query: string; calls: number; mean: number; total: number }>,
): Promise<void> {
  const values = rows
    .map(
      (r) =>
        `(${r.db === 'this' ? '(SELECT oid FROM pg_database WHERE datname = current_database())' : '4242::oid'}, ` +
        `${quote(r.query)}, ${r.calls}, ${r.mean}, ${r.total})`,
    )
    .join(',\n');
  await client.query(`
    CREATE VIEW pg_stat_statements AS
    SELECT 10::oid AS userid, v.dbid::oid AS dbid, true AS toplevel, hashtext(v.query)::bigint AS queryid,
           v.query::text AS query, 0::bigint AS plans, 0::float8 AS total_plan_time,
           0::float8 AS min_plan_time, 0::float8 AS max_plan_time, 0::float8 AS mean_plan_time,
           0::float8 AS stddev_plan_time, v.calls::bigint AS calls, v.total::float8 AS total_exec_time,
           0::float8 AS min_exec_time, v.mean::float8 * 2 AS max_exec_time, v.mean::float8 AS mean_exec_time,
           0::float8 AS stddev_exec_time, (v.calls * 3)::bigint AS rows,
           0::bigint AS shared_blks_hit, 0::bigint AS shared_blks_read, 0::bigint AS shared_blks_dirtied,
           0::bigint AS shared_blks_written, 0::bigint AS local_blks_hit, 0::bigint AS local_blks_read,
           0::bigint AS local_blks_dirtied, 0::bigint AS local_blks_written, 0::bigint AS temp_blks_read,
           0::bigint AS temp_blks_written, 0::float8 AS shared_blk_read_time, 0::float8 AS shared_blk_write_time,
           0::float8 AS local_blk_read_time, 0::float8 AS local_blk_write_time, 0::float8 AS temp_blk_read_time,
           0::float8 AS temp_blk_write_time, 0::bigint AS wal_records, 0::bigint AS wal_fpi,
           0::numeric AS wal_bytes, 0::bigint AS jit_functions, 0::float8 AS jit_generation_time,
           0::bigint AS jit_inlining_count, 0::float8 AS jit_inlining_time, 0::bigint AS jit_optimization_count,
           0::float8 AS jit_optimization_time, 0::bigint AS jit_emission_count, 0::float8 AS jit_emission_time,
           0::bigint AS jit_deform_count, 0::float8 AS jit_deform_time,
           now() AS stats_since, now() AS minmax_stats_since
      FROM (VALUES ${values}) AS v(dbid, query, calls, mean, total)`);
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

describe('runInspection: queries (pg_stat_statements)', () => {
  it('is "unavailable", saying what to do, when the extension is not installed; the other reports still run', async () => {
    const result = await runInspection(client, event(['queries', 'tables']));

    expect(result.reports.queries).toEqual({
      status: 'unavailable',
      reason: expect.stringContaining('pg_stat_statements is not installed'),
    });
    expect(result.reports.queries?.status === 'unavailable' && result.reports.queries.reason).toContain(
      'CREATE EXTENSION pg_stat_statements',
    );
    expect(result.reports.tables?.status).toBe('ok');
  });

  it("lists this database's statements slowest first, as the runbook's query, within the limit", async () => {
    await createStatementsView([
      {
        db: 'this',
        query: 'SELECT * FROM stock_summaries WHERE ticker = $1',
        calls: 900,
        mean: 3.5,
        total: 3150,
      },
      {
        db: 'this',
        query: 'SELECT embedding <=> $1 FROM bluematrix_reports',
        calls: 40,
        mean: 250,
        total: 10_000,
      },
      { db: 'other', query: 'SELECT rdsadmin_only()', calls: 1, mean: 99_999, total: 99_999 },
      { db: 'this', query: 'UPDATE batch_runs SET status = $1', calls: 5, mean: 12, total: 60 },
    ]);

    const result = await runInspection(client, event(['queries'], 2));

    expect(result.reports.queries).toEqual({
      status: 'ok',
      rows: [
        {
          query: 'SELECT embedding <=> $1 FROM bluematrix_reports',
          calls: 40,
          meanExecTimeMs: 250,
          totalExecTimeMs: 10_000,
          rows: 120,
        },
        {
          query: 'UPDATE batch_runs SET status = $1',
          calls: 5,
          meanExecTimeMs: 12,
          totalExecTimeMs: 60,
          rows: 15,
        },
      ],
    });
  });

  it('cuts a long statement text to 2,000 characters', async () => {
    await createStatementsView([
      { db: 'this', query: `SELECT ${'x, '.repeat(2000)}1`, calls: 1, mean: 1, total: 1 },
    ]);
    const result = await runInspection(client, event(['queries']));
    const rows = result.reports.queries?.status === 'ok' ? result.reports.queries.rows : [];
    expect(rows[0]?.query).toHaveLength(2000);
  });

  it('is "unavailable" when installed but not preloaded (SQLSTATE 55000), not a failure', async () => {
    await client.query(`
      CREATE FUNCTION fake_statements() RETURNS TABLE (dbid oid, query text, calls bigint,
        mean_exec_time float8, total_exec_time float8, rows bigint) LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'pg_stat_statements must be loaded via "shared_preload_libraries"'
          USING ERRCODE = '55000';
      END $$;
      CREATE VIEW pg_stat_statements AS SELECT * FROM fake_statements();`);

    const result = await runInspection(client, event(['queries']));

    expect(result.reports.queries).toEqual({
      status: 'unavailable',
      reason: expect.stringMatching(/installed but not loaded: .*shared_preload_libraries/),
    });
  });
});

describe('runInspection: unused indexes', () => {
  it('lists never-scanned indexes with size and definition, leaving out scanned ones and those that enforce something', async () => {
    await client.query(`
      CREATE UNIQUE INDEX idx_test_unique_without_constraint ON batch_audit (id, created_at);
      SET enable_seqscan = off;
      SELECT count(*) FROM bluematrix_reports WHERE ticker = 'AAPL';
      RESET enable_seqscan;
      SELECT pg_stat_force_next_flush();`);
    try {
      const result = await runInspection(client, event(['unused-indexes'], 100));
      const rows =
        result.reports['unused-indexes']?.status === 'ok' ? result.reports['unused-indexes'].rows : [];
      const names = rows.map((r) => r.index);

      expect(names).toContain('idx_citations_summary');
      expect(names).not.toContain('idx_bluematrix_reports_ticker');
      // Primary keys, UNIQUE constraints and a unique index that backs no constraint.
      expect(names.filter((n) => /_pkey$|_key$/.test(n))).toEqual([]);
      expect(names).not.toContain('idx_test_unique_without_constraint');
      expect(rows.find((r) => r.index === 'idx_citations_summary')).toEqual({
        schema: 'public',
        table: 'citations',
        index: 'idx_citations_summary',
        scans: 0,
        bytes: expect.any(Number),
        size: expect.stringMatching(/\d+ (bytes|kB)/),
        definition: 'CREATE INDEX idx_citations_summary ON public.citations USING btree (summary_id)',
      });
    } finally {
      await client.query('DROP INDEX idx_test_unique_without_constraint');
    }
  });

  it('returns at most the limit, largest first', async () => {
    const result = await runInspection(client, event(['unused-indexes'], 2));
    const rows =
      result.reports['unused-indexes']?.status === 'ok' ? result.reports['unused-indexes'].rows : [];
    expect(rows).toHaveLength(2);
    expect(rows[0]?.bytes).toBeGreaterThanOrEqual(rows[1]?.bytes ?? 0);
  });
});

describe('runInspection: tables and bloat', () => {
  it("lists public's tables largest first with live and dead tuples, as the runbook's bloat check", async () => {
    await client.query(`
      INSERT INTO batch_audit (event, status, details)
      SELECT 'summary', 'ok', jsonb_build_object('pad', repeat('x', 500)) FROM generate_series(1, 400);
      DELETE FROM batch_audit WHERE id % 4 = 0;
      SELECT pg_stat_force_next_flush();`);

    const result = await runInspection(client, event(['tables'], 100));
    const rows = result.reports.tables?.status === 'ok' ? result.reports.tables.rows : [];

    const audit = rows.find((r) => r.table === 'batch_audit');
    expect(audit).toMatchObject({ schema: 'public', liveTuples: 300, deadTuples: 100, deadRatio: 0.25 });
    expect(rows[0]?.totalBytes).toBeGreaterThanOrEqual(rows.at(-1)?.totalBytes ?? 0);
    const sizes = rows.map((r) => r.totalBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(rows.map((r) => r.table)).toEqual(
      expect.arrayContaining(['stock_summaries', 'citations', 'bluematrix_reports', 'schema_migrations']),
    );
    expect(rows.every((r) => r.schema === 'public')).toBe(true);
  });

  it('shows a VACUUM: no dead tuples left and when it ran', async () => {
    await client.query(`
      INSERT INTO batch_audit (event, status) SELECT 'e', 'ok' FROM generate_series(1, 10);
      DELETE FROM batch_audit;
      SELECT pg_stat_force_next_flush();`);
    await client.query('VACUUM batch_audit');
    await client.query('SELECT pg_stat_force_next_flush()');

    const result = await runInspection(client, event(['tables'], 100));
    const rows = result.reports.tables?.status === 'ok' ? result.reports.tables.rows : [];
    const audit = rows.find((r) => r.table === 'batch_audit');
    expect(audit).toMatchObject({ deadTuples: 0, deadRatio: 0 });
    expect(audit?.lastVacuum).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});

describe('runInspection: HNSW index', () => {
  it('gives the definition, parameters, size and the last build the migration runner recorded', async () => {
    const result = await runInspection(client, event(['hnsw']));

    expect(result.reports.hnsw).toEqual({
      status: 'ok',
      rows: [
        {
          index: 'idx_bluematrix_embedding',
          table: 'bluematrix_reports',
          definition: expect.stringMatching(
            /USING hnsw \(embedding vector_cosine_ops\) WITH \(m='?16'?, ef_construction='?200'?\)/,
          ),
          method: 'hnsw',
          valid: true,
          bytes: expect.any(Number),
          size: expect.any(String),
          parameters: { m: '16', ef_construction: '200' },
          scans: 0,
          tableRowsEstimate: expect.any(Number),
          lastBuild: {
            action: 'created',
            parameters: 'm=16,ef_construction=200',
            builtAt: expect.stringMatching(/^\d{4}-/),
          },
        },
      ],
    });
  });

  it('is "unavailable" naming the index when it does not exist', async () => {
    await client.query('DROP INDEX idx_bluematrix_embedding');
    try {
      const result = await runInspection(client, event(['hnsw']));
      expect(result.reports.hnsw).toEqual({
        status: 'unavailable',
        reason: expect.stringContaining('idx_bluematrix_embedding does not exist'),
      });
    } finally {
      await client.query(
        `CREATE INDEX idx_bluematrix_embedding ON bluematrix_reports
           USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200)`,
      );
    }
  });
});

describe('runInspection: the whole run', () => {
  it('says which database and server it read, and since when the statistics count', async () => {
    const result = await runInspection(client, event(['tables']));
    expect(result.database).toBe('postgres');
    expect(result.serverVersion).toMatch(/^1[7-9]/);
    expect(result.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(result.limit).toBe(20);
    expect(Object.keys(result.reports)).toEqual(['tables']);
  });

  it('reports a failing report as failed with its SQLSTATE and still runs the others', async () => {
    // A view of the right name whose read fails: the catalogue says the relation exists.
    await client.query(`CREATE VIEW pg_stat_statements AS SELECT 1 / 0 AS dbid`);
    const result = await runInspection(client, event(['queries', 'hnsw']));
    expect(result.reports.queries).toMatchObject({ status: 'failed', code: '42703' });
    expect(result.reports.hnsw?.status).toBe('ok');
  });

  it('rejects a limit out of bounds before reading anything', async () => {
    const statements: string[] = [];
    const spy: SqlClient = {
      query: (text, params) => {
        statements.push(text);
        return client.query(text, params);
      },
    };
    for (const limit of [0, 101, 2.5]) {
      await expect(runInspection(spy, { reports: ['tables'], limit })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    }
    expect(statements).toEqual([]);
  });

  it('changes nothing in the database: the same run twice gives the same reports', async () => {
    await settleStatistics(db);
    const first = await runInspection(client, event(['unused-indexes', 'tables', 'hnsw']));
    const second = await runInspection(client, event(['unused-indexes', 'tables', 'hnsw']));
    expect({ ...second, at: first.at }).toEqual(first);
  });
});

describe('inReadOnlyTransaction', () => {
  it('runs the work read-only with the statement timeout, then rolls back, so a write fails and leaves nothing', async () => {
    const inside = await inReadOnlyTransaction(client, 10_000, async () => {
      const { rows } = await client.query<{ ro: string; timeout: string }>(
        `SELECT current_setting('transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout`,
      );
      return rows[0];
    });
    expect(inside).toEqual({ ro: 'on', timeout: '10s' });

    const write = inReadOnlyTransaction(client, 10_000, () =>
      client.query(`INSERT INTO batch_audit (event, status) VALUES ('write', 'attempt')`),
    );
    await expect(write).rejects.toMatchObject({ code: '25006' });

    const { rows } = await client.query<{ n: number; ro: string }>(
      `SELECT (SELECT count(*)::int FROM batch_audit) AS n, current_setting('transaction_read_only') AS ro`,
    );
    expect(rows[0]).toEqual({ n: 0, ro: 'off' });
  });

  it('refuses a timeout out of bounds before opening a transaction', async () => {
    await expect(inReadOnlyTransaction(client, 0, async () => 1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(inReadOnlyTransaction(client, 1.5, async () => 1)).rejects.toBeInstanceOf(InvalidInputError);
  });
});
