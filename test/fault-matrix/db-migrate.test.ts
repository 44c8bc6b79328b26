import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { dbMigrateContract, LAMBDA_RUNTIME_CA_BUNDLE } from '../../core/contracts/database';
import { DependencyUnavailableError, InvalidInputError } from '../../core/errors';
import * as source from '../../lambdas/db-migrate/handler';
import { type HandlerDeps, PHYSICAL_RESOURCE_ID } from '../../lambdas/db-migrate/handler';
import { MigrationFailedError } from '../../lambdas/db-migrate/logic';
import { type ConnectOptions, connectWithSecret } from '../../lambdas/shared/db';
import { underTest } from '../bundles/under-test';
import { testClient } from '../helpers/aws-clients';
import { mockClient } from '../helpers/aws-mock';
import { createTestDatabase, type TestDatabase } from '../helpers/pglite';
import { MIGRATIONS_DIR, migrationsWith, removeTempDirs } from '../lambdas/db-migrate/fixtures';
import { cell, denied, throttled } from './matrix';

const lambda = underTest('db-migrate', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:fa-ai-db-credentials-AbCdEf';
const PROPERTIES = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:fa-ai-db-migrate-provider',
  SecretArn: SECRET_ARN,
  DatabaseName: 'fa_ai_db',
  DatabaseHost: 'fa-ai-db-proxy.proxy-c0ffee.eu-west-1.rds.amazonaws.com',
  Extensions: ['vector'],
  HnswM: '16',
  HnswEfConstruction: '200',
};
const SECRET = { username: 'fa_admin', password: 'not-a-secret', host: 'db.internal', port: 5432 };

function cfnEvent(requestType: string, properties: Record<string, unknown> = PROPERTIES) {
  return {
    RequestType: requestType,
    ServiceToken: PROPERTIES.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x',
    StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/fa-ai-system-dev-stateful/1',
    RequestId: 'a1b2c3',
    LogicalResourceId: 'DatabaseSchema',
    ResourceType: 'Custom::DatabaseSchema',
    ResourceProperties: properties,
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_RESOURCE_ID }),
  };
}

const secretsMock = mockClient(SecretsManagerClient);
const secrets = testClient(SecretsManagerClient, { region: 'eu-west-1' });
/** Databases of the current test. */
const databases: TestDatabase[] = [];
/** Statements the database received in the current test. */
let statements: string[];

/** A fresh PGlite database per test: cells must not see each other's schema. */
async function freshDatabase() {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

/** The real connectWithSecret (secret read, config) with the socket replaced by `database`. */
function connectTo(database: TestDatabase): HandlerDeps['connect'] {
  return async (client: SecretsManagerClient, options: ConnectOptions) => {
    const connected = await connectWithSecret(client, {
      ...options,
      createClient: () =>
        ({
          connect: async () => undefined,
          end: async () => undefined,
        }) as unknown as Client,
    });
    return Object.assign(connected, {
      query: (text: string, params?: unknown[]) => {
        statements.push(text);
        return database.client.query(text, params);
      },
      end: async () => undefined,
    }) as never;
  };
}

function deps(overrides: Partial<HandlerDeps> = {}) {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'db-migrate' });
  const addMetric = vi.spyOn(metrics, 'addMetric');
  vi.spyOn(metrics, 'publishStoredMetrics').mockReturnThis();
  const connect = vi.fn(async () => {
    throw new Error('connect must not be called');
  });
  const value: HandlerDeps = {
    secrets,
    env: dbMigrateContract.serialize({ caCertificates: LAMBDA_RUNTIME_CA_BUNDLE }),
    migrationsDir: MIGRATIONS_DIR,
    connect,
    logger: new Logger({ serviceName: 'db-migrate', logLevel: 'SILENT' }),
    metrics,
    ...overrides,
  };
  return { deps: value, connect, addMetric };
}

async function appliedVersions(database: TestDatabase) {
  const { rows } = await database.client.query<{ name: string }>(
    'SELECT name FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => r.name);
}

// PGlite takes seconds of CPU to start (far more on a loaded machine): started here, under the
// hook timeout rather than the first cell's test timeout, and reused by freshDatabase().
beforeAll(async () => {
  await (await createTestDatabase()).client.end();
});

beforeEach(() => {
  statements = [];
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(SECRET) });
});

afterEach(async () => {
  vi.restoreAllMocks();
  // Ended databases are emptied and reused by the next cell (test/helpers/pglite.ts).
  for (const d of databases.splice(0)) await d.client.end();
});

afterAll(() => {
  removeTempDirs();
});

