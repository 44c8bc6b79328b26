import 'aws-sdk-client-mock-vitest/extend';
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HandlerDeps, handleEvent } from '../../../lambdas/remediation/handler';
import { UnknownAlarmNoticeError } from '../../../lambdas/remediation/unknown-alarm';
import type { LocalOpsTable } from '../../helpers/dynalite';
import {
  alarmEvent,
  awsError,
  envOf,
  metricValue,
  mocks,
  NOW,
  observability,
  TOPICS,
  world,
} from './harness';

/**
 * An alarm named like the environment's but missing from the catalogue: nothing is done and P1
 * is told once per event (the marker on the local DynamoDB engine decides duplicates).
 */
const EVENT_ID = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92';
const UNKNOWN = 'hand-made-alarm';

let table: LocalOpsTable;
let clients: HandlerDeps['clients'];
let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients,
    env: envOf(table),
    now: () => NOW,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

const published = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const changes = () =>
  mocks.ecs.commandCalls(UpdateServiceCommand).length +
  mocks.ecs.commandCalls(DescribeServicesCommand).length +
  mocks.ssm.commandCalls(GetParameterCommand).length;

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

describe('an alarm the catalogue does not know', () => {
  it('does nothing and tells P1 what it is and what to do', async () => {
    const result = await handleEvent(alarmEvent(UNKNOWN), deps());

    expect(result).toMatchObject({
      outcome: 'unknown-alarm',
      alarmName: `fa-ai-system-prod-${UNKNOWN}`,
      severity: 'P1',
      notified: true,
    });
    expect(changes()).toBe(0);
    expect(published()).toEqual([
      expect.objectContaining({
        TopicArn: TOPICS.P1,
        Subject: `[prod] P1 remediation: unknown alarm fa-ai-system-prod-${UNKNOWN}`,
        Message: expect.stringContaining('core/alarms/catalogue.ts'),
      }),
    ]);
    expect(await table.item('REMEDIATION_EVENT', EVENT_ID)).toMatchObject({
      status: 'done',
      outcome: 'unknown-alarm',
    });
    expect(metricValue(obs.emf, 'RemediationUnknownAlarm')).toBe(1);
  });

  it('never takes the severity from the description', async () => {
    await handleEvent(alarmEvent(UNKNOWN, { description: 'P3 nothing to see' }), deps());
    expect(published()[0]?.TopicArn).toBe(TOPICS.P1);
  });

  it('tells nobody again on a duplicate delivery', async () => {
    await handleEvent(alarmEvent(UNKNOWN), deps());
    const again = await handleEvent(alarmEvent(UNKNOWN), deps());

    expect(again).toMatchObject({ outcome: 'unknown-alarm', notified: false });
    expect(published()).toHaveLength(1);
  });

  it('tells about a later event of the same alarm', async () => {
    await handleEvent(alarmEvent(UNKNOWN), deps());
    await handleEvent(alarmEvent(UNKNOWN, { id: 'a-later-transition' }), deps());
    expect(published()).toHaveLength(2);
  });

  it('retries a throttled notice', async () => {
    mocks.sns
      .on(PublishCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ MessageId: 'm-1' });
    await expect(handleEvent(alarmEvent(UNKNOWN), deps())).resolves.toMatchObject({ notified: true });
    expect(published()).toHaveLength(2);
  });

  it("fails when the notice cannot be sent, and Lambda's retry tells", async () => {
    mocks.sns.on(PublishCommand).rejects(awsError('AuthorizationErrorException', 'not allowed', 403));
    await expect(handleEvent(alarmEvent(UNKNOWN), deps())).rejects.toThrow(UnknownAlarmNoticeError);
    expect(await table.item('REMEDIATION_EVENT', EVENT_ID)).toMatchObject({ status: 'failed' });

    mocks.sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    await expect(handleEvent(alarmEvent(UNKNOWN), deps())).resolves.toMatchObject({ notified: true });
    expect(await table.item('REMEDIATION_EVENT', EVENT_ID)).toMatchObject({ status: 'done' });
  });

  it('ignores an alarm of another environment', async () => {
    const result = await handleEvent(
      alarmEvent(UNKNOWN, { alarmName: `fa-ai-system-staging-${UNKNOWN}` }),
      deps(),
    );
    expect(result).toMatchObject({ outcome: 'ignored' });
    expect(published()).toEqual([]);
    expect(await table.item('REMEDIATION_EVENT', EVENT_ID)).toBeUndefined();
  });
});
