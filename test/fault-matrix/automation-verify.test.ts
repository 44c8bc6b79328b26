import 'aws-sdk-client-mock-vitest/extend';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import type { HandlerDeps } from '../../lambdas/automation-verify/handler';
import * as source from '../../lambdas/automation-verify/handler';
import { EscalationNotSentError } from '../../lambdas/automation-verify/logic';
import { underTest } from '../bundles/under-test';
import { AUTOMATION_TOPICS } from '../helpers/automation';
import { observability } from '../helpers/aws';
import { createOpsTable, type LocalOpsTable } from '../helpers/dynalite';
import {
  ALARM,
  audits,
  loseWriteAnswer,
  mocks,
  published,
  record,
  request,
  seedRecord,
  verifyDeps,
  world,
} from '../lambdas/automation-verify/harness';
import { cell, denied, expectRefused, throttled, timedOut } from './matrix';

const lambda = underTest('automation-verify', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

// The read services and SNS mocked; the ops table on the local engine, which decides the
// conditions of the outcome's one write.
let table: LocalOpsTable;
let obs: ReturnType<typeof observability>;

const deps = (overrides: Partial<HandlerDeps> = {}) => verifyDeps(table, obs, overrides);

/** A fresh table holding the action's record, and the mocks answering for `state`. */
async function reset(state: Parameters<typeof world>[0] = {}): Promise<ReturnType<typeof world>> {
  if (table !== undefined) await table.drop();
  table = await createOpsTable();
  await seedRecord(table);
  return world(state);
}

function awsCalls(): number {
  return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0) + table.sent.length;
}

const verification = async () => (await record(table))?.verification;

/** The unfaulted verification of a missing effect (the alarm still in ALARM): result, outcome, pages. */
async function reference() {
  await reset({ alarm: 'ALARM' });
  const result = await handleEvent(request(), deps());
  const outcome = await verification();
  const pages = published();
  const answers = await reset({ alarm: 'ALARM' });
  return { result, outcome, pages, answers };
}

beforeEach(async () => {
  obs = observability('automation-verify');
  await reset();
});

afterEach(() => {
  vi.restoreAllMocks();
  table.clearFaults();
});

