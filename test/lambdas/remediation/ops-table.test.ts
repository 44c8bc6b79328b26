import 'aws-sdk-client-mock-vitest/extend';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { type HandlerDeps, handleEvent } from '../../../lambdas/remediation/handler';
import { RemediationFailedError } from '../../../lambdas/remediation/logic';
import type { LocalOpsTable } from '../../helpers/dynalite';
import {
  alarmEvent,
  awsError,
  envOf,
  mocks,
  NOW,
  observability,
  type RemediationJson,
  remediation,
  world,
} from './harness';

/**
 * The remediation's idempotency claim, rate limit and refund on the local DynamoDB engine:
 * every condition's outcome here is the engine's.
 */
const EVENT_ID = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92';
const RATE_SK = 'force-new-deployment#2026-11-25T04';
const ALARM = 'log-db-pool-exhausted';

let table: LocalOpsTable;
let clients: HandlerDeps['clients'];
let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}, json?: RemediationJson): HandlerDeps {
  return {
    clients,
    env: envOf(table, json),
    now: () => NOW,
    leaseMs: 65_000,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

const marker = () => table.item('REMEDIATION_EVENT', EVENT_ID);
const rate = () => table.item('REMEDIATION_RATE', RATE_SK);
const audits = async () => (await table.items()).filter((i) => i.pk === 'AUDIT');
const restarts = () => mocks.ecs.commandCalls(UpdateServiceCommand).length;

beforeEach(async () => {
  const w = await world();
  table = w.table;
  clients = w.clients;
  obs = observability();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await table.drop();
});

describe('the happy path', () => {
  it('claims the event, takes a slot held by it, acts, marks the event done and audits', async () => {
    const result = await handleEvent(alarmEvent(ALARM), deps());

    expect(result).toMatchObject({ outcome: 'remediated', action: 'force-new-deployment' });
    expect(restarts()).toBe(1);
    expect(await marker()).toMatchObject({
      status: 'done',
      outcome: 'remediated',
      claimedAt: NOW.toISOString(),
    });
    expect(await rate()).toEqual({
      pk: 'REMEDIATION_RATE',
      sk: RATE_SK,
      count: 1,
      holders: new Set([EVENT_ID]),
      expiresAt: NOW.getTime() / 1000 + 7_200,
    });
    expect(await audits()).toEqual([
      expect.objectContaining({ outcome: 'ok', action: 'force-new-deployment' }),
    ]);
  });
});

describe('malformed input', () => {
  it('touches no item', async () => {
    await expect(handleEvent({ detail: 'x' }, deps())).rejects.toBeInstanceOf(InvalidInputError);
    expect(table.sent).toEqual([]);
  });
});

describe('duplicate and late deliveries', () => {
  it('a duplicate delivery acts once and takes no second slot', async () => {
    await handleEvent(alarmEvent(ALARM), deps());
    const second = await handleEvent(alarmEvent(ALARM), deps());

    expect(second).toMatchObject({ outcome: 'duplicate' });
    expect(restarts()).toBe(1);
    expect((await rate())?.count).toBe(1);
    expect(await audits()).toHaveLength(1);
  });

  it('a delivery while another invocation holds a live claim does nothing', async () => {
    await table.seed({
      pk: 'REMEDIATION_EVENT',
      sk: EVENT_ID,
      status: 'claimed',
      leaseUntil: NOW.getTime() + 1,
    });
    const result = await handleEvent(alarmEvent(ALARM), deps());
    expect(result).toMatchObject({ outcome: 'duplicate' });
    expect(restarts()).toBe(0);
    expect(await rate()).toBeUndefined();
  });

  it('a late retry after the claimant crashed (lease over) acts, reusing the slot it already held', async () => {
    await table.seed(
      { pk: 'REMEDIATION_EVENT', sk: EVENT_ID, status: 'claimed', leaseUntil: NOW.getTime() - 1 },
      { pk: 'REMEDIATION_RATE', sk: RATE_SK, count: 1, holders: new Set([EVENT_ID]) },
    );
    const result = await handleEvent(alarmEvent(ALARM), deps());
    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(restarts()).toBe(1);
    expect((await rate())?.count).toBe(1);
    expect(await marker()).toMatchObject({ status: 'done' });
  });

  it('the retry of a failed attempt acts again', async () => {
    await table.seed({
      pk: 'REMEDIATION_EVENT',
      sk: EVENT_ID,
      status: 'failed',
      leaseUntil: NOW.getTime() + 60_000,
    });
    const result = await handleEvent(alarmEvent(ALARM), deps());
    expect(result).toMatchObject({ outcome: 'remediated' });
  });
});

describe('the hourly limit', () => {
  it('is decided by the counter: at the limit, no action and the counter unchanged', async () => {
    const full = { pk: 'REMEDIATION_RATE', sk: RATE_SK, count: 2, holders: new Set(['e1', 'e2']) };
    await table.seed(full);
    const result = await handleEvent(alarmEvent(ALARM), deps());
    expect(result).toMatchObject({ outcome: 'skipped', skip: 'rate-limited' });
    expect(restarts()).toBe(0);
    expect(await rate()).toEqual(full);
  });

  it('a dry run takes neither claim nor slot', async () => {
    await handleEvent(
      alarmEvent(ALARM),
      deps(
        {},
        remediation((r) => (r.dryRun = true)),
      ),
    );
    expect((await table.items()).filter((i) => i.pk !== 'AUDIT')).toEqual([]);
  });
});

describe('a failed action', () => {
  it('gives its slot back and marks the event failed, so the retry acts', async () => {
    await table.seed({ pk: 'REMEDIATION_RATE', sk: RATE_SK, count: 1, holders: new Set(['other-event']) });
    mocks.ecs.on(UpdateServiceCommand).rejects(awsError('AccessDeniedException', 'denied'));

    await expect(handleEvent(alarmEvent(ALARM), deps())).rejects.toBeInstanceOf(RemediationFailedError);

    expect(await rate()).toMatchObject({ count: 1, holders: new Set(['other-event']) });
    expect(await marker()).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect(await audits()).toEqual([expect.objectContaining({ outcome: 'failed' })]);
  });

  it('gives the slot back once even when the refund landed but its answer was lost', async () => {
    await table.seed({ pk: 'REMEDIATION_RATE', sk: RATE_SK, count: 1, holders: new Set(['other-event']) });
    mocks.ecs.on(UpdateServiceCommand).rejects(awsError('AccessDeniedException', 'denied'));
    const lost = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    // The take (first UpdateItem) answers; the refund's first attempt lands, then times out.
    table.afterCall('UpdateItem', 'REMEDIATION_RATE', async () => {
      table.failWith({
        operation: 'UpdateItem',
        pk: 'REMEDIATION_RATE',
        error: lost,
        times: 1,
        landed: true,
      });
    });

    await expect(handleEvent(alarmEvent(ALARM), deps())).rejects.toBeInstanceOf(RemediationFailedError);

    expect(await rate()).toMatchObject({ count: 1, holders: new Set(['other-event']) });
  });
});

describe('DynamoDB faults', () => {
  it('a throttled claim is retried and the event acted on once', async () => {
    const throttled = () => awsError('ThrottlingException', 'Rate exceeded');
    table.failWith({ operation: 'PutItem', pk: 'REMEDIATION_EVENT', error: throttled, times: 2 });
    const result = await handleEvent(alarmEvent(ALARM), deps());
    expect(result).toMatchObject({ outcome: 'remediated' });
    expect(restarts()).toBe(1);
    expect((await rate())?.count).toBe(1);
  });

  it('a denied claim: no action, no slot, the failure audited', async () => {
    table.failWith({
      operation: 'PutItem',
      pk: 'REMEDIATION_EVENT',
      error: () => awsError('AccessDeniedException', 'not authorized to perform: dynamodb:PutItem'),
    });
    await expect(handleEvent(alarmEvent(ALARM), deps())).rejects.toBeInstanceOf(RemediationFailedError);
    expect(restarts()).toBe(0);
    expect(await rate()).toBeUndefined();
    expect(await audits()).toEqual([expect.objectContaining({ outcome: 'failed' })]);
  });

  it('a denied slot: no action, the event marked failed', async () => {
    table.failWith({
      operation: 'UpdateItem',
      pk: 'REMEDIATION_RATE',
      error: () => awsError('AccessDeniedException', 'not authorized to perform: dynamodb:UpdateItem'),
    });
    await expect(handleEvent(alarmEvent(ALARM), deps())).rejects.toBeInstanceOf(RemediationFailedError);
    expect(restarts()).toBe(0);
    expect(await marker()).toMatchObject({ status: 'failed' });
  });
});
