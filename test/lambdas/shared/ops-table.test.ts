import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  auditItem,
  auditKey,
  batchRunKey,
  DEFAULT_AUDIT_RETENTION_DAYS,
  fromAttributeValues,
  killSwitchKey,
  killSwitchStateItem,
  listAudit,
  listBatchRuns,
  OPS_TABLE_TRANSLATE_CONFIG,
  OpsTableItemError,
  parseKillSwitchState,
  readKillSwitchState,
  recordAudit,
} from '../../../lambdas/shared/ops-table';
import { mockClient } from '../../helpers/aws-mock';

const TABLE = 'fa-ai-system-prod-ops';
const NOW = new Date('2026-11-25T04:12:35.000Z');
const ddbMock = mockClient(DynamoDBDocumentClient);
const ddb = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'ap-northeast-1' }),
  OPS_TABLE_TRANSLATE_CONFIG,
);
const NO_SLEEP = { sleep: async () => undefined };

const ENTRY = {
  action: 'batch-disable',
  actor: 'arn:aws:sts::222222222222:assumed-role/ops/alice',
  reason: 'suspicious spend on the batch',
  source: 'cli',
  outcome: 'ok',
  environment: 'prod',
} as const;

function stored(at: string, id: string, overrides: Record<string, unknown> = {}) {
  return { ...auditItem(ENTRY, new Date(at), { id }), ...overrides };
}

beforeEach(() => {
  ddbMock.reset();
});

describe('keys', () => {
  it('build the collections of the table', () => {
    expect(killSwitchKey()).toEqual({ pk: 'KILL_SWITCH', sk: 'STATE' });
    expect(auditKey(NOW, 'ab12cd34')).toEqual({ pk: 'AUDIT', sk: '2026-11-25T04:12:35.000Z#ab12cd34' });
    expect(auditKey('2026-11-25T04:12:35.000Z', 'x')).toEqual({
      pk: 'AUDIT',
      sk: '2026-11-25T04:12:35.000Z#x',
    });
    expect(batchRunKey('2026-11-22T18:00:00.000Z', 'weekly-1')).toEqual({
      pk: 'BATCH_RUN',
      sk: '2026-11-22T18:00:00.000Z#weekly-1',
    });
  });
});

describe('auditItem', () => {
  it('stamps the entry, keys it by time and expires it', () => {
    const item = auditItem(
      { ...ENTRY, details: { forced: true, skipped: undefined, nested: { a: 1, b: undefined } } },
      NOW,
      {
        id: 'ab12cd34',
      },
    );
    expect(item).toEqual({
      pk: 'AUDIT',
      sk: '2026-11-25T04:12:35.000Z#ab12cd34',
      at: '2026-11-25T04:12:35.000Z',
      id: 'ab12cd34',
      ...ENTRY,
      details: { forced: true, nested: { a: 1 } },
      expiresAt: Math.floor(NOW.getTime() / 1000) + DEFAULT_AUDIT_RETENTION_DAYS * 86_400,
    });
    expect(auditItem(ENTRY, NOW, { retentionDays: 1 }).expiresAt).toBe(
      Math.floor(NOW.getTime() / 1000) + 86_400,
    );
  });

  it('gives two entries of the same millisecond different keys', () => {
    expect(auditItem(ENTRY, NOW).sk).not.toBe(auditItem(ENTRY, NOW).sk);
    expect(auditItem(ENTRY, NOW).id).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('recordAudit', () => {
  it('puts the item without ever overwriting one, retrying throttling', async () => {
    ddbMock
      .on(PutCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }))
      .resolves({});

    const item = await recordAudit(ddb, TABLE, ENTRY, { now: NOW, id: 'ab12cd34', retry: NO_SLEEP });

    expect(item.sk).toBe('2026-11-25T04:12:35.000Z#ab12cd34');
    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 2);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });
});

describe('listAudit', () => {
  it('queries newest first, pages until the limit, and parses the items', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [stored('2026-11-25T04:00:00.000Z', 'a'), stored('2026-11-24T04:00:00.000Z', 'b')],
        LastEvaluatedKey: { pk: 'AUDIT', sk: '2026-11-24T04:00:00.000Z#b' },
      })
      .resolvesOnce({
        Items: [stored('2026-11-23T04:00:00.000Z', 'c')],
        LastEvaluatedKey: { pk: 'AUDIT', sk: 'c' },
      });

    const records = await listAudit(ddb, TABLE, { limit: 3, since: new Date('2026-11-01T00:00:00.000Z') });

    expect(records.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(records[0]).toMatchObject({ action: 'batch-disable', outcome: 'ok', details: {} });
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddbMock).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: { ':pk': 'AUDIT', ':since': '2026-11-01T00:00:00.000Z' },
      ScanIndexForward: false,
      Limit: 3,
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(QueryCommand, 2, {
      Limit: 1,
      ExclusiveStartKey: { pk: 'AUDIT', sk: '2026-11-24T04:00:00.000Z#b' },
    });
  });

  it('queries the whole collection without since, and stops at the last page', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [stored('2026-11-25T04:00:00.000Z', 'a')] });
    await expect(listAudit(ddb, TABLE, { limit: 50 })).resolves.toHaveLength(1);
    expect(ddbMock).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'AUDIT' },
    });
  });

  it('names a malformed item', async () => {
    ddbMock
      .on(QueryCommand)
      .resolves({ Items: [stored('2026-11-25T04:00:00.000Z', 'a', { outcome: 'meh' })] });
    await expect(listAudit(ddb, TABLE, { limit: 5 })).rejects.toThrow(
      /^Malformed audit item 2026-11-25T04:00:00.000Z#a: .*outcome/s,
    );
  });
});

