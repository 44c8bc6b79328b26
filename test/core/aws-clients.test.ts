/**
 * The retry policy of every client (core/aws-clients.ts), run by the SDK's own retry
 * middleware against a local HTTP server that answers as the services do: the real strategy
 * classifies the real deserialized errors.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsClientSettings,
  awsClientFactory,
  backoffDelay,
  LAMBDA_REQUEST_TIMEOUTS,
  lambdaClientFactory,
  ONE_ATTEMPT,
  RETRY_POLICY,
} from '../../core/aws-clients';
import { createClients } from '../../lib/ops/clients';

/** One answer of the server: a status, a body, and how long to wait before answering. */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
  readonly delayMs?: number;
}

let server: Server;
let endpoint: string;
/** The answers still to give, in order; the last one repeats. */
let answers: Answer[] = [];
/** When each request arrived (ms since the test started) and its target. */
let requests: Array<{ at: number; target: string }> = [];
let started = 0;

function answer(req: IncomingMessage, res: ServerResponse): void {
  requests.push({ at: Date.now() - started, target: String(req.headers['x-amz-target'] ?? req.url) });
  req.resume();
  const next = answers.length > 1 ? answers.shift() : answers[0];
  if (next === undefined) throw new Error('no answer planned');
  const send = () => {
    if (res.destroyed) return;
    res.writeHead(next.status, { 'content-type': 'application/x-amz-json-1.0', ...next.headers });
    res.end(next.body);
  };
  if (next.delayMs) setTimeout(send, next.delayMs);
  else send();
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  answers = [];
  requests = [];
  started = Date.now();
});

/**
 * `client` sending for real: files of the same worker stub the client classes' `send`
 * (mockClient), and these clients must reach the server.
 */
function real<C extends object>(client: C): C {
  const sdkSend = (Object.getPrototypeOf(DynamoDBClient.prototype) as { send: unknown }).send;
  Object.defineProperty(client, 'send', {
    value: (sdkSend as (...args: unknown[]) => unknown).bind(client),
    writable: true,
    configurable: true,
  });
  return client;
}

const settings = (): AwsClientSettings => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
});

/** DynamoDB's JSON 1.0 error body. */
const dynamoError = (type: string, message: string, extra: object = {}): Answer => ({
  status: 400,
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra }),
});
const dynamoOk: Answer = { status: 200, body: JSON.stringify({ Item: { pk: { S: 'KILL_SWITCH' } } }) };

const getItem = () =>
  new GetItemCommand({ TableName: 'ops', Key: { pk: { S: 'KILL_SWITCH' }, sk: { S: 'STATE' } } });

function dynamo(logged: unknown[] = []): DynamoDBClient {
  return real(
    lambdaClientFactory({ ...settings(), logger: { warn: (m, e) => logged.push({ m, ...e }) } }).client(
      DynamoDBClient,
    ),
  );
}

