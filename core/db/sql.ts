/**
 * The part of a PostgreSQL client the logic needs. `pg.Client` satisfies it, and so does a
 * thin adapter over PGlite in the tests (real PostgreSQL semantics, in-process).
 */
export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: R[] }>;
}
