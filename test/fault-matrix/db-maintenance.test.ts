import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DatabaseError } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import {
  type DbMaintenanceValues,
  dbMaintenanceContract,
  LAMBDA_RUNTIME_CA_BUNDLE,
} from '../../core/contracts/database';
import { MaintenanceError } from '../../core/db/maintenance';
import { DependencyUnavailableError, InvalidInputError } from '../../core/errors';
import type { HandlerDeps } from '../../lambdas/db-maintenance/handler';
import * as source from '../../lambdas/db-maintenance/handler';
import { underTest } from '../bundles/under-test';
import { testClient } from '../helpers/aws-clients';
import { mockClient } from '../helpers/aws-mock';
import { connectToPglite, createMigratedDatabase, type TestDatabase } from '../helpers/pglite';
import { cell, denied, throttled } from './matrix';

const lambda = underTest('db-maintenance', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const NOW = new Date('2025-06-01T03:00:00.000Z');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fa-ai-db-credentials-AbCdEf';
/** What the stack gives the function (dbMaintenanceContract's values). */
const VALUES: DbMaintenanceValues = {
  secretArn: SECRET_ARN,
  databaseName: 'fa_ai_db',
  host: 'fa-ai-proxy.proxy-abc123.us-east-1.rds.amazonaws.com',
  archiveRetentionDays: 180,
  caCertificates: LAMBDA_RUNTIME_CA_BUNDLE,
};
const ENV = dbMaintenanceContract.serialize(VALUES);
const RDS_SECRET = { username: 'fa_ai_admin', password: 's3cr3t-P@ss', host: 'db.internal', port: 5432 };

const secretsMock = mockClient(SecretsManagerClient);
const secrets = testClient(SecretsManagerClient, { region: 'us-east-1' });
let db: TestDatabase;
let statements: string[];
let out: string[];

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.client.end();
});

beforeEach(async () => {
  await db.client.query('TRUNCATE batch_audit, batch_audit_archive');
  await insertAuditAged([500, 400, 200, 100, 10]);
  statements = [];
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(RDS_SECRET) });
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

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

const UNTOUCHED = { live: 5, archived: 0, distinctIds: 5 };
const ARCHIVED = { live: 2, archived: 3, distinctIds: 5 };

/** The real connectWithSecret over the shared PGlite database, recording each statement. */
function connectVia(
  fail?: (text: string) => Error | undefined,
  onConnect?: () => Promise<void>,
): HandlerDeps['connect'] {
  return connectToPglite(() => ({ db, statements }), fail, onConnect);
}

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    secrets,
    env: ENV,
    now: () => NOW,
    connect: connectVia(),
    observability: {
      logger: new Logger({ serviceName: 'db-maintenance', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test/Automation', serviceName: 'db-maintenance' }),
    },
    ...overrides,
  };
}

function metricsOut(): string {
  return out.join('');
}

lambda.describe('db-maintenance fault matrix', () => {
  cell('db-maintenance', 'malformed-event', async () => {
    for (const event of ['weekly', { task: 'daily' }, { task: 7 }, [{ task: 'monthly' }]]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(statements).toEqual([]);
    expect(await counts()).toEqual(UNTOUCHED);
  });

  cell('db-maintenance', 'empty-event', async () => {
    await expect(handleEvent({}, deps())).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, deps())).rejects.toBeErrorOf(InvalidInputError);
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(statements).toEqual([]);
  });

  cell('db-maintenance', 'extra-fields', async () => {
    const result = await handleEvent({ task: 'monthly', extra: true, detail: { a: 1 } }, deps());

    expect(result).toMatchObject({ task: 'monthly', report: { archivedRows: 3, batches: 1 } });
    expect(await counts()).toEqual(ARCHIVED);
  });

  cell('db-maintenance', 'throttling', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(throttled())
      .resolves({ SecretString: JSON.stringify(RDS_SECRET) });

    // connectWithSecret retries a throttled secret read: the outcome is the unthrottled one.
    const result = await handleEvent({ task: 'monthly' }, deps());
    expect(result.report).toMatchObject({ archivedRows: 3 });
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(await counts()).toEqual(ARCHIVED);
  });

  cell('db-maintenance', 'access-denied', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(denied('secretsmanager:GetSecretValue'));

    await expect(handleEvent({ task: 'monthly' }, deps())).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(statements).toEqual([]);
    expect(await counts()).toEqual(UNTOUCHED);
    expect(metricsOut()).toContain('"MaintenanceFailed"');
    expect(metricsOut()).not.toContain('"MaintenanceSucceeded"');
  });

  cell('db-maintenance', 'timeout', async () => {
    const connect = connectVia(undefined, () =>
      Promise.reject(new Error('Connection terminated due to connection timeout')),
    );

    const error = await handleEvent({ task: 'monthly' }, deps({ connect })).catch((e: unknown) => e);

    expect(error).toBeErrorOf(DependencyUnavailableError);
    expect((error as Error).message).toContain('connection timeout');
    expect(statements).toEqual([]);
    expect(await counts()).toEqual(UNTOUCHED);
    expect(metricsOut()).toContain('"MaintenanceFailed"');
  });

  cell('db-maintenance', 'partial-failure', async () => {
    const permission = new DatabaseError('permission denied for table batch_audit_archive', 0, 'error');
    permission.code = '42501';
    const connect = connectVia((text) => (/DELETE FROM batch_audit/.test(text) ? permission : undefined));

    const error = await handleEvent({ task: 'monthly' }, deps({ connect })).catch((e: unknown) => e);

    expect(error).toBeErrorOf(MaintenanceError);
    expect(error).toMatchObject({ step: 'archive', table: 'batch_audit' });
    // The independent steps after the failed archive still ran.
    expect(statements).toContain('ANALYZE');
    expect(statements.some((s) => s.includes('pg_stat_user_indexes'))).toBe(true);
    expect(await counts()).toEqual(UNTOUCHED);
    expect(metricsOut()).toContain('"MaintenanceFailed"');
  });

  cell('db-maintenance', 'duplicate-delivery', async () => {
    const first = await handleEvent({ task: 'monthly' }, deps());
    const second = await handleEvent({ task: 'monthly' }, deps());

    expect(first.report).toMatchObject({ archivedRows: 3, batches: 1 });
    expect(second.report).toMatchObject({ archivedRows: 0, batches: 0 });
    expect(await counts()).toEqual(ARCHIVED);
  });
});
