/**
 * An evaluator of EventBridge Scheduler cron expressions in an IANA time zone, for the
 * fields this project uses: minute, hour, day-of-month, month, day-of-week (1-7 = SUN-SAT,
 * names, `SUN#1`), year; `*`, `?`, lists, ranges and steps. `L` and `W` are refused rather
 * than guessed. Zone offsets come from Intl.DateTimeFormat, so no time zone data ships here.
 *
 * A firing is an instant whose wall-clock time in the zone matches the expression, which is
 * how Scheduler behaves across daylight saving: a wall time the clocks skip never fires,
 * and one they pass twice fires twice.
 */

/** A cron expression Scheduler would refuse, or one this evaluator does not cover. */
export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
}

/** A parsed `cron(...)` expression. */
export interface Cron {
  readonly expression: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Days of the month, or undefined for `?` (and `*`: every day). */
  readonly daysOfMonth: ReadonlySet<number> | 'any' | undefined;
  readonly months: ReadonlySet<number>;
  /** Days of the week 1-7 (SUN = 1), `{ day, nth }` for `SUN#1`, or undefined for `?`. */
  readonly daysOfWeek:
    | ReadonlySet<number>
    | { readonly day: number; readonly nth: number }
    | 'any'
    | undefined;
  readonly years: ReadonlySet<number> | 'any';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function value(text: string, min: number, max: number, names: readonly string[] | undefined, field: string) {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CronSyntaxError(`${field} value '${text}' is not in ${min}-${max}`);
  }
  return n;
}