describe('the policy', () => {
  it('backs off with full jitter: below 100, 200, 400, 800 ms, then capped at 5 s', () => {
    const top = (retry: number) => backoffDelay(RETRY_POLICY, retry, () => 0.999_999);
    expect([1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([99, 199, 399, 799, 1599, 3199, 4999]);
    expect(backoffDelay(RETRY_POLICY, 3, () => 0)).toBe(0);
  });

  it('waits at most 1.5 s in all across the retries of one call', () => {
    const retries = Array.from({ length: RETRY_POLICY.maxAttempts - 1 }, (_, i) => i + 1);
    const most = retries.reduce((sum, r) => sum + backoffDelay(RETRY_POLICY, r, () => 0.999_999), 0);
    expect(most).toBeLessThan(1_500);
  });
});

describe("a Lambda's client (the SDK's retry middleware)", () => {
  it.each([
    ['ProvisionedThroughputExceededException'],
    ['ThrottlingException'],
    ['TooManyRequestsException'],
  ])('retries %s and then succeeds', async (type) => {
    answers = [dynamoError(type, 'slow down'), dynamoError(type, 'slow down'), dynamoOk];
    const output = await dynamo().send(getItem());
    expect(output.Item).toEqual({ pk: { S: 'KILL_SWITCH' } });
    expect(output.$metadata.attempts).toBe(3);
    expect(requests).toHaveLength(3);
  });

  it('retries an HTTP 429 and a 503 whatever their code', async () => {
    answers = [
      { status: 429, body: JSON.stringify({ __type: 'SomethingNew', message: 'x' }) },
      { status: 503, body: JSON.stringify({ __type: 'ServiceUnavailable', message: 'x' }) },
      dynamoOk,
    ];
    await expect(dynamo().send(getItem())).resolves.toMatchObject({ $metadata: { attempts: 3 } });
  });

  it('gives up after 5 attempts and at most 1.5 s of backoff, with the last error', async () => {
    answers = [dynamoError('ProvisionedThroughputExceededException', 'still too fast')];
    const error = await dynamo()
      .send(getItem())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      message: 'still too fast',
      $metadata: { attempts: 5 },
    });
    expect(requests).toHaveLength(5);
    expect((error as { $metadata: { totalRetryDelay: number } }).$metadata.totalRetryDelay).toBeLessThan(
      1_500,
    );
  });

  it.each([
    ['ConditionalCheckFailedException', 'The conditional request failed'],
    ['ValidationException', 'One or more parameter values were invalid'],
    ['AccessDeniedException', 'User is not authorized to perform: dynamodb:GetItem'],
    ['ResourceNotFoundException', 'Requested resource not found'],
  ])('does not retry %s: the caller decides what it means', async (type, message) => {
    answers = [dynamoError(type, message), dynamoOk];
    await expect(dynamo().send(getItem())).rejects.toMatchObject({ name: type, $metadata: { attempts: 1 } });
    expect(requests).toHaveLength(1);
  });

  it('does not retry a transaction cancelled by TransactionConflict', async () => {
    answers = [
      dynamoError('TransactionCanceledException', 'Transaction cancelled', {
        CancellationReasons: [
          { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
        ],
      }),
      { status: 200, body: '{}' },
    ];
    const put = new TransactWriteItemsCommand({
      TransactItems: [{ Put: { TableName: 'ops', Item: { pk: { S: 'A' }, sk: { S: 'B' } } } }],
    });
    await expect(dynamo().send(put)).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'TransactionConflict' }],
      $metadata: { attempts: 1 },
    });
    expect(requests).toHaveLength(1);
  });

  it('ends an attempt that outlives its timeout and retries it, then succeeds', async () => {
    answers = [{ ...dynamoOk, delayMs: 2_000 }, dynamoOk];
    const client = real(
      lambdaClientFactory(settings()).client(DynamoDBClient, {
        ...settings(),
        requestHandler: { ...LAMBDA_REQUEST_TIMEOUTS, requestTimeout: 200 },
      }),
    );
    const before = Date.now();
    await expect(client.send(getItem())).resolves.toMatchObject({ $metadata: { attempts: 2 } });
    expect(Date.now() - before).toBeLessThan(1_500);
  });

  it('logs each retry as a warning naming the client and the error', async () => {
    const logged: unknown[] = [];
    answers = [dynamoError('ThrottlingException', 'Rate exceeded'), dynamoOk];
    await dynamo(logged).send(getItem());
    expect(logged).toEqual([
      {
        m: 'Retrying an AWS call',
        client: 'DynamoDBClient',
        attempt: 2,
        waitedMs: expect.any(Number),
        errorType: 'THROTTLING',
        error: 'ThrottlingException: Rate exceeded',
      },
    ]);
  });

  it('retries ECS (JSON 1.1) throttling', async () => {
    answers = [
      { status: 400, body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }) },
      { status: 200, body: JSON.stringify({ services: [], failures: [] }) },
    ];
    const ecs = real(lambdaClientFactory(settings()).client(ECSClient));
    const output = await ecs.send(new DescribeServicesCommand({ cluster: 'c', services: ['blue'] }));
    expect(output.$metadata.attempts).toBe(2);
  });

  it('retries SNS (query protocol, XML) Throttling', async () => {
    const xml = { 'content-type': 'text/xml' };
    answers = [
      {
        status: 400,
        headers: xml,
        body: '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
      },
      {
        status: 200,
        headers: xml,
        body: '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></PublishResponse>',
      },
    ];
    const sns = real(lambdaClientFactory(settings()).client(SNSClient));
    const output = await sns.send(
      new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: 'm' }),
    );
    expect(output).toMatchObject({ MessageId: 'm-1', $metadata: { attempts: 2 } });
  });
});

