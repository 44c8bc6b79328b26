/**
 * Measures the sequential AWS round trips of the kill switch, the health check and the
 * traffic rollback with the suite's own harnesses, every mocked call delayed by LATENCY_MS (the
 * kill switch's ops table is the local engine, its calls delayed likewise).
 * Runs under vitest (the harnesses import `vi`) from bench/run.ts, which reads the JSON this
 * writes to $BENCH_ROUNDTRIPS_OUT; it is not part of the test suite.
 */
import { writeFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, expect, it, vi } from 'vitest';
import { rollbackToLastKnownGood } from '../core/traffic';
import { handleEvent as budgetGuard } from '../lambdas/budget-guard/handler';
import { handleEvent as healthCheck } from '../lambdas/health-check/handler';
import { ACTUAL_100, snsEvent } from '../test/lambdas/budget-guard/fixtures';
import * as bg from '../test/lambdas/budget-guard/harness';
import * as hc from '../test/lambdas/health-check/fixtures';
import * as ts from '../test/lambdas/traffic-shift/harness';
import { LATENCY_MS, type RoundTripFigure } from './roundtrip-types';

const delay = () => new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
const figures: RoundTripFigure[] = [];

/** The kill switch harness's tracker, each call slowed to a realistic AWS latency. */
class SlowBudgetTracker extends bg.RoundTripTracker {
  override track<O>(command: string, fn: () => O | Promise<O>): Promise<O> {
    return super.track(command, async () => {
      await delay();
      return fn();
    });
  }
}

/** The traffic harness's tracker, each call slowed likewise. */
class SlowTrafficTracker extends ts.RoundTripTracker {
  override track<O>(command: string, fn: () => O | Promise<O>): Promise<O> {
    return super.track(command, async () => {
      await delay();
      return fn();
    });
  }
}

/** Health-check fakes delayed; the depth is the longest chain of calls each starting after the previous ended. */
function timedAround(): { around: hc.Around; rounds: () => number; calls: () => number } {
  const spans: Array<{ start: number; end: number }> = [];
  const around: hc.Around = async (_call, fn) => {
    const start = performance.now();
    await delay();
    try {
      return fn();
    } finally {
      spans.push({ start, end: performance.now() });
    }
  };
  const rounds = () => {
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    const chain: number[] = [];
    sorted.forEach((span, i) => {
      const before = sorted.slice(0, i).flatMap((p, j) => (p.end <= span.start ? [chain[j] ?? 0] : []));
      chain.push(1 + Math.max(0, ...before));
    });
    return Math.max(0, ...chain);
  };
  return { around, rounds, calls: () => spans.length };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

function silenceStdout(): void {
  // Powertools writes EMF and logs to stdout; the bench output should stay a table.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
}

afterAll(() => {
  vi.restoreAllMocks();
  const out = process.env.BENCH_ROUNDTRIPS_OUT;
  if (out) writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
});

it.each([1, 10])('kill switch with %i running execution(s)', async (executions) => {
  silenceStdout();
  const tracker = new SlowBudgetTracker();
  const world = await bg.world({ executions, tasks: executions, tracker });
  const { value, ms } = await timed(() =>
    budgetGuard(snsEvent(ACTUAL_100), {
      clients: world.clients,
      env: bg.envOf(world.table),
      now: () => new Date('2026-11-25T04:12:35.000Z'),
      newId: () => '5b0e8f1c-2a7d-4c3e-9f61-0d2b7a9e4c18',
      observability: bg.observability(),
    }),
  );
  expect(value[0]?.outcome).toBe('engaged');
  figures.push({
    name: 'kill switch',
    scale: `${executions} execution(s), ${executions} task(s)`,
    depth: tracker.depth,
    calls: tracker.calls.length,
    wallMs: ms,
    // Record, act, complete: the single-item protocol's price for a crash-safe retry.
    target: 3,
  });
});

it.each([
  ['morning', 2],
  ['morning', 6],
  ['light', 2],
  ['light', 6],
] as const)('health check, %s, with %i services', async (kind, services) => {
  silenceStdout();
  const world = hc.healthyWorld(services, services);
  // Unhealthy, so the report is published (the light check then records that it paged): the longest path.
  world.metrics.p95 = 4;
  const { around, rounds, calls } = timedAround();
  hc.serve(world, around);
  const { value, ms } = await timed(() =>
    healthCheck(
      { check: kind },
      {
        clients: hc.clients(),
        env: hc.envWith(services, services),
        now: () => hc.NOW,
        observability: {
          logger: new Logger({ serviceName: 'health-check', logLevel: 'SILENT' }),
          metrics: new Metrics({ namespace: 'Bench/Automation', serviceName: 'health-check' }),
        },
      },
    ),
  );
  expect(value.overall).toBe('UNHEALTHY');
  figures.push({
    name: 'health check',
    scale: `${kind}, ${services} services, ${services} target groups`,
    depth: rounds(),
    calls: calls(),
    wallMs: ms,
    target: 3,
  });
});

it.each(['completed', 'running'] as const)('traffic rollback of a %s shift', async (state) => {
  silenceStdout();
  const tracker = new SlowTrafficTracker();
  const running = ts.executionArn('to-green-1');
  ts.resetWorld(
    state === 'completed'
      ? { listener: { blue: 0, green: 100 }, items: [ts.lastShiftItem()], tracker }
      : {
          listener: { blue: 50, green: 50 },
          items: [
            ts.lastShiftItem({ status: 'in-progress', completedAt: undefined, final: undefined }),
            ts.lockItem({ executionArn: running }),
          ],
          tracker,
        },
  );
  const now = new Date('2026-11-25T04:10:00.000Z');
  const { value, ms } = await timed(() =>
    rollbackToLastKnownGood(
      ts.clients,
      ts.CONFIG,
      {
        actor: 'traffic-rollback',
        reason: 'bench',
        source: 'traffic-rollback',
        now,
        requireRecentShiftWithin: 60,
        cooldownMinutes: 30,
      },
      { logger: ts.SILENT },
    ),
  );
  expect(value.outcome).toBe('rolled-back');
  figures.push({
    name: 'traffic rollback',
    scale: state === 'completed' ? 'completed shift' : 'shift still running (stopped)',
    depth: tracker.depth,
    calls: tracker.calls.length,
    wallMs: ms,
    target: 2,
  });
});
