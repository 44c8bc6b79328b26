import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
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

/**
 * The SDK's own `send`, shared by every client class. aws-sdk-client-mock stubs `send` on a
 * client class's prototype (`mockClient(DynamoDBDocumentClient)` in other files, which share
 * this worker's modules), so a client of the engine that inherited `send` could be answered by
 * a leftover stub instead of the engine. The engine's clients get this one as their own.
 */
const sdkSend: DynamoDBClient['send'] = Object.getPrototypeOf(DynamoDBClient.prototype).send;

/** `client`, answered by the engine whatever stubs the prototypes carry. */
export function unstubbable<T extends DynamoDBClient | DynamoDBDocumentClient>(client: T): T {
  if ('restore' in sdkSend || 'isSinonProxy' in sdkSend) {
    throw new Error("The SDK's base Client.prototype.send is stubbed: engine clients cannot bypass it");
  }
  Object.defineProperty(client, 'send', { value: sdkSend.bind(client), writable: false, enumerable: false });
  return client;
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
  const client = unstubbable(new DynamoDBClient(await dynaliteClientConfig(overrides)));
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

/** One command the code under test sent the engine: `PutItem`, `Query` ... and its input. */
export interface EngineCall {
  readonly command: string;
  /** The input as given (document form for the document client's commands). */
  readonly input: Record<string, any>;
}

/**
 * Wraps the engine's answer to a call: return `next()` to let the engine decide, throw to
 * inject a fault, or act before or after it (e.g. another writer landing in between).
 */
export type Interceptor = (call: EngineCall, next: () => Promise<unknown>) => Promise<unknown>;

/** Which calls a fault hits. */
export interface FaultOptions {
  /** Calls that match before the fault applies. @default every call of the command */
  readonly when?: (call: EngineCall) => boolean;
  /** How many matching calls fail. @default 1 */
  readonly times?: number;
}

/** An ops table on the local engine, created with the construct's key schema. */
export interface LocalOpsTable {
  readonly tableName: string;
  /** The client the code under test uses (its commands are recorded). */
  readonly client: DynamoDBClient;
  /** A document client translating as the Lambdas' do, on `client`. */
  readonly ddb: DynamoDBDocumentClient;
  /** Every item, sorted by pk then sk. */
  items(): Promise<Array<Record<string, unknown>>>;
  /** One item by key (strongly consistent), undefined when absent. */
  item(pk: string, sk: string): Promise<Record<string, unknown> | undefined>;
  /** Writes items as they are (the test's seeding: not recorded, not intercepted). */
  put(...items: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /** Runs every later call of `client` through `interceptor`; returns its removal. */
  intercept(interceptor: Interceptor): () => void;
  /** `command` (e.g. 'UpdateItem') fails with `error` instead of reaching the engine. */
  fail(command: string, error: Error, options?: FaultOptions): void;
  /** Deletes the table. */
  drop(): Promise<void>;
}

let tables = 0;

/**
 * A new, empty ops table (about 5 ms). `replace`: a table of that name is deleted first (a
 * harness reusing the configured table name for each test).
 */
export async function createOpsTable(
  name = `ops-${process.pid}-${++tables}`,
  options: { readonly replace?: boolean } = {},
): Promise<LocalOpsTable> {
  // The test's own set-up and reads go through a client that records nothing.
  const admin = unstubbable(new DynamoDBClient(await dynaliteClientConfig()));
  if (options.replace) {
    await admin.send(new DeleteTableCommand({ TableName: name })).catch((error: unknown) => {
      if ((error as { name?: unknown }).name !== 'ResourceNotFoundException') throw error;
    });
  }
  const adminDoc = unstubbable(DynamoDBDocumentClient.from(admin, OPS_TABLE_TRANSLATE_CONFIG));
  const client = await localDynamoDbClient();
  const interceptors: Interceptor[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const call: EngineCall = {
        command: String(context.commandName).replace(/Command$/, ''),
        input: args.input as Record<string, any>,
      };
      // Outermost first: the first interceptor added sees the others' faults too.
      const run = (i: number): Promise<unknown> => {
        const interceptor = interceptors[i];
        return interceptor === undefined ? next(args) : interceptor(call, () => run(i + 1));
      };
      return (await run(0)) as Awaited<ReturnType<typeof next>>;
    },
    // After recordSentCommand: a call that a fault answers was still sent.
    { step: 'initialize', priority: 'low', name: 'interceptEngineCall' },
  );
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
  const ddb = unstubbable(DynamoDBDocumentClient.from(client, OPS_TABLE_TRANSLATE_CONFIG));
  const intercept = (interceptor: Interceptor) => {
    interceptors.push(interceptor);
    return () => {
      const at = interceptors.indexOf(interceptor);
      if (at >= 0) interceptors.splice(at, 1);
    };
  };
  return {
    tableName: name,
    client,
    ddb,
    async items() {
      const items: Array<Record<string, unknown>> = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await adminDoc.send(new ScanCommand({ TableName: name, ExclusiveStartKey }));
        items.push(...(page.Items ?? []));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey !== undefined);
      const key = (i: Record<string, unknown>) => `${String(i[partitionKey])}\u0000${String(i[sortKey])}`;
      return items.sort((a, b) => key(a).localeCompare(key(b)));
    },
    async item(pk, sk) {
      const { Item } = await adminDoc.send(
        new GetCommand({ TableName: name, Key: { [partitionKey]: pk, [sortKey]: sk }, ConsistentRead: true }),
      );
      return Item;
    },
    async put(...items) {
      for (const Item of items) await adminDoc.send(new PutCommand({ TableName: name, Item }));
    },
    intercept,
    fail(command, error, options = {}) {
      let left = options.times ?? 1;
      intercept(async (call, next) => {
        if (call.command !== command || left <= 0 || (options.when && !options.when(call))) return next();
        left -= 1;
        throw error;
      });
    },
    async drop() {
      await admin.send(new DeleteTableCommand({ TableName: name }));
    },
  };
}