describe('the clients built', () => {
  const strategyOf = async (client: { config: { retryStrategy: () => Promise<unknown> } }) =>
    client.config.retryStrategy();

  it("give each client a strategy of its own (the SDK's retry quota is per client)", async () => {
    const aws = awsClientFactory(settings());
    const [a, b] = [aws.client(DynamoDBClient), aws.client(DynamoDBClient)];
    const [sa, sb] = await Promise.all([strategyOf(a), strategyOf(b)]);
    expect(sa).toBeInstanceOf(ConfiguredRetryStrategy);
    expect(sa).not.toBe(sb);
  });

  it("give the ops CLI's clients the same policy, but one attempt to the maintenance invocation", async () => {
    const { lambdaOnce, ...clients } = createClients('us-east-1');
    for (const client of Object.values(clients)) {
      const strategy = (await strategyOf(client as never)) as ConfiguredRetryStrategy;
      expect(strategy).toBeInstanceOf(ConfiguredRetryStrategy);
      await expect(strategy.maxAttempts()).resolves.toBe(RETRY_POLICY.maxAttempts);
    }
    const once = (await strategyOf(lambdaOnce as never)) as ConfiguredRetryStrategy;
    await expect(once.maxAttempts()).resolves.toBe(1);
  });

  it('send a one-attempt call once, even when it is throttled or its connection is lost', async () => {
    answers = [dynamoError('ThrottlingException', 'Rate exceeded'), dynamoOk];
    const once = real(awsClientFactory({ ...settings(), policy: ONE_ATTEMPT }).client(DynamoDBClient));
    await expect(once.send(getItem())).rejects.toMatchObject({ name: 'ThrottlingException' });
    answers = [{ ...dynamoOk, delayMs: 2_000 }, dynamoOk];
    const hung = real(
      awsClientFactory({ ...settings(), policy: ONE_ATTEMPT }).client(DynamoDBClient, {
        ...settings(),
        requestHandler: { ...LAMBDA_REQUEST_TIMEOUTS, requestTimeout: 200 },
      }),
    );
    await expect(hung.send(getItem())).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(requests).toHaveLength(2);
  });

  // Lambdas and the CLI build clients only through the factory, so that the policy is declared
  // once; a TransactWriteItems would need its TransactionConflict handled (the SDK does not
  // retry a cancelled transaction, above): none is sent today.
  it('are built only by the factory, and no code sends a transaction', () => {
    const root = join(__dirname, '..', '..', '..');
    const files = ['lambdas', 'lib/ops', 'core'].flatMap((dir) => sources(join(root, dir)));
    const offending = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const where = relative(root, file);
      return [
        ...(/\bnew \w+Client\(/.test(text) ? [`${where}: new ...Client(`] : []),
        // spend-reconcile's HTTP client retries its calls to the providers' APIs itself (why: its header).
        ...(/\bmaxAttempts\b/.test(text) &&
        !where.endsWith('aws-clients.ts') &&
        where !== 'lambdas/spend-reconcile/http.ts'
          ? [`${where}: maxAttempts`]
          : []),
        ...(/TransactWrite/.test(text) ? [`${where}: TransactWrite`] : []),
      ];
    });
    expect(offending).toEqual([]);
  });
});

function sources(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}
