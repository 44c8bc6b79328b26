import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Client, type ClientConfig, DatabaseError } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type DbMaintenanceValues,
  dbMaintenanceContract,
  LAMBDA_RUNTIME_CA_BUNDLE,
} from '../../../core/contracts/database';
import { MAINTENANCE_TABLES, MaintenanceError } from '../../../core/db/maintenance';
import { DependencyUnavailableError, InvalidInputError } from '../../../core/errors';
import {
  type ClosableSqlClient,
  type HandlerDeps,
  handleEvent,
  handler,
} from '../../../lambdas/db-maintenance/handler';
import { type ConnectOptions, connectWithSecret } from '../../../lambdas/shared/db';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import { createMigratedDatabase, type TestDatabase } from '../../helpers/pglite';
import { checkDeclaredCalls } from '../../iam/declared-calls';

checkDeclaredCalls('db-maintenance');

const NOW = new Date('2025-06-01T03:00:00.000Z');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fa-ai-db-credentials-AbCdEf';
/** What the stack gives the function (dbMaintenanceContract's values). */
const VALUES: DbMaintenanceValues = {
  secretArn: SECRET_ARN,
  databaseName: 'fa_ai_db',
  host: 'fa-ai-proxy.proxy-abc123.us-east-1.rds.amazonaws.com',
  archiveRetentionDays: 365,
  caCertificates: LAMBDA_RUNTIME_CA_BUNDLE,
};
const ENV = dbMaintenanceContract.serialize(VALUES);
/** The JSON RDS writes into a managed credentials secret. */
const RDS_SECRET = {
  username: 'fa_ai_admin',
  password: 's3cr3t-P@ss',
  engine: 'postgres',
  host: 'fa-ai-db.cluster-abc123.us-east-1.rds.amazonaws.com',
  port: 5432,
  dbname: 'fa_ai_db',
};

const secretsMock = mockClient(SecretsManagerClient);
const secrets = testClient(SecretsManagerClient, { region: 'us-east-1' });
let db: TestDatabase;

/** EMF documents Powertools wrote to stdout during the test. */
let emf: Array<Record<string, unknown>>;
let logger: Logger;
let metrics: Metrics;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.client.end();
});

beforeEach(async () => {
  await db.client.query('TRUNCATE batch_audit, batch_audit_archive');
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(RDS_SECRET) });
  emf = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.includes('"_aws"')) emf.push(JSON.parse(line));
    }
    return true;
  });
  logger = new Logger({ serviceName: 'db-maintenance', logLevel: 'SILENT' });
  metrics = new Metrics({ namespace: 'Test/Automation', serviceName: 'db-maintenance' });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A pg.Client stand-in backed by the shared PGlite database; `end` leaves the database open. */
function pgliteClient(calls: { ended: number }) {
  return {
    connect: async () => undefined,
    query: (text: string, params?: unknown[]) => db.client.query(text, params),
    end: async () => {
      calls.ended += 1;
    },
  };
}

/** connectWithSecret for real (secret parsing, config), with the socket replaced. */
function connectVia(
  make: (config: ClientConfig) => object,
  seen: ClientConfig[] = [],
): HandlerDeps['connect'] {
  return async (client: SecretsManagerClient, options: ConnectOptions) =>
    connectWithSecret(client, {
      ...options,
      createClient: (config) => {
        seen.push(config);
        return make(config) as Client;
      },
    });
}

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return { secrets, env: ENV, now: () => NOW, observability: { logger, metrics }, ...overrides };
}

/** The metric values and task dimension of the one EMF document published. */
function published(): Record<string, unknown> {
  expect(emf).toHaveLength(1);
  const [doc] = emf;
  return doc ?? {};
}

async function insertAuditAged(days: number[]): Promise<void> {
  await db.client.query(
    `INSERT INTO batch_audit (ticker, event, status, details, created_at)
     SELECT 'AAPL', 'summary', 'ok', jsonb_build_object('age', d), $1::timestamptz - make_interval(days => d)
       FROM unnest($2::int[]) d`,
    [NOW.toISOString(), days],
  );
}

async function counts(): Promise<{ live: number; archived: number; distinctIds: number }> {
  const { rows } = await db.client.query<{ live: number; archived: number; distinct_ids: number }>(
    `SELECT (SELECT count(*)::int FROM batch_audit) AS live,
            (SELECT count(*)::int FROM batch_audit_archive) AS archived,
            (SELECT count(DISTINCT id)::int FROM (SELECT id FROM batch_audit UNION ALL SELECT id FROM batch_audit_archive) ids)
              AS distinct_ids`,
  );
  const row = rows[0];
  return { live: Number(row?.live), archived: Number(row?.archived), distinctIds: Number(row?.distinct_ids) };
}

