import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
  OpsTableItemError,
  parseKillSwitchState,
  readKillSwitchState,
  recordAudit,
} from '../../../core/ops-table/items';
import { awsError } from '../../helpers/aws';
import { createOpsTable, type EngineCall, type LocalOpsTable } from '../../helpers/dynalite';

// The table is the real engine's (test/helpers/dynalite): conditions, queries and paging are
// its verdicts; faults are injected with its hooks.
const NOW = new Date('2026-11-25T04:12:35.000Z');
let table: LocalOpsTable;
let TABLE: string;
let ddb: LocalOpsTable['ddb'];

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

beforeEach(async () => {
  table = await createOpsTable();
  TABLE = table.tableName;
  ddb = table.ddb;
});

afterEach(async () => {
  await table.drop();
});

/** The queries sent, after making the engine answer each with at most `pageSize` items. */
function pageEvery(pageSize: number): EngineCall[] {
  const queries: EngineCall[] = [];
  table.intercept((call, next) => {
    if (call.command === 'Query') {
      queries.push({ command: call.command, input: { ...call.input } });
      // DynamoDB ends a page at 1 MB whatever the Limit: a smaller page makes the caller page.
      call.input.Limit = Math.min(Number(call.input.Limit ?? pageSize), pageSize);
    }
    return next();
  });
  return queries;
}

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
  it('puts the item, retrying throttling', async () => {
    table.failWith({
      operation: 'PutItem',
      error: () => awsError('ProvisionedThroughputExceededException', 'slow down'),
      times: 1,
    });
    const item = await recordAudit(ddb, TABLE, ENTRY, { now: NOW, id: 'ab12cd34' });
    expect(item.sk).toBe('2026-11-25T04:12:35.000Z#ab12cd34');
    expect(await table.items()).toEqual([item]);
  });

  it('never overwrites an entry of the same key', async () => {
    const first = stored(NOW.toISOString(), 'ab12cd34', { reason: 'the first' });
    await table.seed(first);
    await expect(recordAudit(ddb, TABLE, ENTRY, { now: NOW, id: 'ab12cd34' })).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect(await table.items()).toEqual([first]);
  });
});

describe('listAudit', () => {
  beforeEach(async () => {
    await table.seed(
      stored('2026-11-22T04:00:00.000Z', 'd'),
      stored('2026-11-23T04:00:00.000Z', 'c'),
      stored('2026-11-24T04:00:00.000Z', 'b'),
      stored('2026-11-25T04:00:00.000Z', 'a'),
      stored('2026-10-30T04:00:00.000Z', 'old'),
      { pk: 'BATCH_RUN', sk: '2026-11-25T05:00:00.000Z#weekly-9', status: 'RUNNING' },
    );
  });

  it('reads newest first from since, pages until the limit, and parses the items', async () => {
    const queries = pageEvery(2);
    const records = await listAudit(ddb, TABLE, { limit: 3, since: new Date('2026-11-01T00:00:00.000Z') });
    expect(records.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(records[0]).toMatchObject({ action: 'batch-disable', outcome: 'ok', details: {} });
    // The second page asks only for what is missing.
    expect(queries.map((q) => q.input.Limit)).toEqual([3, 1]);
  });

  it('reads the whole collection without since, and stops at the last page', async () => {
    pageEvery(2);
    const records = await listAudit(ddb, TABLE, { limit: 50 });
    expect(records.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'old']);
  });

  it('names a malformed item', async () => {
    await table.seed(stored('2026-11-26T04:00:00.000Z', 'z', { outcome: 'meh' }));
    await expect(listAudit(ddb, TABLE, { limit: 5 })).rejects.toThrow(
      /^Malformed audit item 2026-11-26T04:00:00.000Z#z: .*outcome/s,
    );
  });
});

describe('listBatchRuns', () => {
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

  it('reads the runs newest first, keeping only the known attributes', async () => {
    const newer = { ...run, sk: '2026-11-29T18:00:00.000Z#weekly-2', startedAt: '2026-11-29T18:00:00.000Z' };
    await table.seed(run, newer, stored('2026-11-30T04:00:00.000Z', 'a'));
    const runs = await listBatchRuns(ddb, TABLE, { limit: 10 });
    const strip = ({ pk: _pk, somethingElse: _other, ...rest }: typeof run) => rest;
    expect(runs).toEqual([strip(newer), strip(run)]);
  });

  it('rejects a run without its execution ARN', async () => {
    await table.seed({ pk: 'BATCH_RUN', sk: 'x', status: 'RUNNING', startedAt: 'x' });
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

  it('is read from its item, undefined when never engaged', async () => {
    await expect(readKillSwitchState(ddb, TABLE)).resolves.toBeUndefined();
    await table.seed(killSwitchStateItem(state));
    await expect(readKillSwitchState(ddb, TABLE)).resolves.toEqual(state);
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
