/**
 * The local engine's clients are answered by the engine even while another file's stub of
 * `send` is in place (files share a worker's modules), and the fault hooks leave the rest to it.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsError } from './aws';
import { type AwsStub, mockClient } from './aws-mock';
import { createOpsTable, dynaliteClientConfig, type LocalOpsTable } from './dynalite';

let table: LocalOpsTable;
const stubs: Array<AwsStub<any, any, any>> = [];

beforeEach(async () => {
  table = await createOpsTable();
  await table.seed({ pk: 'TRAFFIC', sk: 'SHIFT_LOCK', executionArn: 'arn:a' });
});

afterEach(async () => {
  for (const stub of stubs.splice(0)) stub.restore();
  await table.drop();
});

describe('engine clients under a leftover stub', () => {
  it('get the condition failure from the engine, not from a stub answering success', async () => {
    // What another file's harness leaves on the prototypes: every command "succeeds".
    const docStub = mockClient(DynamoDBDocumentClient);
    const lowStub = mockClient(DynamoDBClient);
    stubs.push(docStub, lowStub);
    docStub.onAnyCommand().resolves({});
    lowStub.onAnyCommand().resolves({});

    const conditional = {
      TableName: table.tableName,
      Item: { pk: 'TRAFFIC', sk: 'SHIFT_LOCK', executionArn: 'arn:b' },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    // The control: an ordinary client of the same engine is answered by the stub.
    const ordinary = DynamoDBDocumentClient.from(new DynamoDBClient(await dynaliteClientConfig()));
    await expect(ordinary.send(new PutCommand(conditional))).resolves.toEqual({});
    docStub.resetHistory();

    const put = table.ddb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: 'TRAFFIC', sk: 'SHIFT_LOCK', executionArn: 'arn:b' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await expect(put).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
      // A request id: the answer came over the wire from the engine.
      $metadata: { httpStatusCode: 400, requestId: expect.any(String) },
    });
    await expect(
      table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: { pk: { S: 'TRAFFIC' }, sk: { S: 'SHIFT_LOCK' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(docStub.calls()).toHaveLength(0);
    expect(lowStub.calls()).toHaveLength(0);
    expect(await table.items()).toEqual([{ pk: 'TRAFFIC', sk: 'SHIFT_LOCK', executionArn: 'arn:a' }]);
  });
});

describe('fault hooks', () => {
  it('fail only the matching attempts, the given number of times; the engine decides the rest', async () => {
    const update = (value: string) =>
      table.ddb.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: 'TRAFFIC', sk: 'SHIFT_LOCK' },
          UpdateExpression: 'SET #v = :v',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#v': 'v' },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
    table.failWith({
      operation: 'UpdateItem',
      error: () => awsError('AccessDeniedException', 'denied'),
      times: 1,
    });
    await expect(update('first')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await update('second');
    expect(await table.item('TRAFFIC', 'SHIFT_LOCK')).toMatchObject({ v: 'second' });
    expect(table.sent.filter((s) => s.operation === 'UpdateItem')).toHaveLength(2);
  });

  it("fail attempts inside the client's retries: a throttled attempt is retried by the SDK", async () => {
    table.failWith({
      operation: 'UpdateItem',
      error: () => awsError('ThrottlingException', 'slow down'),
      times: 2,
    });
    const output = await table.ddb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: 'TRAFFIC', sk: 'SHIFT_LOCK' },
        UpdateExpression: 'SET #v = :v',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#v': 'v' },
        ExpressionAttributeValues: { ':v': 'third' },
      }),
    );
    expect(output.$metadata.attempts).toBe(3);
    expect(await table.item('TRAFFIC', 'SHIFT_LOCK')).toMatchObject({ v: 'third' });
  });

  it('let a test act between the engine and the caller', async () => {
    const seen: string[] = [];
    table.intercept(async (call, next) => {
      seen.push(`${call.command} ${String(call.input.Key?.sk ?? call.input.Item?.sk)}`);
      return next();
    });
    await table.ddb.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: 'TRAFFIC', sk: 'ROLLBACK', at: 'x' } }),
    );
    expect(seen).toEqual(['PutItem ROLLBACK']);
  });
});
