/**
 * The budget month: a calendar month in UTC, as AWS Budgets counts it. Spend of a month is what
 * was published (or billed) with a timestamp in [start, end).
 */

/** One budget month. */
export interface SpendMonth {
  /** "2026-11". */
  readonly key: string;
  /** 00:00 UTC on the 1st. */
  readonly start: Date;
  /** 00:00 UTC on the 1st of the next month (exclusive). */
  readonly end: Date;
}

const MS_PER_DAY = 86_400_000;

/** The UTC month holding `at`. */
export function spendMonthOf(at: Date): SpendMonth {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const start = new Date(Date.UTC(year, month, 1));
  return {
    key: `${year}-${String(month + 1).padStart(2, '0')}`,
    start,
    end: new Date(Date.UTC(year, month + 1, 1)),
  };
}

/** The month before `month`. */
export function previousSpendMonth(month: SpendMonth): SpendMonth {
  return spendMonthOf(new Date(month.start.getTime() - 1));
}

/** Days in `month` (28 to 31). */
export function daysIn(month: SpendMonth): number {
  return Math.round((month.end.getTime() - month.start.getTime()) / MS_PER_DAY);
}

/** Days of `month` elapsed at `at`, fractional, between 0 and the month's length. */
export function elapsedDays(month: SpendMonth, at: Date): number {
  const elapsed = (at.getTime() - month.start.getTime()) / MS_PER_DAY;
  return Math.min(Math.max(elapsed, 0), daysIn(month));
}