describe('handleEvent: input', () => {
  it.each([
    ['no event', undefined],
    ['no task', {}],
    ['an unknown task', { task: 'daily' }],
    ['a task of the wrong type', { task: 7 }],
    ['a bare string', 'weekly'],
  ])('rejects %s without connecting and counts the failure', async (_, event) => {
    const connect = vi.fn();

    const error = await handleEvent(event, deps({ connect })).catch((e) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/task/);
    expect(error.message).toContain('"weekly"|"monthly"');
    expect(connect).not.toHaveBeenCalled();
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(published()).toMatchObject({ MaintenanceFailed: 1, task: 'unknown' });
  });

  it.each([
    ['DB_SECRET_ARN', { DB_SECRET_ARN: undefined }],
    ['DB_NAME', { DB_NAME: '' }],
    ['ARCHIVE_RETENTION_DAYS', { ARCHIVE_RETENTION_DAYS: 'twelve' }],
    ['ARCHIVE_RETENTION_DAYS', { ARCHIVE_RETENTION_DAYS: '0' }],
  ])('rejects a configuration with a bad %s without connecting', async (variable, env) => {
    const connect = vi.fn();

    const error = await handleEvent({ task: 'monthly' }, deps({ connect, env: { ...ENV, ...env } })).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(variable);
    expect(connect).not.toHaveBeenCalled();
    expect(published()).toMatchObject({ MaintenanceFailed: 1, task: 'monthly' });
  });

  it('the exported handler validates the event before any AWS or database call', async () => {
    // The module's own logger writes the expected error log to stderr.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(handler({ task: 'hourly' })).rejects.toThrow(InvalidInputError);
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(String(stderr.mock.calls[0]?.[0])).toContain('InvalidInputError');
    expect(published()).toMatchObject({ MaintenanceFailed: 1, task: 'unknown' });
  });
});

