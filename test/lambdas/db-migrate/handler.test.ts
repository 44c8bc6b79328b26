import { createServer } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { dbMigrateContract, LAMBDA_RUNTIME_CA_BUNDLE } from '../../../core/contracts/database';
import { mockClient } from '../../helpers/aws-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyUnavailableError, InvalidInputError } from '../../../core/errors';
import {
  type HandlerDeps,
  handleEvent,
  handler,
  PHYSICAL_RESOURCE_ID,
} from '../../../lambdas/db-migrate/handler';
import { loadMigrations, MigrationFailedError, migrationsChecksum } from '../../../lambdas/db-migrate/logic';
import { testClient } from '../../helpers/aws-clients';
import { createTestDatabase, type TestDatabase } from '../../helpers/pglite';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import { MIGRATIONS_DIR, migrationsWith, removeTempDirs } from './fixtures';

checkDeclaredCalls('db-migrate');

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:fa-ai-db-credentials-AbCdEf';
const PROXY_HOST = 'fa-ai-db-proxy.proxy-c0ffee.eu-west-1.rds.amazonaws.com';

/** As CloudFormation sends them: numbers stringified, ServiceToken included. */
const PROPERTIES = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:fa-ai-db-migrate-provider',
  SecretArn: SECRET_ARN,
  DatabaseName: 'fa_ai_db',
  DatabaseHost: PROXY_HOST,
  // PGlite has no pg_stat_statements; production also passes it.
  Extensions: ['vector'],
  HnswM: '16',
  HnswEfConstruction: '200',
  MigrationsChecksum: 'e3b0c44298fc1c149afbf4c8996fb924',
};

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
let database: TestDatabase;

/** Handler dependencies with a PGlite-backed connect whose end() leaves the database open. */
function testDeps(overrides: Partial<HandlerDeps> = {}) {
  const end = vi.fn(async () => undefined);
  const connect = vi.fn(async () => ({ query: database.client.query, end }));
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'db-migrate' });
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const publish = vi.spyOn(metrics, 'publishStoredMetrics').mockReturnThis();
  const deps: HandlerDeps = {
    secrets,
    env: dbMigrateContract.serialize({ caCertificates: LAMBDA_RUNTIME_CA_BUNDLE }),
    migrationsDir: MIGRATIONS_DIR,
    connect,
    logger: new Logger({ serviceName: 'db-migrate', logLevel: 'SILENT' }),
    metrics,
    ...overrides,
  };
  return { deps, connect, end, addMetric, publish };
}

beforeAll(async () => {
  database = await createTestDatabase();
});
beforeEach(() => {
  secretsMock.reset();
});
afterAll(async () => {
  await database.client.end();
  removeTempDirs();
});

describe('Delete', () => {
  it('keeps the schema: reads no secret and opens no connection, whatever the properties', async () => {
    const { deps, connect } = testDeps();
    await expect(handleEvent(cfnEvent('Delete'), deps)).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    });
    await expect(handleEvent(cfnEvent('Delete', { HnswM: 'junk' }), deps)).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    });
    expect(connect).not.toHaveBeenCalled();
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  it('is what the exported handler does too', async () => {
    await expect(handler(cfnEvent('Delete'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });
});

// In order: Create migrates the database the Updates then find migrated.
describe('Create and Update', () => {
  it('Create connects with the secret and host given, applies the migrations and builds the index', async () => {
    const { deps, connect, end, addMetric, publish } = testDeps();

    const response = await handleEvent(cfnEvent('Create'), deps);

    expect(response).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: '1', HnswIndex: 'created' },
    });
    expect(connect).toHaveBeenCalledExactlyOnceWith(secrets, {
      secretArn: SECRET_ARN,
      database: 'fa_ai_db',
      host: PROXY_HOST,
      statementTimeoutMs: 540_000,
    });
    expect(end).toHaveBeenCalledOnce();
    expect(addMetric).toHaveBeenCalledWith('MigrationsApplied', 'Count', 1);
    expect(publish).toHaveBeenCalledOnce();
    const { rows } = await database.client.query('SELECT version FROM schema_migrations');
    expect(rows).toEqual([{ version: '0001' }]);
  });

  it('Update with the same properties (numbers as numbers this time) applies nothing', async () => {
    const { deps, addMetric } = testDeps();
    const response = await handleEvent(
      cfnEvent('Update', { ...PROPERTIES, HnswM: 16, HnswEfConstruction: 200 }),
      deps,
    );
    expect(response.Data).toEqual({ Applied: '0', HnswIndex: 'unchanged' });
    expect(addMetric).toHaveBeenCalledWith('MigrationsApplied', 'Count', 0);
  });

  it('Update with new HNSW parameters rebuilds the index', async () => {
    const { deps } = testDeps();
    const response = await handleEvent(
      cfnEvent('Update', { ...PROPERTIES, HnswM: ' 24 ', HnswEfConstruction: '100' }),
      deps,
    );
    expect(response.Data).toEqual({ Applied: '0', HnswIndex: 'rebuilt' });
    const { rows } = await database.client.query(
      "SELECT reloptions FROM pg_class WHERE relname = 'idx_bluematrix_embedding'",
    );
    expect(rows).toEqual([{ reloptions: ['m=24', 'ef_construction=100'] }]);
  });

  it("warns when MigrationsChecksum is not the bundled files' checksum, and still migrates", async () => {
    const bundled = migrationsChecksum(loadMigrations(MIGRATIONS_DIR));
    const { deps } = testDeps();
    const warn = vi.spyOn(deps.logger as Logger, 'warn');

    await handleEvent(cfnEvent('Update', { ...PROPERTIES, MigrationsChecksum: bundled }), deps);
    expect(warn).not.toHaveBeenCalled();

    const response = await handleEvent(
      cfnEvent('Update', { ...PROPERTIES, MigrationsChecksum: 'stale' }),
      deps,
    );
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('MigrationsChecksum differs'));
    expect(response.PhysicalResourceId).toBe(PHYSICAL_RESOURCE_ID);
  });

  it('closes the connection and counts the failure when a migration fails', async () => {
    const { deps, end, addMetric, publish } = testDeps({
      migrationsDir: migrationsWith({ '0099_broken.sql': 'SELECT 1 / 0;' }),
    });
    await expect(handleEvent(cfnEvent('Update'), deps)).rejects.toThrow(MigrationFailedError);
    expect(end).toHaveBeenCalledOnce();
    expect(addMetric).toHaveBeenCalledWith('MigrationRunsFailed', 'Count', 1);
    expect(publish).toHaveBeenCalledOnce();
  });
});