describe('listBatchRuns', () => {
  it('reads the runs newest first, keeping only the known attributes', async () => {
    const run = {
      pk: 'BATCH_RUN',
      sk: '2026-11-22T18:00:00.000Z#weekly-1',
      status: 'SUCCEEDED',
      startedAt: '2026-11-22T18:00:00.000Z',
      endedAt: '2026-11-22T19:42:10.000Z',
      trigger: 'schedule',
      executionArn: 'arn:aws:states:ap-northeast-1:222222222222:execution:batch:weekly-1',
      stocksProcessed: 3812,
      somethingElse: 'kept out',
    };
    ddbMock.on(QueryCommand).resolves({ Items: [run] });

    const runs = await listBatchRuns(ddb, TABLE, { limit: 10 });

    const { pk: _pk, somethingElse: _other, ...expected } = run;
    expect(runs).toEqual([expected]);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'BATCH_RUN' },
      ScanIndexForward: false,
    });
  });

  it('rejects a run without its execution ARN', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [{ sk: 'x', status: 'RUNNING', startedAt: 'x' }] });
    await expect(listBatchRuns(ddb, TABLE, { limit: 1 })).rejects.toBeInstanceOf(OpsTableItemError);
  });
});

describe('kill switch state', () => {
  const state = {
    engaged: true,
    complete: true,
    engagedAt: '2026-11-25T04:12:35.000Z',
    engagedBy: 'budget-guard',
    reason: 'over budget',
    budgetName: 'fa-ai-system-prod-monthly',
    actualAmount: 2001.37,
    budgetedAmount: 2000,
  };

  it('round-trips through its item', () => {
    const item = killSwitchStateItem({ ...state, messageId: undefined });
    expect(item).toEqual({ pk: 'KILL_SWITCH', sk: 'STATE', ...state });
    expect(parseKillSwitchState(item)).toEqual(state);
    expect(parseKillSwitchState(undefined)).toBeUndefined();
    expect(() => parseKillSwitchState({ engaged: 'yes' })).toThrow(OpsTableItemError);
  });

  it('is read strongly consistent', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { pk: 'KILL_SWITCH', sk: 'STATE', ...state } });
    await expect(readKillSwitchState(ddb, TABLE)).resolves.toEqual(state);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE,
      Key: { pk: 'KILL_SWITCH', sk: 'STATE' },
      ConsistentRead: true,
    });
    ddbMock.on(GetCommand).resolves({});
    await expect(readKillSwitchState(ddb, TABLE)).resolves.toBeUndefined();
  });
});

describe('fromAttributeValues', () => {
  it('translates low-level attribute values and keeps plain ones', () => {
    expect(
      fromAttributeValues({
        s: { S: 'x' },
        n: { N: '2001.37' },
        b: { BOOL: false },
        z: { NULL: true },
        l: { L: [{ S: 'a' }, { N: '1' }] },
        m: { M: { inner: { BOOL: true } } },
        ss: { SS: ['a', 'b'] },
        plain: 'kept',
      }),
    ).toEqual({
      s: 'x',
      n: 2001.37,
      b: false,
      z: null,
      l: ['a', 1],
      m: { inner: true },
      ss: new Set(['a', 'b']),
      plain: 'kept',
    });
    expect(fromAttributeValues(undefined)).toBeUndefined();
  });
});
