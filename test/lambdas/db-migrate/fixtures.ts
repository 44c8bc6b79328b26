import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlClient } from '../../../lambdas/shared/db';

/** The migrations the Lambda ships. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', '..', 'lambdas', 'db-migrate', 'migrations');

/**
 * PGlite has pgvector but not pg_stat_statements (production passes both), so tests create
 * only vector.
 */
export const TEST_EXTENSIONS = ['vector'];

/** The runbook's HNSW parameters. */
export const RUNBOOK_HNSW = { m: 16, efConstruction: 200 };

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'db-migrate-'));
  tempDirs.push(dir);
  return dir;
}

/** Removes the directories migrationsWith and migrationsDirOf made (afterAll). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temp copy of the shipped migrations plus (or overwritten by) `files`. */
export function migrationsWith(files: Record<string, string>): string {
  const dir = tempDir();
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

/** A temp directory holding exactly `files`. */
export function migrationsDirOf(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

/**
 * Wraps a client to record every statement sent and, optionally, to act before one is sent
 * (fail it, or look at the database while the run is in progress).
 */
export function recordingClient(
  inner: SqlClient,
  before?: (text: string) => Promise<void> | void,
): SqlClient & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    async query<R extends Record<string, unknown>>(text: string, params?: unknown[]) {
      statements.push(text);
      await before?.(text);
      return inner.query<R>(text, params);
    },
  };
}