lambda.describe('db-migrate fault matrix', () => {
  cell('db-migrate', 'malformed-event', async () => {
    const { deps: d, connect } = deps();
    for (const event of [
      'Create',
      { ...cfnEvent('Create'), RequestType: 'Bogus' },
      cfnEvent('Create', { ...PROPERTIES, HnswM: 'sixteen' }),
      cfnEvent('Create', { ...PROPERTIES, Extensions: ['vector;drop'] }),
    ]) {
      await expect(handleEvent(event, d)).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(connect).not.toHaveBeenCalled();
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  cell('db-migrate', 'empty-event', async () => {
    const { deps: d, connect } = deps();
    await expect(handleEvent({}, d)).rejects.toBeErrorOf(InvalidInputError);
    await expect(handleEvent(undefined, d)).rejects.toBeErrorOf(InvalidInputError);
    // A Create without any properties is malformed too.
    await expect(handleEvent({ RequestType: 'Create' }, d)).rejects.toBeErrorOf(InvalidInputError);
    expect(connect).not.toHaveBeenCalled();
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  cell('db-migrate', 'extra-fields', async () => {
    const database = await freshDatabase();
    const event = { ...cfnEvent('Create', { ...PROPERTIES, Unknown: 'x', Nested: { a: 1 } }), Extra: true };

    const response = await handleEvent(event, deps({ connect: connectTo(database) }).deps);

    // What a plain Create of an empty database answers (see duplicate-delivery).
    expect(response).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '1', HnswIndex: 'created' },
    });
    expect(await appliedVersions(database)).toEqual(['core_schema']);
  });

  cell('db-migrate', 'throttling', async () => {
    const database = await freshDatabase();
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(throttled())
      .resolves({ SecretString: JSON.stringify(SECRET) });
    const { deps: d, addMetric } = deps({ connect: connectTo(database) });

    // connectWithSecret retries a throttled secret read: the outcome is the unthrottled one.
    await expect(handleEvent(cfnEvent('Create'), d)).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '1', HnswIndex: 'created' },
    });
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(addMetric).not.toHaveBeenCalledWith('MigrationRunsFailed', 'Count', 1);
  });

  cell('db-migrate', 'access-denied', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(denied('secretsmanager:GetSecretValue'));
    const { deps: d, addMetric } = deps({ connect: connectWithSecret as HandlerDeps['connect'] });

    await expect(handleEvent(cfnEvent('Create'), d)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(statements).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('MigrationRunsFailed', 'Count', 1);
  });

  cell('db-migrate', 'timeout', async () => {
    const ended = vi.fn(async () => undefined);
    const connect: HandlerDeps['connect'] = (client, options) =>
      connectWithSecret(client, {
        ...options,
        createClient: () =>
          ({
            connect: () => Promise.reject(new Error('Connection terminated due to connection timeout')),
            end: ended,
          }) as unknown as Client,
      }) as never;
    const { deps: d, addMetric } = deps({ connect });

    const error = await handleEvent(cfnEvent('Create'), d).catch((e: unknown) => e);

    expect(error).toBeErrorOf(DependencyUnavailableError);
    expect((error as Error).message).toContain('connection timeout');
    expect(ended).toHaveBeenCalledOnce();
    expect(statements).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('MigrationRunsFailed', 'Count', 1);
  });

  cell('db-migrate', 'partial-failure', async () => {
    // Migrations are ordered and each builds on the previous ones: they are not independent
    // mutations, so "the others still happen" does not apply. A failing one stops the run with
    // a named error and its transaction leaves no trace; the ones before it stay applied.
    const database = await freshDatabase();
    const migrationsDir = migrationsWith({
      '0099_broken.sql': 'CREATE TABLE fault_matrix_half (id int); SELECT 1 / 0;',
    });
    const { deps: d, addMetric } = deps({ connect: connectTo(database), migrationsDir });

    await expect(handleEvent(cfnEvent('Create'), d)).rejects.toBeErrorOf(MigrationFailedError);

    expect(await appliedVersions(database)).toEqual(['core_schema']);
    const { rows } = await database.client.query("SELECT to_regclass('fault_matrix_half') AS t");
    expect(rows).toEqual([{ t: null }]);
    expect(addMetric).toHaveBeenCalledWith('MigrationRunsFailed', 'Count', 1);
  });

  cell('db-migrate', 'duplicate-delivery', async () => {
    const database = await freshDatabase();
    const { deps: d } = deps({ connect: connectTo(database) });
    const first = await handleEvent(cfnEvent('Create'), d);
    const schema = await database.client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );

    const second = await handleEvent(cfnEvent('Create'), d);

    expect(first.Data).toEqual({ Applied: '1', HnswIndex: 'created' });
    expect(second).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '0', HnswIndex: 'unchanged' },
    });
    expect(await appliedVersions(database)).toEqual(['core_schema']);
    expect(
      await database.client.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      ),
    ).toEqual(schema);
  });
});
