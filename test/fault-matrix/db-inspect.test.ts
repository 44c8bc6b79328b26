import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { dbInspectContract, LAMBDA_RUNTIME_CA_BUNDLE } from '../../core/contracts/database';
import { DependencyUnavailableError, InvalidInputError } from '../../core/errors';
import type { HandlerDeps } from '../../lambdas/db-inspect/handler';
import * as source from '../../lambdas/db-inspect/handler';
import { underTest } from '../bundles/under-test';
import { testClient } from '../helpers/aws-clients';
import { mockClient } from '../helpers/aws-mock';
import {
  connectToPglite,
  createMigratedDatabase,
  settleStatistics,
  type TestDatabase,
} from '../helpers/pglite';
import { cell, denied, throttled } from './matrix';

const lambda = underTest('db-inspect', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fa-ai-system/prod/db/master-AbCdEf';
const ENV = dbInspectContract.serialize({
  secretArn: SECRET_ARN,
  databaseName: 'fa_ai_db',
  host: 'fa-ai-system-db.internal',
  caCertificates: LAMBDA_RUNTIME_CA_BUNDLE,
});
const RDS_SECRET = { username: 'fa_ai_admin', password: 's3cr3t-P@ss', host: 'db.internal', port: 5432 };
const EVENT = { reports: ['tables', 'hnsw'], limit: 10 };

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
  // Runs are compared: counters still pending from earlier writes must not land between two.
  await settleStatistics(db);
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
    connect: connectVia(),
    observability: {
      logger: new Logger({ serviceName: 'db-inspect', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test/Automation', serviceName: 'db-inspect' }),
    },
    ...overrides,
  };
}

/** A result without its clock, for comparing two runs. */
const timeless = (result: { at: string }) => ({ ...result, at: '<now>' });

lambda.describe('db-inspect fault matrix', () => {
  cell('db-inspect', 'malformed-event', async () => {
    for (const event of [
      'tables',
      { reports: ['bloat'] },
      { reports: 'tables' },
      { reports: ['tables'], limit: -1 },
    ]) {
      const error = await handleEvent(event, deps()).catch((e: unknown) => e);
      expect(error).toBeErrorOf(InvalidInputError);
      expect((error as Error).message).toMatch(/reports|limit|expected/);
    }
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(statements).toEqual([]);
  });

  cell('db-inspect', 'empty-event', async () => {
    await expect(handleEvent({}, deps())).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, deps())).rejects.toBeErrorOf(InvalidInputError);
    expect(secretsMock).not.toHaveReceivedAnyCommand();
    expect(statements).toEqual([]);
  });

  cell('db-inspect', 'extra-fields', async () => {
    const plain = await handleEvent(EVENT, deps());
    const extra = await handleEvent({ ...EVENT, sql: 'DROP TABLE citations', detail: { a: 1 } }, deps());
    expect(timeless(extra)).toEqual(timeless(plain));
    expect(statements.some((s) => s.includes('DROP'))).toBe(false);
  });

  cell('db-inspect', 'throttling', async () => {
    const plain = await handleEvent(EVENT, deps());
    // Sinon counts calls from the last reset: rejectsOnce is the next call's answer.
    secretsMock.reset();
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(throttled())
      .resolves({ SecretString: JSON.stringify(RDS_SECRET) });
    const throttledRun = await handleEvent(EVENT, deps());
    expect(timeless(throttledRun)).toEqual(timeless(plain));
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  cell('db-inspect', 'access-denied', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(denied('secretsmanager:GetSecretValue'));
    await expect(handleEvent(EVENT, deps())).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(statements).toEqual([]);
    expect(out.join('')).toContain('"InspectionFailed"');
  });

  cell('db-inspect', 'timeout', async () => {
    const connect = connectVia(undefined, () =>
      Promise.reject(new Error('Connection terminated due to connection timeout')),
    );
    const error = await handleEvent(EVENT, deps({ connect })).catch((e: unknown) => e);
    expect(error).toBeErrorOf(DependencyUnavailableError);
    expect(statements).toEqual([]);
  });

  cell('db-inspect', 'partial-failure', async () => {
    const denial = Object.assign(new Error('permission denied for table pg_class'), { code: '42501' });
    const connect = connectVia((text) => (text.includes('pg_total_relation_size') ? denial : undefined));
    const result = await handleEvent(EVENT, deps({ connect }));
    expect(result.reports.tables).toEqual({
      status: 'failed',
      error: 'permission denied for table pg_class',
      code: '42501',
    });
    expect(result.reports.hnsw?.status).toBe('ok');
    expect(out.join('')).toContain('"InspectionPartlyFailed"');
  });

  cell('db-inspect', 'duplicate-delivery', async () => {
    const first = await handleEvent(EVENT, deps());
    const second = await handleEvent(EVENT, deps());
    expect(timeless(second)).toEqual(timeless(first));
    expect(
      statements.filter((s) => !/^(BEGIN TRANSACTION READ ONLY|ROLLBACK|SET LOCAL)/.test(s)),
    ).not.toContain(expect.stringMatching(/^\s*(INSERT|UPDATE|DELETE)/));
  });
});