function field(text: string, min: number, max: number, field: string, names?: readonly string[]): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') throw new CronSyntaxError(`${field} '${text}' is malformed`);
    const step = stepText === undefined ? 1 : value(stepText, 1, max - min + 1, undefined, `${field} step`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      lo = value(a, min, max, names, field);
      hi = value(b, min, max, names, field);
      if (hi < lo) throw new CronSyntaxError(`${field} range '${range}' runs backwards`);
    } else {
      lo = value(range, min, max, names, field);
      hi = stepText === undefined ? lo : max;
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** Parses `cron(minutes hours day-of-month month day-of-week year)`; throws CronSyntaxError. */
export function parseCron(expression: string): Cron {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const parts = match?.[1]?.trim().split(/\s+/) ?? [];
  if (parts.length !== 6) {
    throw new CronSyntaxError('must be cron(minutes hours day-of-month month day-of-week year)');
  }
  const [min = '', hour = '', dom = '', month = '', dow = '', year = ''] = parts;
  // No day-of-week name contains an L.
  if (/[LW]/i.test(dom) || /L/i.test(dow)) {
    throw new CronSyntaxError('L and W are not supported here');
  }
  if ((dom === '?') === (dow === '?')) {
    throw new CronSyntaxError('exactly one of day-of-month and day-of-week must be ?');
  }
  let daysOfWeek: Cron['daysOfWeek'];
  const nth = /^([^#]+)#(\d)$/.exec(dow);
  if (dow === '?') daysOfWeek = undefined;
  else if (dow === '*') daysOfWeek = 'any';
  else if (nth) {
    daysOfWeek = {
      day: value(nth[1] ?? '', 1, 7, DAYS, 'day-of-week'),
      nth: value(nth[2] ?? '', 1, 5, undefined, 'day-of-week #'),
    };
  } else daysOfWeek = new Set(field(dow, 1, 7, 'day-of-week', DAYS));
  return {
    expression,
    minutes: field(min, 0, 59, 'minute'),
    hours: field(hour, 0, 23, 'hour'),
    daysOfMonth: dom === '?' ? undefined : dom === '*' ? 'any' : new Set(field(dom, 1, 31, 'day-of-month')),
    months: new Set(field(month, 1, 12, 'month', MONTHS)),
    daysOfWeek,
    years: year === '*' ? 'any' : new Set(field(year, 1970, 2199, 'year')),
  };
}

/** A calendar date in the zone (month 1-12). */
export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Whether the cron fires on this local date (at some time of it). */
export function firesOn(cron: Cron, date: LocalDate): boolean {
  const { year, month, day } = date;
  if (cron.years !== 'any' && !cron.years.has(year)) return false;
  if (!cron.months.has(month)) return false;
  if (cron.daysOfMonth !== undefined) return cron.daysOfMonth === 'any' || cron.daysOfMonth.has(day);
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
  const dow = cron.daysOfWeek;
  if (dow === undefined || dow === 'any') return true;
  if (dow instanceof Set) return dow.has(weekday);
  const { day: wanted, nth } = dow as { day: number; nth: number };
  return weekday === wanted && Math.ceil(day / 7) === nth;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time in the zone at an instant, as milliseconds of a UTC date (minute precision). */
export function wallClock(timeZone: string, instant: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const get = (k: string) => parts[k] ?? 0;
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
}

/** The zone's UTC offset in minutes at an instant. */
export function offsetMinutes(timeZone: string, instant: number): number {
  const floored = Math.floor(instant / MINUTE_MS) * MINUTE_MS;
  return (wallClock(timeZone, floored) - floored) / MINUTE_MS;
}

/**
 * The instants at which the zone's clocks show `wall` (a UTC date holding the local
 * time): none in a skipped hour, two in a repeated one. Assumes one offset change at most
 * within two days of it, which holds for every zone's daylight saving.
 */
export function instantsAt(timeZone: string, wall: number): number[] {
  const offsets = new Set([
    offsetMinutes(timeZone, wall - 1.5 * DAY_MS),
    offsetMinutes(timeZone, wall + 1.5 * DAY_MS),
  ]);
  const found = [...offsets]
    .map((offset) => wall - offset * MINUTE_MS)
    .filter((instant) => wallClock(timeZone, instant) === wall);
  return [...new Set(found)].sort((a, b) => a - b);
}

/** Every firing of the cron on the local dates from..to (both included), as UTC instants. */
export function firings(cron: Cron, timeZone: string, from: LocalDate, to: LocalDate): number[] {
  const out: number[] = [];
  const last = Date.UTC(to.year, to.month - 1, to.day);
  for (let d = Date.UTC(from.year, from.month - 1, from.day); d <= last; d += DAY_MS) {
    const date = new Date(d);
    const local = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
    if (!firesOn(cron, local)) continue;
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        out.push(...instantsAt(timeZone, d + hour * 3_600_000 + minute * MINUTE_MS));
      }
    }
  }
  return out.sort((a, b) => a - b);
}

/** A change of the zone's UTC offset. */
export interface OffsetChange {
  /** The first instant of the new offset. */
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

const changesByZone = new Map<string, OffsetChange[]>();

/**
 * The zone's offset changes in the years from..to, found by sampling every two weeks and
 * bisecting: no zone's rules change its offset twice within two weeks.
 */
export function offsetChanges(timeZone: string, fromYear: number, toYear: number): OffsetChange[] {
  const key = `${timeZone}|${fromYear}|${toYear}`;
  const cached = changesByZone.get(key);
  if (cached) return cached;
  const out: OffsetChange[] = [];
  const end = Date.UTC(toYear + 1, 0, 1);
  let t = Date.UTC(fromYear, 0, 1);
  let offset = offsetMinutes(timeZone, t);
  while (t < end) {
    const next = Math.min(t + 14 * DAY_MS, end);
    const nextOffset = offsetMinutes(timeZone, next);
    if (nextOffset !== offset) {
      let lo = t;
      let hi = next;
      while (hi - lo > MINUTE_MS) {
        const mid = Math.floor((lo + hi) / 2 / MINUTE_MS) * MINUTE_MS;
        if (offsetMinutes(timeZone, mid) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, before: offset, after: nextOffset });
    }
    t = next;
    offset = nextOffset;
  }
  changesByZone.set(key, out);
  return out;
}

/** A firing that daylight saving skips or doubles. */
export interface DstProblem {
  /** Local date and time, e.g. 2027-03-14 02:00. */
  readonly local: string;
  readonly kind: 'does not exist' | 'repeats';
}

const pad = (n: number) => String(n).padStart(2, '0');

function localLabel(wall: number): string {
  const d = new Date(wall);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/**
 * The firings in the years from..to whose local time the zone's clocks skip or pass twice.
 * Only the wall times around each offset change are looked at, so this is cheap.
 */
export function dstProblems(cron: Cron, timeZone: string, fromYear: number, toYear: number): DstProblem[] {
  const out: DstProblem[] = [];
  for (const change of offsetChanges(timeZone, fromYear, toYear)) {
    const a = change.at + Math.min(change.before, change.after) * MINUTE_MS;
    const b = change.at + Math.max(change.before, change.after) * MINUTE_MS;
    const kind = change.after > change.before ? 'does not exist' : 'repeats';
    for (let wall = a; wall < b; wall += MINUTE_MS) {
      const d = new Date(wall);
      const date = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
      if (
        firesOn(cron, date) &&
        cron.hours.includes(d.getUTCHours()) &&
        cron.minutes.includes(d.getUTCMinutes())
      ) {
        out.push({ local: localLabel(wall), kind });
      }
    }
  }
  return out;
}
