/**
 * The UTC days the reconciliation compares. The budget month is UTC, as in AWS Budgets, and
 * both providers bucket their cost reports by UTC day, so every boundary here is UTC midnight.
 */

export const DAY_MS = 86_400_000;

/** A UTC calendar day, `YYYY-MM-DD`. */
export type UtcDay = string;

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `text` as a UTC day when it names a real calendar date (2026-02-30 does not), else undefined. */
export function parseUtcDay(text: string): UtcDay | undefined {
  const m = DAY_PATTERN.exec(text);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === text ? text : undefined;
}

/** The UTC day an instant falls in. */
export function dayOf(instant: Date | number): UtcDay {
  return new Date(instant).toISOString().slice(0, 10);
}

/** 00:00 UTC of `day`. */
export function startOf(day: UtcDay): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

/** The day `n` days after `day` (before, for a negative `n`). */
export function addDays(day: UtcDay, n: number): UtcDay {
  return dayOf(startOf(day).getTime() + n * DAY_MS);
}

/** The first day of `day`'s UTC month. */
export function monthStartOf(day: UtcDay): UtcDay {
  return `${day.slice(0, 7)}-01`;
}

/** When `day`'s costs count as final: its end (next midnight UTC) plus `settleHours`. */
export function settledAt(day: UtcDay, settleHours: number): Date {
  return new Date(startOf(day).getTime() + DAY_MS + settleHours * 3_600_000);
}

/** The latest day whose costs are final at `asOf`: the day ending at least `settleHours` before it. */
export function latestSettledDay(asOf: Date, settleHours: number): UtcDay {
  return dayOf(asOf.getTime() - settleHours * 3_600_000 - DAY_MS);
}

/** What one run compares: `day` alone and its month from the 1st through `day`. */
export interface ReconciliationRange {
  readonly day: UtcDay;
  readonly monthStart: UtcDay;
  /** 00:00 UTC of the month's first day: the start of every query. */
  readonly start: Date;
  /** 00:00 UTC of the day after `day` (exclusive): the end of every query. */
  readonly end: Date;
}

/** The range of the run that reconciles `day`: on the 1st, its month is that one day. */
export function rangeOf(day: UtcDay): ReconciliationRange {
  const monthStart = monthStartOf(day);
  return { day, monthStart, start: startOf(monthStart), end: startOf(addDays(day, 1)) };
}

/** The days of `range`, first to last. */
export function daysOf(range: ReconciliationRange): UtcDay[] {
  const days: UtcDay[] = [];
  for (let d = range.monthStart; d <= range.day; d = addDays(d, 1)) days.push(d);
  return days;
}
