import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpsTableItemError } from '../../../core/ops-table/items';
import {
  claimLevel,
  clearUnknownState,
  completeLevel,
  type LevelClaim,
  readLevelRecords,
  readUnknownState,
  writeUnknownState,
} from '../../../lambdas/spend-guard/records';
import { awsError } from '../../helpers/aws';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';

// The threshold records' single-item protocol and the "spend unknown" state, on the real engine:
// every condition is decided by DynamoDB (dynalite), not by the test.

const AT = new Date('2026-11-20T12:00:00.000Z');
const CLAIM: LevelClaim = {
  month: '2026-11',
  budget: 'total',
  level: 100,
  action: 'disable-batch',
  spentUsd: 2013.4,
  limitUsd: 2000,
  figures: 'total $2,013.40 of $2,000.00 (100.7%) = ...',
};
let table: LocalOpsTable;

beforeEach(async () => {
  table = await createOpsTable();
});

afterEach(async () => {
  await table.drop();
});

describe('a threshold claim', () => {
  it('is taken once, redone while incomplete, and never again once complete', async () => {
    expect(await claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a1', at: AT })).toBe(true);
    expect(await table.item('SPEND_ALERT', '2026-11#total#100')).toMatchObject({
      complete: false,
      attemptId: 'a1',
      level: '100',
      action: 'disable-batch',
      spentUsd: 2013.4,
      claimedAt: AT.toISOString(),
      expiresAt: Math.floor(AT.getTime() / 1000) + 400 * 86_400,
    });
    // Attempt a1 died before completing: a2 redoes it.
    expect(await claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a2', at: AT })).toBe(true);
    // a1's completion arriving late must not mark a2's claim.
    expect(await completeLevel(table.ddb, table.tableName, CLAIM, { id: 'a1', at: AT }, 'engaged')).toBe(
      false,
    );
    expect(await completeLevel(table.ddb, table.tableName, CLAIM, { id: 'a2', at: AT }, 'engaged')).toBe(
      true,
    );
    expect(await table.item('SPEND_ALERT', '2026-11#total#100')).toMatchObject({
      complete: true,
      attemptId: 'a2',
      outcome: 'engaged',
    });
    expect(await claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a3', at: AT })).toBe(false);
  });

  it('lets exactly one of two attempts claiming at once act, once the other completed', async () => {
    const [first, second] = await Promise.all([
      claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a1', at: AT }),
      claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a2', at: AT }),
    ]);
    // Both may claim an incomplete record (the protocol redoes incomplete work)...
    expect([first, second]).toEqual([true, true]);
    const holder = String((await table.item('SPEND_ALERT', '2026-11#total#100'))?.attemptId);
    // ...but only the last writer completes it, and then nobody claims it again.
    const other = holder === 'a1' ? 'a2' : 'a1';
    expect(await completeLevel(table.ddb, table.tableName, CLAIM, { id: other, at: AT }, 'x')).toBe(false);
    expect(await completeLevel(table.ddb, table.tableName, CLAIM, { id: holder, at: AT }, 'x')).toBe(true);
    expect(await claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a3', at: AT })).toBe(false);
  });

  it('fails with the AWS error when the write is refused (not a condition)', async () => {
    table.failWith({
      operation: 'PutItem',
      pk: 'SPEND_ALERT',
      error: () => awsError('AccessDeniedException', 'no'),
    });
    await expect(claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a1', at: AT })).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('is read back per month only, with whether it is complete', async () => {
    await claimLevel(table.ddb, table.tableName, CLAIM, { id: 'a1', at: AT });
    await claimLevel(table.ddb, table.tableName, { ...CLAIM, level: 50 }, { id: 'a1', at: AT });
    await completeLevel(
      table.ddb,
      table.tableName,
      { ...CLAIM, level: 50 },
      { id: 'a1', at: AT },
      'notified',
    );
    await claimLevel(table.ddb, table.tableName, { ...CLAIM, month: '2026-10' }, { id: 'a0', at: AT });
    await claimLevel(table.ddb, table.tableName, { ...CLAIM, level: 'forecast' }, { id: 'a1', at: AT });

    const records = await readLevelRecords(table.ddb, table.tableName, '2026-11');

    expect([...records].sort()).toEqual([
      ['2026-11#total#100', false],
      ['2026-11#total#50', true],
      ['2026-11#total#forecast', false],
    ]);
  });

  it('refuses a record of another shape, naming it', async () => {
    await table.seed({ pk: 'SPEND_ALERT', sk: '2026-11#total#50', complete: 'yes' });
    await expect(readLevelRecords(table.ddb, table.tableName, '2026-11')).rejects.toBeInstanceOf(
      OpsTableItemError,
    );
  });
});

describe('the spend unknown state', () => {
  it('is written, read back and cleared', async () => {
    const state = {
      figures: ['AWS batch', 'LLM batch'],
      since: '2026-11-20T11:00:00.000Z',
      lastSentAt: AT.toISOString(),
      problems: ['LLM batch unknown: GetMetricData failed: AccessDeniedException: no'],
    };
    expect(await readUnknownState(table.ddb, table.tableName)).toBeUndefined();
    await writeUnknownState(table.ddb, table.tableName, state);
    expect(await readUnknownState(table.ddb, table.tableName)).toEqual(state);
    expect((await table.item('SPEND_GUARD', 'SPEND_UNKNOWN'))?.expiresAt).toBe(
      Math.floor(AT.getTime() / 1000) + 86_400,
    );
    await clearUnknownState(table.ddb, table.tableName);
    expect(await readUnknownState(table.ddb, table.tableName)).toBeUndefined();
  });
});