describe('handleEvent: monthly', () => {
  it('connects with the RDS secret through the proxy, archives, closes, and counts; a redelivery archives nothing', async () => {
    await insertAuditAged([500, 400, 200, 100, 10]);
    const calls = { ended: 0 };
    const configs: ClientConfig[] = [];
    const connect = connectVia(() => pgliteClient(calls), configs);
    const env = dbMaintenanceContract.serialize({ ...VALUES, archiveRetentionDays: 180 });

    const result = await handleEvent({ task: 'monthly' }, deps({ connect, env }));

    expect(result).toMatchObject({
      task: 'monthly',
      report: { archivedRows: 3, batches: 1, cutoff: '2024-12-03T03:00:00.000Z', analyzed: true },
    });
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
    expect(configs).toEqual([
      expect.objectContaining({
        host: ENV.DB_HOST,
        port: 5432,
        user: RDS_SECRET.username,
        password: RDS_SECRET.password,
        database: 'fa_ai_db',
        ssl: { rejectUnauthorized: true },
        connectionTimeoutMillis: 10_000,
        statement_timeout: 14 * 60_000,
      }),
    ]);
    expect(calls.ended).toBe(1);
    expect(await counts()).toEqual({ live: 2, archived: 3, distinctIds: 5 });
    const doc = published();
    expect(doc).toMatchObject({
      MaintenanceSucceeded: 1,
      ArchivedRows: 3,
      task: 'monthly',
      service: 'db-maintenance',
    });
    expect(doc).not.toHaveProperty('MaintenanceFailed');

    emf = [];
    const redelivered = await handleEvent({ task: 'monthly' }, deps({ connect, env }));

    expect(redelivered.report).toMatchObject({ archivedRows: 0, batches: 0 });
    expect(await counts()).toEqual({ live: 2, archived: 3, distinctIds: 5 });
    expect(published()).toMatchObject({ MaintenanceSucceeded: 1, ArchivedRows: 0, task: 'monthly' });
    expect(calls.ended).toBe(2);
  });

  it('reports an unreachable database clearly, counts the failure and archives nothing', async () => {
    await insertAuditAged([500, 400]);
    const refused = Object.assign(new Error(`connect ECONNREFUSED 10.0.3.17:5432`), { code: 'ECONNREFUSED' });
    const connect = connectVia(() => ({
      connect: () => Promise.reject(refused),
      end: async () => undefined,
    }));
    const logError = vi.spyOn(logger, 'error');

    const error = await handleEvent({ task: 'monthly' }, deps({ connect })).catch((e) => e);

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error.message).toContain(`Cannot connect to ${ENV.DB_HOST}:5432/fa_ai_db`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(logError).toHaveBeenCalledWith(
      'Database maintenance failed',
      expect.objectContaining({ task: 'monthly' }),
    );
    const doc = published();
    expect(doc).toMatchObject({ MaintenanceFailed: 1, task: 'monthly' });
    expect(doc).not.toHaveProperty('MaintenanceSucceeded');
    expect(doc).not.toHaveProperty('ArchivedRows');
    expect(await counts()).toEqual({ live: 2, archived: 0, distinctIds: 2 });
  });

  it('loses no rows when a statement times out mid-archive, and the retry finishes the job', async () => {
    // More than one default batch (10,000 rows), so the timeout hits after a committed batch.
    await db.client.query(
      `INSERT INTO batch_audit (ticker, event, status, details, created_at)
       SELECT 'AAPL', 'summary', 'ok', jsonb_build_object('n', g), $1::timestamptz - make_interval(days => 400, secs => g)
         FROM generate_series(1, 10050) g`,
      [NOW.toISOString()],
    );
    await insertAuditAged([30]);
    let archiveStatements = 0;
    const calls = { ended: 0 };
    const timingOut = (): ClosableSqlClient => ({
      query: (text, params) => {
        if (/DELETE FROM batch_audit/.test(text) && ++archiveStatements === 2) {
          const timeout = new DatabaseError('canceling statement due to statement timeout', 0, 'error');
          timeout.code = '57014';
          return Promise.reject(timeout);
        }
        return db.client.query(text, params);
      },
      end: async () => {
        calls.ended += 1;
      },
    });
    const logError = vi.spyOn(logger, 'error');

    const error = await handleEvent({ task: 'monthly' }, deps({ connect: async () => timingOut() })).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(MaintenanceError);
    expect(error).toMatchObject({ step: 'archive', table: 'batch_audit' });
    expect(error.failures).toEqual([
      expect.objectContaining({
        step: 'archive',
        code: '57014',
        message: expect.stringContaining('statement timeout'),
      }),
    ]);
    expect(error.partialReport).toMatchObject({ archivedRows: 10_000, batches: 1 });
    expect(calls.ended).toBe(1);
    expect(logError).toHaveBeenCalledWith(
      'Database maintenance failed',
      expect.objectContaining({ task: 'monthly', step: 'archive', table: 'batch_audit' }),
    );
    expect(published()).toMatchObject({ MaintenanceFailed: 1, ArchivedRows: 10_000, task: 'monthly' });
    expect(await counts()).toEqual({ live: 51, archived: 10_000, distinctIds: 10_051 });

    // Lambda's asynchronous retry delivers the same event again.
    emf = [];
    const retried = await handleEvent({ task: 'monthly' }, deps({ connect: async () => timingOut() }));
    expect(retried.report).toMatchObject({ archivedRows: 50, batches: 1 });
    expect(await counts()).toEqual({ live: 1, archived: 10_050, distinctIds: 10_051 });
    expect(published()).toMatchObject({ MaintenanceSucceeded: 1, ArchivedRows: 50 });
  });

  it('keeps the outcome when closing the connection fails', async () => {
    const logWarn = vi.spyOn(logger, 'warn');
    const connect = async (): Promise<ClosableSqlClient> => ({
      query: (text, params) => db.client.query(text, params),
      end: () => Promise.reject(new Error('Connection terminated')),
    });

    const result = await handleEvent({ task: 'monthly' }, deps({ connect }));

    expect(result.task).toBe('monthly');
    expect(logWarn).toHaveBeenCalledWith('Closing the database connection failed', expect.anything());
    expect(published()).toMatchObject({ MaintenanceSucceeded: 1 });
  });
});

describe('handleEvent: weekly', () => {
  it('vacuums and reindexes every runbook table and counts the success under task=weekly', async () => {
    const calls = { ended: 0 };

    const result = await handleEvent(
      { task: 'weekly' },
      deps({ connect: connectVia(() => pgliteClient(calls)) }),
    );

    expect(result.task).toBe('weekly');
    expect(result.report).toMatchObject({
      vacuumed: [...MAINTENANCE_TABLES],
      reindexed: [...MAINTENANCE_TABLES],
    });
    expect(calls.ended).toBe(1);
    const doc = published();
    expect(doc).toMatchObject({ MaintenanceSucceeded: 1, task: 'weekly' });
    expect(doc).not.toHaveProperty('ArchivedRows');
  });
});
