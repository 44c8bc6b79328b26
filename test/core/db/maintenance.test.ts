import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAINTENANCE_TABLES,
  MaintenanceError,
  runMonthlyMaintenance,
  runWeeklyMaintenance,
} from '../../../core/db/maintenance';
import type { SqlClient } from '../../../core/db/sql';
import { InvalidInputError } from '../../../core/errors';
import { createMigratedDatabase, type TestDatabase } from '../../helpers/pglite';

const NOW = new Date('2025-06-01T03:00:00.000Z');
/** config's default `database.archiveRetentionDays`: the runbook's "older than a year". */
const RETENTION_DAYS = 365;
const DAY_MS = 86_400_000;
const AUDIT_COLUMNS =
  'id, batch_run_id, ticker, tier, event, status, model_used, cost_usd, details, created_at';

let db: TestDatabase;
let client: SqlClient;

beforeAll(async () => {
  db = await createMigratedDatabase();
  client = db.client;
});

afterAll(async () => {
  await db.client.end();
});

function daysAgo(days: number): string {
  return new Date(NOW.getTime() - days * DAY_MS).toISOString();
}

/** Inserts one batch_audit row per age with distinct values in every column; returns their ids. */
async function insertAudit(ages: number[], extra: Record<string, unknown> = {}): Promise<number[]> {
  const { rows: runs } = await client.query<{ id: number }>(
    `INSERT INTO batch_runs (batch_id) VALUES ($1) RETURNING id`,
    [`run-${Math.random()}`],
  );
  const runId = runs[0]?.id;
  const ids: number[] = [];
  for (const [i, age] of ages.entries()) {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO batch_audit (batch_run_id, ticker, tier, event, status, model_used, cost_usd, details, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING id`,
      [
        runId,
        `T${age}`,
        ['hook', 'medium', 'expanded'][i % 3],
        `event-${age}`,
        i % 2 === 0 ? 'ok' : 'error',
        `model-${i}`,
        (i + 1) / 1000,
        JSON.stringify({ age, nested: { i, tags: ['a', String(age)] }, ...extra }),
        daysAgo(age),
      ],
    );
    ids.push(Number(rows[0]?.id));
  }
  return ids;
}

async function auditRows(table: 'batch_audit' | 'batch_audit_archive', ids?: number[]) {
  const { rows } = ids
    ? await client.query(`SELECT ${AUDIT_COLUMNS} FROM ${table} WHERE id = ANY($1::bigint[]) ORDER BY id`, [
        ids,
      ])
    : await client.query(`SELECT ${AUDIT_COLUMNS} FROM ${table} ORDER BY id`);
  return rows;
}

async function count(table: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return Number(rows[0]?.n);
}

/** Every index of the given tables with its current relfilenode (REINDEX gives each a new one). */
async function indexFilenodes(tables: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await client.query<{ index: string; filenode: number }>(
    `SELECT ic.relname AS index, pg_relation_filenode(ic.oid) AS filenode
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
      WHERE t.relname = ANY($1::text[])`,
    [tables],
  );
  return new Map(rows.map((r) => [r.index, Number(r.filenode)]));
}

async function vacuumCounts(): Promise<Map<string, number>> {
  const { rows } = await client.query<{ table: string; vacuums: number }>(
    `SELECT relname AS table, vacuum_count AS vacuums FROM pg_stat_user_tables WHERE schemaname = $1`,
    ['public'],
  );
  return new Map(rows.map((r) => [r.table, Number(r.vacuums)]));
}

describe('runWeeklyMaintenance', () => {
  it('vacuums and concurrently reindexes every runbook table and reports sizes largest first', async () => {
    // Make one table clearly the largest, with incompressible text so it is not TOAST-squeezed.
    await client.query(
      `INSERT INTO bluematrix_reports (report_id, ticker, content)
       SELECT 'r' || g, 'AAPL', (SELECT string_agg(md5(g::text || x::text), '') FROM generate_series(1, 60) x)
         FROM generate_series(1, 300) g`,
      [],
    );
    const filenodesBefore = await indexFilenodes(MAINTENANCE_TABLES);
    const vacuumsBefore = await vacuumCounts();

    const report = await runWeeklyMaintenance(client);

    expect(report.vacuumed).toEqual([...MAINTENANCE_TABLES]);
    expect(report.reindexed).toEqual([...MAINTENANCE_TABLES]);
    expect(report.droppedInvalidIndexes).toEqual([]);

    const vacuumsAfter = await vacuumCounts();
    for (const table of MAINTENANCE_TABLES) {
      expect(vacuumsAfter.get(table), table).toBe((vacuumsBefore.get(table) ?? 0) + 1);
    }
    // The append-only archive is not part of the weekly set.
    expect(vacuumsAfter.get('batch_audit_archive')).toBe(vacuumsBefore.get('batch_audit_archive'));

    const filenodesAfter = await indexFilenodes(MAINTENANCE_TABLES);
    expect([...filenodesAfter.keys()].sort()).toEqual([...filenodesBefore.keys()].sort());
    expect(filenodesBefore.size).toBeGreaterThanOrEqual(MAINTENANCE_TABLES.length);
    for (const [index, before] of filenodesBefore) {
      expect(filenodesAfter.get(index), index).not.toBe(before);
    }

    const { rows: publicTables } = await client.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = $1`,
      ['public'],
    );
    expect(report.tableSizes.map((t) => t.table).sort()).toEqual(publicTables.map((t) => t.tablename).sort());
    expect(report.tableSizes[0]?.table).toBe('bluematrix_reports');
    const bytes = report.tableSizes.map((t) => t.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
    for (const size of report.tableSizes) {
      expect(size.bytes).toBeGreaterThan(0);
      expect(size.size).toMatch(/^\d+ (bytes|kB|MB|GB)$/);
    }
  });

  it('drops invalid leftovers of an interrupted concurrent reindex, which REINDEX itself skips', async () => {
    await client.query(
      `CREATE INDEX idx_citations_summary_ccnew ON citations (summary_id);
       UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_citations_summary_ccnew'::regclass;`,
    );

    const report = await runWeeklyMaintenance(client, { tables: ['citations'] });

    expect(report.droppedInvalidIndexes).toEqual(['idx_citations_summary_ccnew']);
    expect(report.reindexed).toEqual(['citations']);
    const remaining = await indexFilenodes(['citations']);
    expect([...remaining.keys()].sort()).toEqual(['citations_pkey', 'idx_citations_summary']);
  });

  it('reindexes the other tables when one fails, then reports every failure by step and table', async () => {
    const before = await indexFilenodes(['batch_runs']);

    const error = await runWeeklyMaintenance(client, { tables: ['no_such_table', 'batch_runs'] }).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(MaintenanceError);
    expect(error.name).toBe('MaintenanceError');
    expect(error.step).toBe('vacuum');
    expect(error.table).toBe('no_such_table');
    expect(error.failures).toEqual([
      expect.objectContaining({ step: 'vacuum', table: 'no_such_table', code: '42P01' }),
      expect.objectContaining({ step: 'reindex', table: 'no_such_table', code: '42P01' }),
    ]);
    expect(error.message).toContain('reindex of no_such_table');
    expect(error.partialReport).toMatchObject({ vacuumed: ['batch_runs'], reindexed: ['batch_runs'] });
    expect(error.partialReport.tableSizes.length).toBeGreaterThan(0);
    const after = await indexFilenodes(['batch_runs']);
    for (const [index, filenode] of before) expect(after.get(index), index).not.toBe(filenode);
  });

  it('rejects a table name that is not a plain identifier before running anything', async () => {
    const seen: string[] = [];
    const spy: SqlClient = {
      query: (text, params) => {
        seen.push(text);
        return client.query(text, params);
      },
    };

    await expect(
      runWeeklyMaintenance(spy, { tables: ['batch_runs', 'x"; DROP TABLE batch_runs; --'] }),
    ).rejects.toThrow(InvalidInputError);
    expect(seen).toEqual([]);
  });
});

