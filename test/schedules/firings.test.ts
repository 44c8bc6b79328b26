/**
 * Three years of firings (2027-2029) of every EventBridge Scheduler schedule of every
 * synthesized environment, from the templates' ScheduleExpression and
 * ScheduleExpressionTimezone: each fires exactly once per period, so no run is skipped or
 * doubled by daylight saving.
 */
import { describe, expect, it } from 'vitest';
import { firings, parseCron, wallClock } from '../../lib/config/cron';
import { ENVIRONMENT_NAMES } from '../../lib/config/schema';
import { sharedSynth } from '../helpers/synth';

const FROM = { year: 2027, month: 1, day: 1 };
const TO = { year: 2029, month: 12, day: 31 };
const DAY_MS = 86_400_000;

interface Schedule {
  readonly label: string;
  readonly expression: string;
  readonly timeZone: string;
}

const synth = await sharedSynth();
const schedules: Schedule[] = ENVIRONMENT_NAMES.flatMap((env) =>
  (['stateful', 'service'] as const).flatMap((tier) =>
    Object.entries(synth.templateJson(env, tier).Resources as Record<string, any>)
      .filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule')
      .map(([id, r]) => ({
        label: `${env} ${id}`,
        expression: r.Properties.ScheduleExpression,
        timeZone: r.Properties.ScheduleExpressionTimezone ?? 'UTC',
      })),
  ),
);

type Period = 'day' | 'week' | 'month';

/** How often the expression means to fire: once a day, a week or a month. */
function periodOf(expression: string): Period {
  const [minute, hour, dom, month, dow, year] = expression.slice(5, -1).split(' ');
  const once = /^\d+$/.test(minute ?? '') && /^\d+$/.test(hour ?? '') && month === '*' && year === '*';
  if (once && dom === '?' && /^[A-Z]{3}$/.test(dow ?? '')) return 'week';
  if (once && dom === '?' && /^[A-Z]{3}#\d$/.test(dow ?? '')) return 'month';
  if (once && /^\d+$/.test(dom ?? '') && dow === '?') return 'month';
  if (once && ((dom === '*' && dow === '?') || (dom === '?' && dow === '*'))) return 'day';
  throw new Error(`${expression}: classify this schedule's period in the test`);
}

/** The key of the period a local date (as a UTC date) falls in; weeks start on Monday. */
function periodKey(period: Period, localDay: number): string {
  const d = new Date(localDay);
  if (period === 'day') return d.toISOString().slice(0, 10);
  if (period === 'month') return d.toISOString().slice(0, 7);
  const monday = localDay - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return `week of ${new Date(monday).toISOString().slice(0, 10)}`;
}

/** Every period that lies wholly within FROM..TO. */
function wholePeriods(period: Period): string[] {
  const keys = new Set<string>();
  const first = Date.UTC(FROM.year, FROM.month - 1, FROM.day);
  const last = Date.UTC(TO.year, TO.month - 1, TO.day);
  const counts = new Map<string, number>();
  for (let d = first; d <= last; d += DAY_MS) {
    const key = periodKey(period, d);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, days] of counts) if (period !== 'week' || days === 7) keys.add(key);
  return [...keys];
}

const firingsByPair = new Map<string, Map<string, string[]>>();

/** The local date-times of the firings, by period; computed once per expression and zone. */
function firingsByPeriod(schedule: Schedule, period: Period): Map<string, string[]> {
  const pair = `${schedule.expression}|${schedule.timeZone}`;
  let byPeriod = firingsByPair.get(pair);
  if (!byPeriod) {
    byPeriod = new Map();
    for (const instant of firings(parseCron(schedule.expression), schedule.timeZone, FROM, TO)) {
      const local = wallClock(schedule.timeZone, instant);
      const key = periodKey(period, local - (local % DAY_MS));
      byPeriod.set(key, [...(byPeriod.get(key) ?? []), new Date(local).toISOString().slice(0, 16)]);
    }
    firingsByPair.set(pair, byPeriod);
  }
  return byPeriod;
}

describe('scheduled runs across daylight saving, 2027-2029', () => {
  it('finds the seven schedules of every environment', () => {
    for (const env of ENVIRONMENT_NAMES) {
      const ids = schedules.filter((s) => s.label.startsWith(`${env} `)).map((s) => s.label.split(' ')[1]);
      expect(ids.map((id) => id?.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
        'BatchSchedule',
        'DatabaseMaintenanceMonthly',
        'DatabaseMaintenanceWeekly',
        'HealthCheckLight',
        'HealthCheckMorning',
        'SpendGuardSchedule',
        'SpendReconciliationDaily',
      ]);
    }
  });

  const crons = schedules.filter((s) => s.expression.startsWith('cron('));
  it.each(crons.map((s) => [s.label, s.expression, s.timeZone, s] as const))(
    '%s (%s in %s) fires exactly once in each of its periods',
    (_label, expression, _zone, schedule) => {
      const period = periodOf(expression);
      const byPeriod = firingsByPeriod(schedule, period);
      const wrong = wholePeriods(period)
        .map((key) => ({ key, firings: byPeriod.get(key) ?? [] }))
        .filter((p) => p.firings.length !== 1);
      expect(wrong).toEqual([]);
    },
  );

  const rates = schedules.filter((s) => !s.expression.startsWith('cron('));
  it.each(rates.map((s) => [s.label, s.expression] as const))(
    '%s (%s) counts elapsed time, which daylight saving cannot skip or double',
    (_label, expression) => {
      expect(expression).toMatch(/^rate\(\d+ (minute|minutes|hour|hours)\)$/);
    },
  );
});