describe('malformed events', () => {
  const { ServiceToken: _, SecretArn: __, ...withoutSecretArn } = PROPERTIES;
  it.each([
    ['no event at all', undefined, /\(event\)/],
    ['RequestType Bogus', { ...cfnEvent('Create'), RequestType: 'Bogus' }, /RequestType/],
    ['a missing SecretArn', cfnEvent('Create', withoutSecretArn), /ResourceProperties\.SecretArn/],
    [
      'a non-numeric HnswM',
      cfnEvent('Update', { ...PROPERTIES, HnswM: 'sixteen' }),
      /ResourceProperties\.HnswM/,
    ],
    [
      'a fractional HnswEfConstruction',
      cfnEvent('Create', { ...PROPERTIES, HnswEfConstruction: '200.5' }),
      /HnswEfConstruction/,
    ],
    [
      'Extensions as a string',
      cfnEvent('Create', { ...PROPERTIES, Extensions: 'vector' }),
      /ResourceProperties\.Extensions/,
    ],
    ['HnswM out of range', cfnEvent('Create', { ...PROPERTIES, HnswM: '1' }), /HNSW m must be/],
    [
      'an unsafe extension name',
      cfnEvent('Create', { ...PROPERTIES, Extensions: ['vector;drop'] }),
      /Extension name/,
    ],
  ])('%s fails naming the field, before reading the secret or connecting', async (_case, event, message) => {
    const { deps, connect } = testDeps();
    const failure = handleEvent(event, deps);
    await expect(failure).rejects.toThrow(InvalidInputError);
    await expect(failure).rejects.toThrow(message);
    expect(connect).not.toHaveBeenCalled();
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });
});

describe('dependencies (real connectWithSecret, Secrets Manager mocked)', () => {
  it('surfaces a GetSecretValue that stays throttled as the failure, after retrying', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { deps, addMetric } = testDeps({ connect: undefined });

    await expect(handleEvent(cfnEvent('Create'), deps)).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 5);
    expect(addMetric).toHaveBeenCalledWith('MigrationRunsFailed', 'Count', 1);
  });

  it('reports an unreachable database as DependencyUnavailableError', async () => {
    const port = await closedPort();
    secretsMock.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        username: 'fa_admin',
        password: 'not-a-secret',
        host: '127.0.0.1',
        port,
      }),
    });
    const { DatabaseHost: _, ...withoutHost } = PROPERTIES;
    const { deps } = testDeps({ connect: undefined });

    const failure = handleEvent(cfnEvent('Create', withoutHost), deps);
    await expect(failure).rejects.toThrow(DependencyUnavailableError);
    await expect(failure).rejects.toThrow(`127.0.0.1:${port}/fa_ai_db`);
  });
});

/** A local port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
