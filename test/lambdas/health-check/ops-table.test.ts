/**
 * The health check's use of the ops table on the real engine (test/helpers/dynalite): the batch
 * run query (key condition, newest first, one item) and the light alert's item, seeded as
 * items and judged by the items left. handler.test.ts covers the rest on the mocks.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HealthReport } from '../../../core/health/report';
import { type HandlerDeps, handleEvent } from '../../../lambdas/health-check/handler';
import { observability } from '../../helpers/aws';
import type { LocalOpsTable } from '../../helpers/dynalite';
import {
  awsError,
  batchRun,
  ENV,
  engineHealthClients,
  healthyWorld,
  mocks,
  NOW,
  serveEngine,
  type World,
} from './fixtures';

let world: World;
let table: LocalOpsTable;
let obs: ReturnType<typeof observability>;

beforeEach(async () => {
  world = healthyWorld();
  table = await serveEngine(world);
  obs = observability('health-check');
});

afterEach(() => {
  vi.restoreAllMocks();
});

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: engineHealthClients(table),
    env: ENV,
    now: () => NOW,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

const batchFigure = (report: HealthReport) => report.checks.find((c) => c.name === 'batch')?.figure;
const publishes = () => mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

describe('the batch run', () => {
  it('is the newest run started within the lookback, whatever else the table holds', async () => {
    await table.seed(
      batchRun({ startedAt: '2026-11-14T17:00:00.000Z', status: 'FAILED' }),
      batchRun({ startedAt: '2026-11-22T20:00:00.000Z', status: 'FAILED' }),
      { pk: 'AUDIT', sk: '2026-11-22T21:00:00.000Z#ab12cd34', action: 'batch-disable' },
    );
    const report = await handleEvent({ check: 'morning' }, deps());
    expect(batchFigure(report)).toBe('FAILED (started 2026-11-22T20:00:00.000Z)');
  });

  it('is missing when the only run started before the lookback', async () => {
    world.batch = batchRun({ startedAt: '2026-11-14T23:59:59.999Z' });
    table = await serveEngine(world);
    const report = await handleEvent({ check: 'morning' }, deps());
    expect(batchFigure(report)).toBe('no batch run since 2026-11-15T00:00:00.000Z');
  });

  it('is read again after a throttled query', async () => {
    table.failWith({
      operation: 'Query',
      error: () => awsError('ProvisionedThroughputExceededException', 'slow down'),
      times: 1,
    });
    const report = await handleEvent({ check: 'morning' }, deps());
    expect(batchFigure(report)).toMatch(/^SUCCEEDED at 2026-11-22T19:41:07.880Z/);
  });
});

describe('the light alert item', () => {
  const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
  const light = (now: Date) => handleEvent({ check: 'light' }, deps({ now: () => now }));

  it('is written when a problem is sent, holds it back on the next run and goes when it clears', async () => {
    world.metrics.p95 = 4;
    await light(NOW);
    const alert = await table.item('HEALTH', 'LIGHT_ALERT');
    expect(alert).toMatchObject({
      problem: 'latencyP95=FAIL',
      severity: 'P1',
      notifiedAt: NOW.toISOString(),
    });

    await light(at(5));
    expect(publishes()).toHaveLength(1);
    expect(await table.item('HEALTH', 'LIGHT_ALERT')).toEqual(alert);

    world.metrics.p95 = 0.8;
    await light(at(10));
    expect(publishes()).toHaveLength(2);
    expect(await table.item('HEALTH', 'LIGHT_ALERT')).toBeUndefined();
  });
});
