/**
 * The ops CLI against the ops table on the real engine: what the table holds after each command
 * when another writer acts in between (the engine decides the conditions), and how each command
 * reports a DynamoDB fault. Seeded and asserted as items, never as request text.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { fromAttributeValues } from '../../core/ops-table/items';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { checkSentAgainst } from '../iam/declared-calls';
import {
  awsError,
  executionArn,
  lastShiftItem,
  lockItem,
  mocks as trafficMocks,
  world,
} from '../lambdas/traffic-shift/harness';
import { cliClients, cliMocks, itemsOf, opsTable, resetCli, runOps } from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['--env', 'prod'];

beforeEach(async () => {
  await resetCli();
});

/** An engaged kill switch state as a finished `batch disable` leaves it. */
function engaged(overrides: Record<string, unknown> = {}) {
  return {
    pk: 'KILL_SWITCH',
    sk: 'STATE',
    engaged: true,
    complete: true,
    engagedAt: '2026-11-20T03:00:00.000Z',
    engagedBy: 'bob',
    reason: 'runaway cost',
    source: 'cli',
    attemptId: 'attempt-of-bob',
    ...overrides,
  };
}

/**
 * Makes the next audit write of the code under test meet an entry of another writer under the
 * same key (same instant, same id): the engine holds bob's entry when the CLI's put arrives.
 */