describe('runMonthlyMaintenance', () => {
  beforeEach(async () => {
    await client.query(
      'TRUNCATE batch_audit, batch_audit_archive; DROP TRIGGER IF EXISTS poison ON batch_audit_archive;',
    );
  });

  it('moves rows older than the retention to the archive unchanged and leaves recent rows alone', async () => {
    const [old400, old366, atCutoff, recent364, recent10] = await insertAudit([400, 366, 365, 364, 10]);
    const oldIds = [old400, old366].map(Number);
    const keptIds = [atCutoff, recent364, recent10].map(Number);
    const oldBefore = await auditRows('batch_audit', oldIds);
    const keptBefore = await auditRows('batch_audit', keptIds);

    const report = await runMonthlyMaintenance(client, { now: NOW, retentionDays: RETENTION_DAYS });

    expect(report).toMatchObject({
      analyzed: true,
      archivedRows: 2,
      batches: 1,
      cutoff: daysAgo(365),
    });
    expect(await auditRows('batch_audit_archive')).toEqual(oldBefore);
    expect(oldBefore.map((r) => (r.details as { age: number }).age)).toEqual([400, 366]);
    expect(await auditRows('batch_audit')).toEqual(keptBefore);
    const { rows: stamped } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM batch_audit_archive WHERE archived_at IS NOT NULL',
    );
    expect(stamped[0]?.n).toBe(2);

    const again = await runMonthlyMaintenance(client, { now: NOW, retentionDays: RETENTION_DAYS });
    expect(again).toMatchObject({ archivedRows: 0, batches: 0 });
    expect(await count('batch_audit_archive')).toBe(2);
    expect(await count('batch_audit')).toBe(3);
  });

  it('works through a backlog larger than the batch size in several transactions', async () => {
    await insertAudit([800, 700, 600, 500, 450, 420, 390, 30]);

    const report = await runMonthlyMaintenance(client, {
      now: NOW,
      retentionDays: RETENTION_DAYS,
      batchSize: 3,
    });

    expect(report).toMatchObject({ archivedRows: 7, batches: 3 });
    expect(await count('batch_audit_archive')).toBe(7);
    expect((await auditRows('batch_audit')).map((r) => (r.details as { age: number }).age)).toEqual([30]);
  });

  it('honours a shorter retention', async () => {
    await insertAudit([100, 31, 29]);

    const report = await runMonthlyMaintenance(client, { now: NOW, retentionDays: 30 });

    expect(report).toMatchObject({ archivedRows: 2, cutoff: daysAgo(30) });
    expect((await auditRows('batch_audit')).map((r) => (r.details as { age: number }).age)).toEqual([29]);
  });

  it('deletes nothing when copying to the archive fails', async () => {
    const [clashing] = await insertAudit([500, 400, 10]);
    // An archive row that already holds the id: the copy violates the primary key.
    await client.query(
      `INSERT INTO batch_audit_archive (id, event, status, created_at) VALUES ($1, 'stale', 'ok', $2)`,
      [clashing, daysAgo(900)],
    );
    const before = await auditRows('batch_audit');

    const error = await runMonthlyMaintenance(client, { now: NOW, retentionDays: RETENTION_DAYS }).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(MaintenanceError);
    expect(error).toMatchObject({ step: 'archive', table: 'batch_audit' });
    expect(error.failures).toEqual([expect.objectContaining({ step: 'archive', code: '23505' })]);
    expect(error.partialReport).toMatchObject({ archivedRows: 0, batches: 0 });
    expect(await auditRows('batch_audit')).toEqual(before);
    expect(await count('batch_audit_archive')).toBe(1);
  });

  it('keeps the batches committed before a failing one and rolls the failing one back whole', async () => {
    await insertAudit([900, 800]);
    await insertAudit([700], { poison: true });
    await insertAudit([600, 5]);
    await client.query(
      `CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.details ? 'poison' THEN RAISE EXCEPTION 'archive rejected row %', NEW.id; END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER poison BEFORE INSERT ON batch_audit_archive FOR EACH ROW EXECUTE FUNCTION reject_poison();`,
    );
    const all = await auditRows('batch_audit');

    const error = await runMonthlyMaintenance(client, {
      now: NOW,
      retentionDays: RETENTION_DAYS,
      batchSize: 2,
    }).catch((e) => e);

    expect(error).toBeInstanceOf(MaintenanceError);
    expect(error.message).toContain('archive rejected row');
    // Batch 1 (900, 800) committed; batch 2 (700 poisoned, 600) rolled back entirely.
    expect(error.partialReport).toMatchObject({ archivedRows: 2, batches: 1 });
    const archived = await auditRows('batch_audit_archive');
    const remaining = await auditRows('batch_audit');
    expect(archived.map((r) => (r.details as { age: number }).age)).toEqual([900, 800]);
    expect(remaining.map((r) => (r.details as { age: number }).age)).toEqual([700, 600, 5]);
    expect([...archived, ...remaining].sort((a, b) => Number(a.id) - Number(b.id))).toEqual(all);
    await client.query('DROP TRIGGER poison ON batch_audit_archive; DROP FUNCTION reject_poison();');
  });

  it('analyzes and lists never-scanned indexes, leaving out those that back constraints', async () => {
    await client.query(
      `SET enable_seqscan = off;
       SELECT count(*) FROM bluematrix_reports WHERE ticker = 'AAPL';
       RESET enable_seqscan;
       SELECT pg_stat_force_next_flush();`,
    );
    const analyzedBefore = await client.query<{ n: number }>(
      `SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE relname = $1`,
      ['batch_audit_archive'],
    );

    const report = await runMonthlyMaintenance(client, { now: NOW, retentionDays: RETENTION_DAYS });

    const indexes = report.unusedIndexes.map((i) => i.index);
    expect(indexes).toContain('idx_citations_summary');
    expect(indexes).not.toContain('idx_bluematrix_reports_ticker');
    expect(indexes.filter((i) => i.endsWith('_pkey') || i.endsWith('_key'))).toEqual([]);
    expect(report.unusedIndexes.every((i) => i.scans === 0)).toBe(true);
    const analyzedAfter = await client.query<{ n: number }>(
      `SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE relname = $1`,
      ['batch_audit_archive'],
    );
    expect(analyzedAfter.rows[0]?.n).toBe(Number(analyzedBefore.rows[0]?.n) + 1);
  });

  it.each([
    [{ retentionDays: 0 }, /retentionDays/],
    [{ retentionDays: 1.5 }, /retentionDays/],
    [{ batchSize: 0 }, /batchSize/],
    [{ batchSize: 1_000_000 }, /batchSize/],
  ])('rejects %o before touching the database', async (options, message) => {
    await insertAudit([1000]);
    await expect(
      runMonthlyMaintenance(client, { now: NOW, retentionDays: RETENTION_DAYS, ...options }),
    ).rejects.toThrow(message);
    await expect(
      runMonthlyMaintenance(client, { now: NOW, retentionDays: RETENTION_DAYS, ...options }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(await count('batch_audit')).toBe(1);
  });
});
