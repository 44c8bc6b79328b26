import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { AwsClientSettings } from '../../core/aws-clients';
import { fromAttributeValues, OPS_TABLE_KEYS, OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import { testLambdaClient } from './aws-clients';
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
  Object.defineProperty(client, 'send', { value: sdkSend.bind(client), writable: true, configurable: true });
  return client;
}

/** Where the local engine is, with fake credentials. */
async function engineSettings(): Promise<AwsClientSettings & { endpoint: string; region: string }> {
  const { endpoint } = await start();
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
}

/** Client settings for the local engine, without retries: the tests' own set-up and reads. */
export async function dynaliteClientConfig(
  overrides: DynamoDBClientConfig = {},
): Promise<DynamoDBClientConfig> {
  return { ...(await engineSettings()), maxAttempts: 1, ...overrides };
}

/**
 * A DynamoDB client of the local engine as the Lambdas build theirs (core/aws-clients.ts:
 * the SDK's retries), whose commands are recorded for the permission check like a mocked
 * client's (the document client's commands arrive here marshalled).
 */
export async function localDynamoDbClient(): Promise<DynamoDBClient> {
  const client = unstubbable(testLambdaClient(DynamoDBClient, await engineSettings()));
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

/** A DynamoDB operation as the engine names it. */
export type DynamoOperation = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan';

/** Which calls {@link LocalOpsTable.failWith} fails. */
export interface FaultSpec {
  readonly operation: DynamoOperation;
  /** Only calls on this partition (the key's or the item's pk). */
  readonly pk?: string;
  /** The error each failing call throws (a fresh one per call). */
  readonly error: () => Error;
  /** How many matching calls fail, then the engine answers again. @default every one */
  readonly times?: number;
  /** The call reaches the engine and its answer is lost (a timeout after the write landed). */
  readonly landed?: boolean;
}

/** One command the code under test sent the engine: `PutItem`, `Query` ... and its input. */
export interface EngineCall {
  readonly command: string;
  /** The input as given (document form for the document client's commands). */
  readonly input: Record<string, any>;
}

/**
 * Wraps the engine's answer to a call: return `next()` to let the engine decide, throw to
 * inject a fault, or act before or after it (another writer landing in between), matching on
 * anything in the input (e.g. the sort key, which {@link FaultSpec} and afterCall do not see).
 */
export type Interceptor = (call: EngineCall, next: () => Promise<unknown>) => Promise<unknown>;

/** An ops table on the local engine, created with the construct's key schema. */
export interface LocalOpsTable {
  readonly tableName: string;
  /** The client the code under test uses (its commands are recorded). */
  readonly client: DynamoDBClient;
  /** A document client translating as the Lambdas' does. */
  readonly ddb: DynamoDBDocumentClient;
  /** Every item, sorted by pk then sk. */
  items(): Promise<Array<Record<string, unknown>>>;
  /** Writes items as they are (the test's own seeding, not recorded). */
  seed(...items: Array<Record<string, unknown>>): Promise<void>;
  /** The item with this key, or undefined. */
  item(pk: string, sk: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Makes matching calls of the code under test fail before they reach the engine (throttling,
   * access denied, timeouts); every other call is still decided by the engine. A fault fails
   * one attempt: the client's retries (the SDK's) see it as they would the service's answer.
   */
  failWith(fault: FaultSpec): void;
  /** Removes every fault and hook. */
  clearFaults(): void;
  /**
   * Runs `run` after the next matching call was answered and before its caller sees the
   * answer: a concurrent writer acting between a read and the write that depends on it.
   */
  afterCall(operation: DynamoOperation, pk: string, run: () => Promise<void>): void;
  /** Runs every later call of the code under test through `interceptor`; returns its removal. */
  intercept(interceptor: Interceptor): () => void;
  /** Wraps every call of the code under test, e.g. to count its rounds. */
  around(wrap: <T>(operation: string, call: () => Promise<T>) => Promise<T>): void;
  /** The operations the code under test sent (failed ones included), in order. */
  readonly sent: ReadonlyArray<{ operation: string; pk: string | undefined }>;
  /** Deletes the table. */
  drop(): Promise<void>;
}

let tables = 0;

/** A new, empty ops table (about 5 ms). */
export async function createOpsTable(
  name = `ops-${process.pid}-${++tables}`,
  options: { readonly replace?: boolean } = {},
): Promise<LocalOpsTable> {
  // The test's own set-up and reads go through a client that records nothing.
  const admin = unstubbable(new DynamoDBClient(await dynaliteClientConfig()));
  const client = await localDynamoDbClient();
  if (options.replace) {
    // A harness reusing the name its code under test is configured with, one table per test.
    await admin.send(new DeleteTableCommand({ TableName: name })).catch((error: unknown) => {
      if ((error as { name?: unknown }).name !== 'ResourceNotFoundException') throw error;
    });
  }
  const { partitionKey, sortKey } = OPS_TABLE_KEYS;
  const create = () =>
    admin.send(
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
  // dynalite finishes a delete on a later tick: a table replaced at once may still be DELETING.
  // Bounded by time, not attempts: on a loaded machine the delete takes far longer than usual.
  const giveUpAt = Date.now() + 15_000;
  for (;;) {
    try {
      await create();
      break;
    } catch (error) {
      if (
        !options.replace ||
        (error as { name?: unknown }).name !== 'ResourceInUseException' ||
        Date.now() > giveUpAt
      ) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  // dynalite makes a new table ACTIVE on a later tick and answers ResourceNotFound until then:
  // on a loaded machine the first read of a fresh table can come before that tick.
  while ((await admin.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > giveUpAt) throw new Error(`local table ${name} did not become ACTIVE in 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const faults: Array<FaultSpec & { left: number }> = [];
  const hooks: Array<{ operation: string; pk: string; run: () => Promise<void> }> = [];
  let wrapCall: <T>(operation: string, call: () => Promise<T>) => Promise<T> = (_op, call) => call();
  const sent: Array<{ operation: string; pk: string | undefined }> = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      const input = args.input as { Key?: Record<string, unknown>; Item?: Record<string, unknown> };
      const pk = fromAttributeValues(input.Key ?? input.Item)?.pk;
      const pkText = typeof pk === 'string' ? pk : undefined;
      sent.push({ operation, pk: pkText });
      const fault = faults.find(
        (f) => f.left > 0 && f.operation === operation && (f.pk === undefined || f.pk === pkText),
      );
      if (fault !== undefined) {
        fault.left -= 1;
        const error = fault.error();
        return wrapCall(operation, async () => {
          if (fault.landed) await next(args);
          throw error;
        });
      }
      const hookAt = hooks.findIndex((h) => h.operation === operation && h.pk === pkText);
      const hook = hookAt >= 0 ? hooks.splice(hookAt, 1)[0] : undefined;
      return wrapCall(operation, async () => {
        const output = await next(args);
        if (hook !== undefined) await hook.run();
        return output;
      });
    },
    // Inside the retries, as the service's answer is.
    { step: 'finalizeRequest', priority: 'low', name: 'injectFaults' },
  );
  const interceptors: Interceptor[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const call: EngineCall = {
        command: String(context.commandName).replace(/Command$/, ''),
        input: args.input as Record<string, any>,
      };
      // The first interceptor added is the outermost.
      const run = (i: number): Promise<unknown> => {
        const interceptor = interceptors[i];
        return interceptor === undefined ? next(args) : interceptor(call, () => run(i + 1));
      };
      return (await run(0)) as Awaited<ReturnType<typeof next>>;
    },
    // Before serializing (an interceptor may change the input) and so outside the retries: an
    // interceptor sees each call once, whatever its attempts and the faults that fail them.
    { step: 'initialize', priority: 'low', name: 'interceptEngineCall' },
  );
  // Handler harnesses loaded in the same worker mock the clients' prototypes (for the fault
  // matrix); the engine's own clients must never be answered by such a stub.
  const ddb = unstubbable(DynamoDBDocumentClient.from(client, OPS_TABLE_TRANSLATE_CONFIG));
  const adminDoc = unstubbable(DynamoDBDocumentClient.from(admin, OPS_TABLE_TRANSLATE_CONFIG));
  return {
    tableName: name,
    client,
    ddb,
    sent,
    async seed(...items) {
      for (const item of items) await adminDoc.send(new PutCommand({ TableName: name, Item: item }));
    },
    async item(pk, sk) {
      const { Item } = await adminDoc.send(
        new GetCommand({ TableName: name, Key: { pk, sk }, ConsistentRead: true }),
      );
      return Item;
    },
    failWith(fault) {
      faults.push({ ...fault, left: fault.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      faults.length = 0;
      hooks.length = 0;
    },
    afterCall(operation, pk, run) {
      hooks.push({ operation, pk, run });
    },
    around(wrap) {
      wrapCall = wrap;
    },
    intercept(interceptor) {
      interceptors.push(interceptor);
      return () => {
        const at = interceptors.indexOf(interceptor);
        if (at >= 0) interceptors.splice(at, 1);
      };
    },
    async items() {
      const { Items = [] } = await adminDoc.send(new ScanCommand({ TableName: name }));
      const key = (i: Record<string, unknown>) => `${String(i[partitionKey])}\u0000${String(i[sortKey])}`;
      return Items.sort((a, b) => key(a).localeCompare(key(b)));
    },
    async drop() {
      await admin.send(new DeleteTableCommand({ TableName: name }));
    },
  };
}