lambda.describe('automation-verify fault matrix', () => {
  cell('automation-verify', 'malformed-event', async () => {
    await expectRefused(
      (event) => handleEvent(event, deps()),
      [
        'verify',
        null,
        { ...request(), version: 2 },
        { ...request(), action: 'reboot' },
        { ...request(), checks: [] },
        { ...request(), checks: [{ kind: 'disk-free', path: '/' }] },
        { ...request(), verifyAt: 'in ten minutes' },
      ],
      awsCalls,
    );
  });

  cell('automation-verify', 'empty-event', () =>
    expectRefused((event) => handleEvent(event, deps()), [{}, undefined], awsCalls),
  );

  cell('automation-verify', 'extra-fields', async () => {
    // The payload is ours on both sides (core/automation/checks.ts), versioned: a field this
    // verifier does not know is another version's request, refused rather than half-read. The
    // refusal fails the invocation: the verifier's errors alarm and dead-letter queue see it.
    const plain = request();
    const [first, ...rest] = plain.checks;
    for (const event of [
      { ...plain, unexpected: true },
      { ...plain, checks: [{ ...first, threshold: 80 }, ...rest] },
    ]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
    expect(obs.emf.filter((doc) => 'InvalidVerificationRequest' in doc)).toHaveLength(2);
    expect(await verification()).toBeUndefined();
  });

  cell('automation-verify', 'throttling', async () => {
    const plain = await reference();
    const { alarms, services, publish } = plain.answers;
    mocks.cloudwatch
      .on(DescribeAlarmsCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves(alarms);
    mocks.ecs.on(DescribeServicesCommand).rejectsOnce(throttled()).resolves(services);
    mocks.sns.on(PublishCommand).rejectsOnce(throttled()).resolves(publish);
    table.failWith({ operation: 'UpdateItem', pk: 'AUTOMATION_ACTION', error: throttled, times: 1 });

    const result = await handleEvent(request(), deps());

    expect(result).toEqual(plain.result);
    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    expect(await verification()).toEqual(plain.outcome);
    expect(mocks.cloudwatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 3);
    // The throttled attempt and the one that went through: the same escalation, delivered once.
    expect(published()).toEqual([plain.pages[0], plain.pages[0]]);
    expect(plain.pages).toHaveLength(1);
    expect(await audits(table)).toHaveLength(1);
  });

  cell('automation-verify', 'access-denied', async () => {
    await reset({ alarm: 'ALARM' });
    mocks.sns.on(PublishCommand).rejects(denied('sns:Publish'));

    const error = await handleEvent(request(), deps()).catch((e: unknown) => e);

    expect(error).toBeErrorOf(EscalationNotSentError);
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(await verification()).toMatchObject({ outcome: 'failed', escalatedTo: 'P1', notice: 'pending' });
    expect(await audits(table)).toEqual([expect.objectContaining({ outcome: 'failed' })]);

    // The delivery's retry, the permission back: the pending escalation is sent, nothing re-read.
    world({ alarm: 'ALARM' });
    const retried = await handleEvent(request(), deps());

    expect(retried).toMatchObject({ outcome: 'duplicate', republished: true });
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(published()).toEqual([expect.objectContaining({ TopicArn: AUTOMATION_TOPICS.P1 })]);
    expect(await verification()).toMatchObject({ outcome: 'failed', notice: 'sent' });
  });

  cell('automation-verify', 'timeout', async () => {
    mocks.cloudwatch.on(DescribeAlarmsCommand).rejects(timedOut());

    const result = await handleEvent(request(), deps());

    // The service's scale-out is there, but the alarm could not be read: not confirmed.
    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    expect(mocks.cloudwatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 5);
    expect(published()).toEqual([expect.objectContaining({ TopicArn: AUTOMATION_TOPICS.P1 })]);
    expect(published()[0]?.Message).toContain(`MISSING: could not read alarm ${ALARM}: TimeoutError`);

    // The outcome's write lands but its answer times out: the SDK's retry of that same write
    // must not be taken for a racing delivery's (which would leave the escalation unsent).
    await reset({ alarm: 'ALARM' });
    loseWriteAnswer(table, 'UpdateItem');

    const landed = await handleEvent(request(), deps());

    expect(landed).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    expect(published()).toEqual([expect.objectContaining({ TopicArn: AUTOMATION_TOPICS.P1 })]);
    expect(await verification()).toMatchObject({ outcome: 'failed', notice: 'sent' });
    expect(await audits(table)).toHaveLength(1);
  });

  cell('automation-verify', 'partial-failure', async () => {
    await reset({ alarm: 'ALARM' });
    table.failWith({ operation: 'PutItem', pk: 'AUDIT', error: () => denied('dynamodb:PutItem') });

    const result = await handleEvent(request(), deps());

    expect(result).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    expect(await audits(table)).toEqual([]);
    expect(await verification()).toMatchObject({ outcome: 'failed', notice: 'sent' });
    expect(published()).toEqual([expect.objectContaining({ TopicArn: AUTOMATION_TOPICS.P1 })]);

    // Published, then the mark "sent" fails: logged, not thrown, so no retry pages again.
    await reset({ alarm: 'ALARM' });
    table.intercept(async (call, next) => {
      if (String(call.input.UpdateExpression).includes('#notice')) throw denied('dynamodb:UpdateItem');
      return next();
    });

    const marked = await handleEvent(request(), deps());

    expect(marked).toMatchObject({ outcome: 'failed', escalatedTo: 'P1' });
    expect(published()).toHaveLength(1);
    expect(await verification()).toMatchObject({ outcome: 'failed', notice: 'pending' });
  });

  cell('automation-verify', 'duplicate-delivery', async () => {
    await reset({ alarm: 'ALARM' });
    const first = await handleEvent(request(), deps());
    const outcome = await verification();
    for (const m of Object.values(mocks)) m.resetHistory();

    const second = await handleEvent(request(), deps());

    expect(first).toMatchObject({ outcome: 'failed' });
    expect(second).toMatchObject({ outcome: 'duplicate', republished: false, previous: outcome });
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(mocks.ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
    expect(published()).toEqual([]);
    expect(await verification()).toEqual(outcome);
    expect(await audits(table)).toHaveLength(1);
  });
});