function auditKeyTakenByBob(): void {
  let done = false;
  opsTable().client.middlewareStack.add(
    (next, context) => async (args) => {
      const item = fromAttributeValues((args.input as { Item?: Record<string, unknown> }).Item);
      if (!done && context.commandName === 'PutItemCommand' && item?.pk === 'AUDIT') {
        done = true;
        await opsTable().seed({ ...item, actor: 'bob', reason: 'written first' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'auditKeyTakenByBob' },
  );
}

/**
 * Holds the answers of the next `count` GetItem calls on TRAFFIC until all of them were read,
 * then runs `write`: a writer acting after every read of round 1 and before any write of round 2.
 */
function afterTrafficReads(count: number, write: () => Promise<void>): void {
  let arrived = 0;
  let open: () => void = () => undefined;
  const barrier = new Promise<void>((resolve) => {
    open = resolve;
  });
  for (let i = 0; i < count; i += 1) {
    opsTable().afterCall('GetItem', 'TRAFFIC', async () => {
      arrived += 1;
      if (arrived === count) {
        await write();
        open();
      }
      await barrier;
    });
  }
}

describe('the engine', () => {
  it('decides conditions for the CLI even where the document client class is stubbed', async () => {
    // A stub on the class's prototype (as the traffic harness's) that would accept anything.
    trafficMocks.ddb.reset();
    trafficMocks.ddb.resolves({});
    await opsTable().seed(engaged());
    const put = new PutCommand({
      TableName: opsTable().tableName,
      Item: engaged({ engagedBy: 'mallory' }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    await expect(cliClients().ddb.send(put)).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect(trafficMocks.ddb.calls()).toHaveLength(0);
    expect(await opsTable().item('KILL_SWITCH', 'STATE')).toMatchObject({ engagedBy: 'bob' });
  });
});

describe('rollback', () => {
  const running = executionArn('to-green-1');

  it('releases only the lock of the shift it rolls back: a newer shift keeps its lock', async () => {
    const newer = lockItem({
      executionArn: executionArn('to-green-2'),
      acquiredAt: '2026-11-25T04:10:00.000Z',
    });
    await resetCli({
      listener: { blue: 50, green: 50 },
      items: [lastShiftItem({ status: 'in-progress', completedAt: undefined }), newer],
    });
    const run = await runOps(['rollback', ...PROD, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Stopped the running shift ${running}.`);
    expect(await opsTable().item('TRAFFIC', 'SHIFT_LOCK')).toEqual(newer);
    expect(await opsTable().item('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      executionArn: running,
      status: 'rolled-back',
    });
  });

  it('never marks a shift recorded meanwhile rolled back (exit 1, the newer record intact)', async () => {
    await resetCli({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    const newer = lastShiftItem({
      executionArn: executionArn('to-blue-2'),
      to: 'blue',
      from: { blue: 0, green: 100 },
      status: 'in-progress',
      startedAt: '2026-11-25T04:12:35.500Z',
      completedAt: undefined,
      final: undefined,
    });
    // Round 1 reads LAST_SHIFT and ROLLBACK; the new shift is recorded after both.
    afterTrafficReads(2, () => opsTable().seed(newer));
    const run = await runOps(['rollback', ...PROD, '--reason', 'errors', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('LAST_SHIFT not marked rolled-back: a new shift was recorded meanwhile');
    expect(await opsTable().item('TRAFFIC', 'LAST_SHIFT')).toEqual(newer);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('takes its ROLLBACK record back when the weights cannot be written, and audits the failure', async () => {
    await resetCli({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    cliMocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'no ModifyListener'));
    const run = await runOps(['rollback', ...PROD, '--reason', 'errors', '--yes']);
    expect(run.code).toBe(1);
    expect(await opsTable().item('TRAFFIC', 'ROLLBACK')).toBeUndefined();
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ action: 'traffic-rollback', outcome: 'partial', reason: 'errors' }),
    ]);
  });

  it('leaves the ROLLBACK record of a rollback that landed meanwhile when taking its own back', async () => {
    await resetCli({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    cliMocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'no ModifyListener'));
    const theirs = {
      pk: 'TRAFFIC',
      sk: 'ROLLBACK',
      at: '2026-11-25T04:12:35.900Z',
      by: 'traffic-rollback',
      reason: 'P0 alarm fa-ai-system-prod-p0 in ALARM',
      restored: { blue: 100, green: 0 },
      source: 'traffic-rollback',
    };
    opsTable().afterCall('PutItem', 'TRAFFIC', () => opsTable().seed(theirs));
    const run = await runOps(['rollback', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(await opsTable().item('TRAFFIC', 'ROLLBACK')).toEqual(theirs);
  });

  it("never overwrites another writer's audit entry (exit 1, theirs intact)", async () => {
    await resetCli({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    auditKeyTakenByBob();
    const run = await runOps(['rollback', ...PROD, '--reason', 'errors', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/record the audit entry: .*ConditionalCheckFailed/);
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ actor: 'bob', reason: 'written first' }),
    ]);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
  });

  it('reports a failed ROLLBACK record as a problem after restoring the weights (exit 1)', async () => {
    await resetCli({ listener: { blue: 0, green: 100 }, items: [lastShiftItem()] });
    opsTable().failWith({
      operation: 'PutItem',
      pk: 'TRAFFIC',
      error: () => awsError('AccessDeniedException', 'no PutItem'),
    });
    const run = await runOps(['rollback', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/- record ROLLBACK: .*no PutItem/);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(await opsTable().item('TRAFFIC', 'ROLLBACK')).toBeUndefined();
  });
});

describe('batch disable', () => {
  it('does not mark complete an engagement another attempt took over meanwhile', async () => {
    const other = engaged({ engagedBy: 'budget-guard', complete: false, attemptId: 'attempt-of-guard' });
    // Round 1 recorded our engagement; the budget guard's lands before round 3.
    opsTable().afterCall('PutItem', 'KILL_SWITCH', () => opsTable().seed(other));
    const run = await runOps(['batch', 'disable', ...PROD, '--reason', 'runaway cost', '--yes']);
    expect(run.code).toBe(0);
    expect(await opsTable().item('KILL_SWITCH', 'STATE')).toEqual(other);
  });

  it("never overwrites another writer's audit entry", async () => {
    auditKeyTakenByBob();
    const run = await runOps(['batch', 'disable', ...PROD, '--reason', 'runaway cost', '--yes']);
    expect(run.code).toBe(0);
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ actor: 'bob', reason: 'written first' }),
    ]);
  });

  it('takes no action when the state cannot be recorded (exit 1), and alerts', async () => {
    opsTable().failWith({
      operation: 'PutItem',
      pk: 'KILL_SWITCH',
      error: () => awsError('AccessDeniedException', 'no PutItem'),
    });
    const run = await runOps(['batch', 'disable', ...PROD, '--reason', 'runaway cost', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot record the kill switch state, no action taken: .*no PutItem/);
    expect(cliMocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(trafficMocks.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(await opsTable().items()).toEqual([]);
  });
});

describe('batch enable', () => {
  it('releases the engaged kill switch as read and audits it', async () => {
    await resetCli({ items: [engaged()] });
    const run = await runOps(['batch', 'enable', ...PROD, '--reason', 'fixed', '--force', '--yes']);
    expect(run.code).toBe(0);
    expect(await opsTable().item('KILL_SWITCH', 'STATE')).toEqual({
      ...engaged(),
      engaged: false,
      releasedAt: '2026-11-25T04:12:35.000Z',
      releasedBy: 'alice',
      releaseReason: 'fixed',
    });
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ action: 'batch-enable', outcome: 'ok', actor: 'alice' }),
    ]);
  });

  it('changes nothing when the kill switch is engaged again after it was read (exit 1)', async () => {
    await resetCli({ items: [engaged()] });
    const again = engaged({ engagedAt: '2026-11-25T04:12:35.500Z', engagedBy: 'budget-guard' });
    opsTable().afterCall('GetItem', 'KILL_SWITCH', () => opsTable().seed(again));
    const run = await runOps(['batch', 'enable', ...PROD, '--reason', 'fixed', '--force', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The kill switch state changed while re-enabling');
    expect(await opsTable().item('KILL_SWITCH', 'STATE')).toEqual(again);
    expect(cliMocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(await itemsOf('AUDIT')).toEqual([]);
  });

  it("never overwrites another writer's audit entry (exit 1: the re-enable is not audited)", async () => {
    auditKeyTakenByBob();
    const run = await runOps(['batch', 'enable', ...PROD, '--reason', 'fixed', '--force', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/PutItem .*\(audit\): .*ConditionalCheckFailed/);
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ actor: 'bob', reason: 'written first' }),
    ]);
  });
});

describe('reads', () => {
  it('weights: the last shift UNKNOWN when the table refuses (exit 1), the weights still shown', async () => {
    opsTable().failWith({
      operation: 'GetItem',
      pk: 'TRAFFIC',
      error: () => awsError('AccessDeniedException', 'no GetItem'),
    });
    const run = await runOps(['weights', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Last shift: UNKNOWN \(.*no GetItem.*\)/);
    expect(run.stdout).toMatch(/live\s+blue 100 \/ green 0/);
  });

  it('weights: a held shift lock is shown, an expired one is not', async () => {
    await resetCli({ items: [lockItem({ acquiredAt: '2026-11-25T04:10:00.000Z' })] });
    const held = await runOps(['weights', ...PROD]);
    expect(held.stdout).toContain(`Shift in progress: ${executionArn('to-green-1')} (to green`);
    await resetCli({
      items: [lockItem({ expiresAt: Math.floor(Date.parse('2026-11-25T04:00:00Z') / 1000) })],
    });
    const expired = await runOps(['weights', ...PROD]);
    expect(expired.stdout).not.toContain('Shift in progress');
  });

  it('remediation log: --limit keeps the newest; an empty trail says so', async () => {
    const audit = (at: string, action: string) => ({
      pk: 'AUDIT',
      sk: `${at}#0a1b2c3d`,
      at,
      id: '0a1b2c3d',
      action,
      actor: 'alice',
      reason: 'because',
      source: 'cli',
      outcome: 'ok',
      details: {},
      environment: 'prod',
      expiresAt: 1_830_000_000,
    });
    const empty = await runOps(['remediation', 'log', ...PROD]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('no entries');
    await resetCli({
      items: [
        audit('2026-11-24T09:00:00.000Z', 'batch-disable'),
        audit('2026-11-25T04:00:00.000Z', 'batch-enable'),
      ],
    });
    const run = await runOps(['remediation', 'log', ...PROD, '--limit', '1']);
    expect(run.stdout).toContain('batch-enable');
    expect(run.stdout).not.toContain('batch-disable');
  });

  it('remediation log: a refused query fails (exit 1)', async () => {
    opsTable().failWith({ operation: 'Query', error: () => awsError('AccessDeniedException', 'no Query') });
    const run = await runOps(['remediation', 'log', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Access denied: no Query');
  });

  it('health --kind morning judges the newest batch run in the table', async () => {
    const batchRun = (startedAt: string, status: string, counts: object) => ({
      pk: 'BATCH_RUN',
      sk: `${startedAt}#weekly`,
      status,
      startedAt,
      endedAt: startedAt.replace('T17', 'T19'),
      trigger: 'schedule',
      executionArn: `arn:aws:states:us-east-1:222222222222:execution:fa-ai-system-prod-weekly-batch:${startedAt}`,
      ...counts,
    });
    await resetCli({
      items: [
        batchRun('2026-11-15T17:00:00.000Z', 'FAILED', {}),
        batchRun('2026-11-22T17:00:00.000Z', 'SUCCEEDED', { successful: 3120, failed: 0 }),
      ],
    });
    const healthy = await runOps(['health', ...PROD, '--kind', 'morning']);
    expect(healthy.stdout).toContain('3,120/3,120 stocks successful');
    expect(healthy.code).toBe(0);

    await resetCli({ items: [batchRun('2026-11-22T17:00:00.000Z', 'FAILED', {})] });
    const failed = await runOps(['health', ...PROD, '--kind', 'morning']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAILED (started 2026-11-22T17:00:00.000Z)');
  });

  it('health --kind morning: the batch UNKNOWN when the runs cannot be read (exit 1)', async () => {
    opsTable().failWith({
      operation: 'Query',
      pk: undefined,
      error: () => awsError('AccessDeniedException', 'no Query'),
    });
    const run = await runOps(['health', ...PROD, '--kind', 'morning']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('could not read the batch runs');
  });
});
