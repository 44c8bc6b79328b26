import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client, ClientConfig } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dbInspectContract, LAMBDA_RUNTIME_CA_BUNDLE } from '../../../core/contracts/database';
import { DependencyUnavailableError, InvalidInputError } from '../../../core/errors';
import { type HandlerDeps, handleEvent, handler } from '../../../lambdas/db-inspect/handler';
import { type ConnectOptions, connectWithSecret } from '../../../lambdas/shared/db';
import { awsError } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import { createMigratedDatabase, settleStatistics, type TestDatabase } from '../../helpers/pglite';
import { checkDeclaredCalls } from '../../iam/declared-calls';

checkDeclaredCalls('db-inspect');

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fa-ai-system/prod/db/master-AbCdEf';
/** The function's environment as the stack sets it (the contract's serializer). */
const ENV = dbInspectContract.serialize({
  secretArn: SECRET_ARN,
  databaseName: 'fa_ai_db',
  host: 'fa-ai-system-db.abc123.us-east-1.rds.amazonaws.com',
  caCertificates: LAMBDA_RUNTIME_CA_BUNDLE,
});
const RDS_SECRET = {
  username: 'fa_ai_admin',
  password: 's3cr3t-P@ss',
  engine: 'postgres',
  host: 'fa-ai-system-db.abc123.us-east-1.rds.amazonaws.com',
  port: 5432,
  dbname: 'fa_ai_db',
};

const secretsMock = mockClient(SecretsManagerClient);
const secrets = testClient(SecretsManagerClient, { region: 'us-east-1' });
let db: TestDatabase;
let emf: Array<Record<string, unknown>>;
let statements: string[];

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.client.end();
});

beforeEach(() => {
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(RDS_SECRET) });
  statements = [];
  emf = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) if (line.includes('"_aws"')) emf.push(JSON.parse(line));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** connectWithSecret for real (secret, config), the socket replaced by the shared PGlite database. */
function connectVia(seen: ClientConfig[] = [], ended = { count: 0 }): HandlerDeps['connect'] {
  return async (client: SecretsManagerClient, options: ConnectOptions) =>
    connectWithSecret(client, {
      ...options,
      createClient: (config) => {
        seen.push(config);
        return {
          connect: async () => undefined,
          query: (text: string, params?: unknown[]) => {
            statements.push(text);
            return db.client.query(text, params);
          },
          end: async () => {
            ended.count += 1;
          },
        } as unknown as Client;
      },
    });
}

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    secrets,
    env: ENV,
    connect: connectVia(),
    observability: {
      logger: new Logger({ serviceName: 'db-inspect', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test/Automation', serviceName: 'db-inspect' }),
    },
    ...overrides,
  };
}

const metricNames = () =>
  emf.flatMap((d) =>
    (
      (d._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics ?? []
    ).flatMap((m) => m.Metrics.map((x) => x.Name)),
  );

describe('handleEvent', () => {
  it('connects with the RDS secret to the instance, with TLS and a statement timeout, runs the reports and closes', async () => {
    const seen: ClientConfig[] = [];
    const ended = { count: 0 };

    const result = await handleEvent(
      { reports: ['hnsw', 'tables'], limit: 5 },
      deps({ connect: connectVia(seen, ended) }),
    );

    expect(Object.keys(result.reports)).toEqual(['hnsw', 'tables']);
    expect(result.reports.hnsw?.status).toBe('ok');
    expect(result.reports.tables?.status === 'ok' && result.reports.tables.rows.length).toBe(5);
    expect(seen[0]).toMatchObject({
      host: ENV.DB_HOST,
      database: 'fa_ai_db',
      user: 'fa_ai_admin',
      ssl: { rejectUnauthorized: true },
      statement_timeout: 10_000,
      connectionTimeoutMillis: 10_000,
    });
    expect(ended.count).toBe(1);
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
    expect(metricNames()).toEqual(['InspectionSucceeded']);
  });

  it('runs every report in a read-only transaction and rolls each back', async () => {
    await handleEvent({ reports: ['queries', 'unused-indexes', 'tables', 'hnsw'] }, deps());
    const begins = statements.filter((s) => s === 'BEGIN TRANSACTION READ ONLY').length;
    expect(begins).toBe(5); // the header and four reports
    expect(statements.filter((s) => s === 'ROLLBACK')).toHaveLength(5);
    expect(
      statements.some((s) => /\b(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|VACUUM|REINDEX)\b/i.test(s)),
    ).toBe(false);
  });

  it('counts a run with a failed report as partly failed, and still returns it', async () => {
    await db.client.query('CREATE VIEW pg_stat_statements AS SELECT 1 AS nothing');
    try {
      const result = await handleEvent({ reports: ['queries', 'hnsw'] }, deps());
      expect(result.reports.queries?.status).toBe('failed');
      expect(result.reports.hnsw?.status).toBe('ok');
      expect(metricNames()).toEqual(['InspectionPartlyFailed']);
    } finally {
      await db.client.query('DROP VIEW pg_stat_statements');
    }
  });

  it.each([
    [{ reports: [] }, 'name at least one report'],
    [{ reports: ['bloat'] }, 'reports.0'],
    [{ reports: ['tables'], limit: 1000 }, 'limit'],
    [{ reports: ['tables'], sql: 'DROP TABLE citations' }, undefined],
  ])('validates %j before any secret read or connection', async (event, message) => {
    if (message === undefined) {
      // Unknown fields (SQL included) are ignored, never run.
      const result = await handleEvent(event, deps());
      expect(result.reports.tables?.status).toBe('ok');
      expect(statements.some((s) => s.includes('DROP'))).toBe(false);
      return;
    }
    const error = await handleEvent(event, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(message);
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(statements).toEqual([]);
    expect(metricNames()).toEqual(['InspectionFailed']);
  });

  it('fails with the missing setting named when the environment is incomplete', async () => {
    const error = await handleEvent({ reports: ['tables'] }, deps({ env: { DB_NAME: 'fa_ai_db' } })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('DB_SECRET_ARN');
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  it('retries a throttled secret read and gives the same result', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ SecretString: JSON.stringify(RDS_SECRET) });
    const result = await handleEvent({ reports: ['hnsw'] }, deps());
    expect(result.reports.hnsw?.status).toBe('ok');
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('fails clearly when the database cannot be reached, and sends no statement', async () => {
    const unreachable: HandlerDeps['connect'] = (client, options) =>
      connectWithSecret(client, {
        ...options,
        createClient: () =>
          ({
            connect: () => Promise.reject(new Error('connect ETIMEDOUT 10.40.3.12:5432')),
            end: async () => undefined,
          }) as unknown as Client,
      });
    const error = await handleEvent({ reports: ['tables'] }, deps({ connect: unreachable })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain(`Cannot connect to ${ENV.DB_HOST}:5432/fa_ai_db`);
    expect(statements).toEqual([]);
    expect(metricNames()).toEqual(['InspectionFailed']);
  });

  it('a repeated (or late) invocation reads the state of now and changes nothing', async () => {
    await settleStatistics(db);
    const first = await handleEvent({ reports: ['tables', 'hnsw'] }, deps());
    const second = await handleEvent({ reports: ['tables', 'hnsw'] }, deps());
    expect({ ...second, at: first.at }).toEqual(first);
  });

  it('the exported handler validates the event before any AWS or database call', async () => {
    await expect(handler({ reports: 'all' })).rejects.toBeInstanceOf(InvalidInputError);
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });
});
