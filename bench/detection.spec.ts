/**
 * Detection latency of the spend guard: from spend crossing a threshold to the guard's action,
 * on simulated spend timelines run through the real handler and logic (the ops table on the
 * local engine, CloudWatch and Budgets answered by test/helpers/spend-world.ts with CloudWatch's
 * metric delay). Each timeline is a batch run spending steadily across every threshold of the
 * batch budget, starting at a different point of the schedule's cycle; the guard runs at every
 * tick of its schedule. Runs under vitest from bench/run.ts, which reads the JSON this writes to
 * $BENCH_DETECTION_OUT; it is not part of the test suite.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { spendLevels } from '../core/spend/budgets';
import { handleEvent } from '../lambdas/spend-guard/handler';
import { loadEnvironmentConfig } from '../lib/config';
import { observability, world } from '../test/lambdas/spend-guard/harness';
import type { DetectionFigure } from './detection-types';

/** CloudWatch's metric delay assumed: a datapoint is readable this long after its timestamp. */
const METRIC_DELAY_MINUTES = 5;
/** How long after its scheduled time a run starts and acts (Scheduler invokes within the minute). */
const START_DELAY_SECONDS = 20;
/** Timelines, each starting at another offset within the schedule's cycle. */
const TIMELINES = 15;
const MINUTE = 60_000;

const schedule = loadEnvironmentConfig('prod').spend.guard.scheduleMinutes;
const results: Array<DetectionFigure['samples'][number]> = [];

it('acts on every threshold within the schedule plus the metric delay', async () => {
  for (let t = 0; t < TIMELINES; t++) {
    // Ticks at :00, :15, ... (UTC); the run starts `offset` minutes into a cycle.
    const offsetMs = Math.round(((t + 0.37) / TIMELINES) * schedule * MINUTE);
    const start = new Date(Date.UTC(2026, 10, 18, 1, 0, 0) + offsetMs);
    const w = await world(start);
    const obs = observability();
    // Batch budget $1,200: AWS batch $10, LLM batch $500 before the run; the run adds $800 over
    // 4 hours, one call of $0.40 every 1.2 s.
    w.spend.delayMs = METRIC_DELAY_MINUTES * MINUTE;
    w.spend.awsSpend({ batch: 10, interactive: 0, infrastructure: 0, monthly: 10 });
    w.spend.cost('2026-11-10T02:00:00.000Z', 'batch', 500, { calls: 1500 });
    const calls = 2000;
    const stepMs = (4 * 60 * MINUTE) / calls;
    let spent = 510;
    const crossed = new Map<number, number>();
    for (let i = 0; i < calls; i++) {
      const at = start.getTime() + i * stepMs;
      w.spend.cost(new Date(at), 'batch', 0.4);
      spent += 0.4;
      for (const level of spendLevels(100)) {
        if (!crossed.has(level.percent) && Math.round(spent * 100) >= 1200 * level.percent) {
          crossed.set(level.percent, at);
        }
      }
    }
    // The guard at every tick from the first after the start until an hour after the last call.
    const acted = new Map<number, number>();
    const firstTick = Math.ceil(start.getTime() / (schedule * MINUTE)) * schedule * MINUTE;
    for (let tick = firstTick; tick <= start.getTime() + 5 * 60 * MINUTE; tick += schedule * MINUTE) {
      w.clock.now = new Date(tick + START_DELAY_SECONDS * 1000);
      const result = await handleEvent(
        { scheduledTime: new Date(tick).toISOString() },
        {
          clients: w.clients,
          env: w.env,
          now: () => w.clock.now,
          newId: () => `bench-${tick}`,
          observability: { logger: obs.logger, metrics: obs.metrics },
        },
      );
      for (const action of result.actions) {
        if (action.budget === 'batch' && typeof action.level === 'number' && action.outcome === 'done') {
          acted.set(action.level, w.clock.now.getTime());
        }
      }
    }
    for (const [percent, crossedAt] of crossed) {
      const actedAt = acted.get(percent);
      expect(actedAt, `timeline ${t}: ${percent}% never acted on`).toBeDefined();
      results.push({
        timeline: t,
        percent,
        crossedAt: new Date(crossedAt).toISOString(),
        actedAt: new Date(actedAt as number).toISOString(),
        latencyMinutes: ((actedAt as number) - crossedAt) / MINUTE,
      });
    }
    await w.table.drop();
  }
  // The worst case: a datapoint readable just after a run looked is seen by the next one.
  const bound = schedule + METRIC_DELAY_MINUTES + START_DELAY_SECONDS / 60;
  expect(Math.max(...results.map((r) => r.latencyMinutes))).toBeLessThanOrEqual(bound);
}, 300_000);

afterAll(() => {
  const out = process.env.BENCH_DETECTION_OUT;
  if (!out) return;
  const latencies = results.map((r) => r.latencyMinutes).sort((a, b) => a - b);
  const figure: DetectionFigure = {
    scheduleMinutes: schedule,
    metricDelayMinutes: METRIC_DELAY_MINUTES,
    startDelaySeconds: START_DELAY_SECONDS,
    timelines: TIMELINES,
    maxMinutes: latencies.at(-1) ?? Number.NaN,
    medianMinutes: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
    samples: results,
  };
  writeFileSync(out, JSON.stringify(figure));
});
