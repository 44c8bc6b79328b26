import 'aws-sdk-client-mock-vitest/extend';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import type { HandlerDeps } from '../../lambdas/spend-guard/handler';
import * as source from '../../lambdas/spend-guard/handler';
import { SpendGuardIncompleteError } from '../../lambdas/spend-guard/logic';
import { underTest } from '../bundles/under-test';
import {
  batchControls,
  itemsOf,
  mocks,
  observability,
  publishedTo,
  type World,
  world,
} from '../lambdas/spend-guard/harness';
import { cell, denied, expectRefused, throttled, timedOut } from './matrix';

const lambda = underTest('spend-guard', source);
const handleEvent: typeof source.handleEvent = (event, deps) => lambda.module.handleEvent(event, deps);

const NOW = '2026-11-20T12:00:10.000Z';
const EVENT = { scheduledTime: '2026-11-20T12:00:00Z', executionId: 'c0ffee00-0000-4000-8000-000000000001' };
let w: World;
let obs: ReturnType<typeof observability>;

/** Batch at 104% of its budget (LLM $1,240 + AWS $10): the kill threshold and its notices are due. */
function overBudget(): void {
  w.spend
    .awsSpend({ batch: 10, interactive: 50, infrastructure: 60, monthly: 130 })
    .cost('2026-11-19T02:00:00.000Z', 'batch', 1240, { calls: 4000 });
}

beforeEach(async () => {
  w = await world(NOW);
  obs = observability();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await w.table.drop();
});

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: w.clients,
    env: w.env,
    now: () => w.clock.now,
    newId: () => 'attempt-1',
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

function awsCalls(): number {
  return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0) + w.table.sent.length;
}

/** What the plain event does, from a fresh world. */
async function plainRun() {
  const result = await handleEvent(EVENT, deps());
  const outcome = {
    actions: result.actions,
    published: publishedTo(),
    items: await itemsOf(w.table, 'SPEND_ALERT'),
  };
  await w.table.drop();
  w = await world(NOW);
  overBudget();
  return outcome;
}

lambda.describe('spend-guard fault matrix', () => {
  cell('spend-guard', 'malformed-event', async () => {
    for (const event of ['now', null, { scheduledTime: 'soon' }, { scheduledTime: 1_763_640_000 }, [EVENT]]) {
      await expect(handleEvent(event, deps())).rejects.toBeErrorOf(InvalidInputError);
    }
    expect(awsCalls()).toBe(0);
  });

  cell('spend-guard', 'empty-event', () =>
    expectRefused((event) => handleEvent(event, deps()), [{}, undefined], awsCalls),
  );

  cell('spend-guard', 'extra-fields', async () => {
    overBudget();
    const plain = await plainRun();

    const result = await handleEvent({ ...EVENT, extra: true, detail: { x: 1 } }, deps());

    expect(result.actions).toEqual(plain.actions);
    expect(publishedTo()).toEqual(plain.published);
  });

  cell('spend-guard', 'throttling', async () => {
    overBudget();
    const plain = await plainRun();
    w.spend.failNext('GetMetricData', throttled, 2).failNext('DescribeBudget', throttled, 2);

    const result = await handleEvent(EVENT, deps());

    expect(result.actions).toEqual(plain.actions);
    expect(result.problems).toEqual([]);
    expect(publishedTo()).toEqual(plain.published);
  });

  cell('spend-guard', 'access-denied', async () => {
    overBudget();
    w.spend.getMetricDataError = () => denied('cloudwatch:GetMetricData');

    const result = await handleEvent(EVENT, deps());

    expect(result.unknown).toBe('notify');
    expect(result.killSwitch).toBeUndefined();
    expect(batchControls()).toBe(0);
    expect(publishedTo()).toEqual([['page', '[prod] Spend UNKNOWN: LLM batch, LLM interactive']]);
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toEqual([]);
  });

  cell('spend-guard', 'timeout', async () => {
    overBudget();
    w.spend.failNext('DescribeBudget', timedOut, 100);

    const result = await handleEvent(EVENT, deps());

    // AWS unknown everywhere; the LLM batch spend alone ($1,240) is past the batch budget.
    expect(result.problems).toHaveLength(4);
    expect(result.budgets.batch).toMatchObject({ spentUsd: 1240, complete: false });
    expect(result.killSwitch).toBe('engaged');
    expect(publishedTo().map(([, s]) => s)).toContain(
      '[prod] Spend UNKNOWN: AWS, AWS batch, AWS infrastructure, AWS interactive',
    );
  });

  cell('spend-guard', 'partial-failure', async () => {
    overBudget();
    mocks.sfn.on(StopExecutionCommand).rejects(denied('states:StopExecution'));

    await expect(handleEvent(EVENT, deps())).rejects.toBeErrorOf(SpendGuardIncompleteError);

    // The kill switch's other actions were made; the threshold waits for the next run.
    expect(mocks.ssm).toHaveReceivedCommandWith(PutParameterCommand, { Value: 'DISABLED' });
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toContainEqual(
      expect.objectContaining({ sk: '2026-11#batch#100', complete: false }),
    );
    expect(await itemsOf(w.table, 'SPEND_ALERT')).toContainEqual(
      expect.objectContaining({ sk: '2026-11#batch#90', complete: true }),
    );
  });

  cell('spend-guard', 'duplicate-delivery', async () => {
    overBudget();
    await handleEvent(EVENT, deps());
    const items = await w.table.items();
    const publishes = mocks.sns.commandCalls(PublishCommand).length;
    const reads = mocks.cloudwatch.commandCalls(GetMetricDataCommand).length;

    const again = await handleEvent(EVENT, deps());

    expect(again.actions).toEqual([]);
    expect(mocks.sns.commandCalls(PublishCommand)).toHaveLength(publishes);
    expect(await w.table.items()).toEqual(items);
    expect(mocks.cloudwatch.commandCalls(GetMetricDataCommand).length).toBeGreaterThan(reads);
  });
});
