import { describe, expect, it } from 'vitest';
import {
  daysOf,
  latestSettledDay,
  parseUtcDay,
  rangeOf,
  settledAt,
} from '../../../lambdas/spend-reconcile/window';

describe('the reconciled UTC day', () => {
  it('is yesterday once yesterday has been over for settleHours', () => {
    expect(latestSettledDay(new Date('2026-12-01T11:00:00Z'), 6)).toBe('2026-11-30');
    expect(latestSettledDay(new Date('2026-12-01T06:00:00Z'), 6)).toBe('2026-11-30');
  });

  it('is the day before yesterday while yesterday is not final yet', () => {
    expect(latestSettledDay(new Date('2026-12-01T05:59:59Z'), 6)).toBe('2026-11-29');
  });

  it('is the UTC day, not the local one: 01:00 on 1 December in New York is 06:00 UTC', () => {
    // A New York run just after local midnight is already past UTC midnight plus 5 hours.
    expect(latestSettledDay(new Date('2026-12-01T06:00:00Z'), 5)).toBe('2026-11-30');
  });

  it('is final settleHours after its UTC end', () => {
    expect(settledAt('2026-11-30', 6).toISOString()).toBe('2026-12-01T06:00:00.000Z');
  });
});

describe('the month to date', () => {
  it('runs from the 1st of the UTC month through the day', () => {
    const range = rangeOf('2026-11-30');
    expect(range).toMatchObject({ day: '2026-11-30', monthStart: '2026-11-01' });
    expect(range.start.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(range.end.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(daysOf(range)).toHaveLength(30);
  });

  it('is the day alone on the 1st: no day of the previous month is in it', () => {
    const range = rangeOf('2026-12-01');
    expect(range.monthStart).toBe('2026-12-01');
    expect(daysOf(range)).toEqual(['2026-12-01']);
  });

  it('crosses into the new year as a new month', () => {
    expect(rangeOf('2027-01-01').monthStart).toBe('2027-01-01');
    expect(daysOf(rangeOf('2026-12-31'))).toHaveLength(31);
  });

  it('counts 29 days for February of a leap year', () => {
    expect(daysOf(rangeOf('2028-02-29'))).toHaveLength(29);
    expect(rangeOf('2028-02-29').end.toISOString()).toBe('2028-03-01T00:00:00.000Z');
  });
});

describe('a day named by an operator', () => {
  it('must be a real calendar date in YYYY-MM-DD', () => {
    expect(parseUtcDay('2028-02-29')).toBe('2028-02-29');
    expect(parseUtcDay('2026-02-29')).toBeUndefined();
    expect(parseUtcDay('2026-11-31')).toBeUndefined();
    expect(parseUtcDay('2026-1-05')).toBeUndefined();
    expect(parseUtcDay('30/11/2026')).toBeUndefined();
  });
});
