import 'aws-sdk-client-mock-vitest/extend';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { HandlerDeps } from '../../lambdas/remediation/handler';
import * as source from '../../lambdas/remediation/handler';
import { RemediationFailedError } from '../../lambdas/remediation/logic';
import { underTest } from '../bundles/under-test';
import {
  alarmEvent,
  ENV,
  mocks,
  NOW,
  type OpsTableModel,
  observability,
  resetMocks,
  SERVICES,
  service,
  TOPICS,
  clients as testClients,
} from '../lambdas/remediation/harness';
import { cell, denied, expectRefused, stable, throttled, timedOut } from './matrix';

const lambda = underTest('remediation', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const ALARM = 'log-db-pool-exhausted';
let obs: ReturnType<typeof observability>;
let table: OpsTableModel;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: testClients,
    env: ENV,
    now: () => NOW,
    leaseMs: 65_000,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

function awsCalls(): number {
  return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0);
}

function audits(): Array<Record<string, unknown>> {
  return [...table.items.values()].filter((i) => i.pk === 'AUDIT');
}

function published(): Array<{ Subject?: string; Message?: string; TopicArn?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

/** The result of the unfaulted run, then a fresh table. */
async function plainResult() {
  const result = await handleEvent(alarmEvent(ALARM), deps());
  table = resetMocks();
  return result;
}

beforeEach(() => {
  table = resetMocks();
  obs = observability();
});

afterEach(() => {
  vi.restoreAllMocks();
});

lambda.describe('remediation fault matrix', () => {
  cell('remediation', 'malformed-event', async () => {
    await expectRefused(
      (event) => handleEvent(event, deps()),
      [
        'ALARM',
        null,
        { version: '0', id: 'x', 'detail-type': 'Object Created', source: 'aws.s3', detail: {} },
        alarmEvent(ALARM, { state: 'BROKEN' }),
      ],
      awsCalls,
    );
  });

  cell('remediation', 'empty-event', () =>
    expectRefused((event) => handleEvent(event, deps()), [{}, undefined], awsCalls),
  );

  cell('remediation', 'extra-fields', async () => {
    const plain = await plainResult();
    const event = { ...alarmEvent(ALARM), unexpected: true } as ReturnType<typeof alarmEvent> & {
      detail: Record<string, unknown>;
    };
    event.detail = { ...event.detail, surprise: { nested: 1 } };

    const result = await handleEvent(event, deps());

    expect(stable(result)).toEqual(stable(plain));
    expect(result.outcome).toBe('remediated');
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  cell('remediation', 'throttling', async () => {
    const plain = await plainResult();
    mocks.ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      // What the harness's fake answers to a forced new deployment of blue (desired 2).
      .resolves({ service: service('blue', 2, 'ecs-svc/blue0002') });

    const result = await handleEvent(alarmEvent(ALARM), deps());

    expect(stable(result)).toEqual(stable(plain));
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 3);
    expect(audits()).toEqual([expect.objectContaining({ outcome: 'ok' })]);
  });

  cell('remediation', 'access-denied', async () => {
    mocks.ecs.on(UpdateServiceCommand).rejects(denied('ecs:UpdateService'));

    const error = await handleEvent(alarmEvent(ALARM), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(RemediationFailedError);
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(audits()).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(published()).toEqual([
      expect.objectContaining({ TopicArn: TOPICS.P1, Subject: expect.stringContaining('FAILED') }),
    ]);
  });

  cell('remediation', 'timeout', async () => {
    mocks.ecs.on(UpdateServiceCommand).rejects(timedOut());

    const error = await handleEvent(alarmEvent(ALARM), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(RemediationFailedError);
    expect((error as RemediationFailedError).failure).toMatchObject({
      call: 'UpdateService',
      error: expect.stringContaining('TimeoutError'),
    });
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 5);
    expect(audits()).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(published()[0]?.Subject).toContain('FAILED');
  });

  cell('remediation', 'partial-failure', async () => {
    // One mutation per event: a single UpdateService on the live colour. Either it happens
    // (and is audited ok) or the invocation fails (audited failed); there is no "other half".
    await handleEvent(alarmEvent(ALARM), deps());
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(mocks.ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { service: SERVICES.blue });
    expect(audits()).toEqual([expect.objectContaining({ outcome: 'ok' })]);

    table = resetMocks();
    mocks.ecs.on(UpdateServiceCommand).rejects(denied('ecs:UpdateService'));
    await expect(handleEvent(alarmEvent(ALARM), deps())).rejects.toBeErrorOf(RemediationFailedError);
    expect(audits()).toEqual([expect.objectContaining({ outcome: 'failed' })]);
  });

  cell('remediation', 'duplicate-delivery', async () => {
    const first = await handleEvent(alarmEvent(ALARM), deps());
    const writes = mocks.ddb.commandCalls(PutCommand).length + mocks.ddb.commandCalls(UpdateCommand).length;
    expect(writes).toBeGreaterThan(0);

    const second = await handleEvent(alarmEvent(ALARM), deps());

    expect(first.outcome).toBe('remediated');
    expect(second).toMatchObject({ outcome: 'duplicate' });
    expect(mocks.ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(published()).toHaveLength(1);
    expect(audits()).toHaveLength(1);
  });
});
