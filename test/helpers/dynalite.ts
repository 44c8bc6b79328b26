import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { OPS_TABLE_KEYS, OPS_TABLE_TRANSLATE_CONFIG } from '../../lambdas/shared/ops-table';
import { recordSent } from './aws-mock';

/**
 * A real DynamoDB engine in this process: dynalite implements the DynamoDB API (conditions,
 * update expressions, queries, validation) over an in-memory store, but not transactions.
 * One server per worker; each test gets a table of its own, so tests never see each other's
 * items and a condition's outcome is decided by the engine, not by the test.
 */
let server: Promise<{ endpoint: string; close(): void }> | undefined;

function start(): Promise<{ endpoint: string; close(): void }> {
  server ??= new Promise((resolve, reject) => {
    const s = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      // Keep-alive sockets must not hold the worker open at the end of the run.
      s.unref();
      resolve({ endpoint: `http://127.0.0.1:${port}`, close: () => s.close() });
    });
  });
  return server;
}

/** Client settings for the local engine: fake credentials, no retries of our own making. */
export async function dynaliteClientConfig(
  overrides: DynamoDBClientConfig = {},
): Promise<DynamoDBClientConfig> {
  const { endpoint } = await start();
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    ...overrides,
  };
}

/**
 * A DynamoDB client of the local engine whose commands are recorded for the permission check
 * like a mocked client's (the document client's commands arrive here marshalled).
 */
export async function localDynamoDbClient(overrides: DynamoDBClientConfig = {}): Promise<DynamoDBClient> {
  const client = new DynamoDBClient(await dynaliteClientConfig(overrides));
  client.middlewareStack.add(
    (next, context) => (args) => {
      recordSent({
        client: 'DynamoDBClient',
        command: String(context.commandName),
        input: args.input as Record<string, unknown>,
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordSentCommand' },
  );
  return client;
}

/** An ops table on the local engine, created with the construct's key schema. */
export interface LocalOpsTable {
  readonly tableName: string;
  /** The client the code under test uses (its commands are recorded). */
  readonly client: DynamoDBClient;
  /** A document client translating as the Lambdas' does. */
  readonly ddb: DynamoDBDocumentClient;
  /** Every item, sorted by pk then sk. */
  items(): Promise<Array<Record<string, unknown>>>;
  /** Deletes the table. */
  drop(): Promise<void>;
}

let tables = 0;

/** A new, empty ops table (about 5 ms). */
export async function createOpsTable(name = `ops-${process.pid}-${++tables}`): Promise<LocalOpsTable> {
  // The test's own set-up and reads go through a client that records nothing.
  const admin = new DynamoDBClient(await dynaliteClientConfig());
  const client = await localDynamoDbClient();
  const { partitionKey, sortKey } = OPS_TABLE_KEYS;
  await admin.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  const ddb = DynamoDBDocumentClient.from(client, OPS_TABLE_TRANSLATE_CONFIG);
  return {
    tableName: name,
    client,
    ddb,
    async items() {
      const { Items = [] } = await DynamoDBDocumentClient.from(admin).send(
        new ScanCommand({ TableName: name }),
      );
      const key = (i: Record<string, unknown>) => `${String(i[partitionKey])}\u0000${String(i[sortKey])}`;
      return Items.sort((a, b) => key(a).localeCompare(key(b)));
    },
    async drop() {
      await admin.send(new DeleteTableCommand({ TableName: name }));
    },
  };
}
