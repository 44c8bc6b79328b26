import { describe, expect, it } from 'vitest';
import {
  CronSyntaxError,
  firesOn,
  firings,
  instantsAt,
  offsetChanges,
  parseCron,
} from '../../lib/config/cron';

const NY = 'America/New_York';
const wall = (iso: string) => Date.parse(`${iso}Z`);
const iso = (instants: number[]) => instants.map((t) => new Date(t).toISOString());

describe('cron expressions', () => {
  it('reads lists, ranges, steps, month and day names and years', () => {
    const cron = parseCron('cron(0/15 8-10 ? JAN,MAR MON-FRI 2027-2028)');
    expect(cron.minutes).toEqual([0, 15, 30, 45]);
    expect(cron.hours).toEqual([8, 9, 10]);
    expect([...(cron.months as Set<number>)]).toEqual([1, 3]);
    expect([...(cron.daysOfWeek as Set<number>)]).toEqual([2, 3, 4, 5, 6]);
    expect([...(cron.years as Set<number>)]).toEqual([2027, 2028]);
  });

  it('counts day-of-month steps from the first of the month', () => {
    expect([...(parseCron('cron(0 0 */10 * ? *)').daysOfMonth as Set<number>)]).toEqual([1, 11, 21, 31]);
  });

  it('fires SUN#1 on the first Sunday of the month only', () => {
    const cron = parseCron('cron(0 4 ? * SUN#1 *)');
    expect(firesOn(cron, { year: 2027, month: 2, day: 7 })).toBe(true);
    expect(firesOn(cron, { year: 2027, month: 2, day: 14 })).toBe(false);
  });

  it.each([
    ['cron(0 24 ? * SUN *)', "hour value '24' is not in 0-23"],
    ['cron(0 2 ? * SUN)', 'must be cron(minutes hours day-of-month month day-of-week year)'],
    ['cron(0 2 * * SUN *)', 'exactly one of day-of-month and day-of-week must be ?'],
    ['cron(0 2 L * ? *)', 'L and W are not supported here'],
    ['cron(0 2 ? * 6L *)', 'L and W are not supported here'],
    ['cron(0 2 ? * FUN *)', "day-of-week value 'FUN' is not in 1-7"],
    ['cron(0 2 ? * SUN#6 *)', "day-of-week # value '6' is not in 1-5"],
  ])('refuses %s: %s', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(new CronSyntaxError(message));
  });
});

describe('local time in a zone', () => {
  it('puts Sunday 00:00 in New York at 05:00 UTC in winter and 04:00 UTC in summer', () => {
    const cron = parseCron('cron(0 0 ? * SUN *)');
    const jan = firings(cron, NY, { year: 2027, month: 1, day: 1 }, { year: 2027, month: 1, day: 9 });
    const jul = firings(cron, NY, { year: 2027, month: 7, day: 1 }, { year: 2027, month: 7, day: 9 });
    expect(iso([...jan, ...jul])).toEqual(['2027-01-03T05:00:00.000Z', '2027-07-04T04:00:00.000Z']);
  });

  it('has no instant for 02:00 on the spring-forward Sunday', () => {
    expect(instantsAt(NY, wall('2027-03-14T02:00'))).toEqual([]);
  });

  it('has two instants for 01:30 on the fall-back Sunday', () => {
    expect(iso(instantsAt(NY, wall('2027-11-07T01:30')))).toEqual([
      '2027-11-07T05:30:00.000Z',
      '2027-11-07T06:30:00.000Z',
    ]);
  });

  it("finds New York's two clock changes of 2027 to the minute", () => {
    expect(offsetChanges(NY, 2027, 2027)).toEqual([
      { at: Date.parse('2027-03-14T07:00:00Z'), before: -300, after: -240 },
      { at: Date.parse('2027-11-07T06:00:00Z'), before: -240, after: -300 },
    ]);
  });

  it("skips the runbook's Sunday 02:00 on 2027-03-14, as Scheduler does", () => {
    const cron = parseCron('cron(0 2 ? * SUN *)');
    const march = firings(cron, NY, { year: 2027, month: 3, day: 1 }, { year: 2027, month: 3, day: 31 });
    expect(iso(march)).toEqual([
      '2027-03-07T07:00:00.000Z',
      '2027-03-21T06:00:00.000Z',
      '2027-03-28T06:00:00.000Z',
    ]);
  });
});
