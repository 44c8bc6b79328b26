/** Average days of a month (730 hours / 24), the month every hourly figure uses. */
export const DAYS_PER_MONTH = 730 / 24;
const WEEKS_PER_MONTH = DAYS_PER_MONTH / 7;

const RATE_MINUTES: Readonly<Record<string, number>> = {
  minute: 1,
  minutes: 1,
  hour: 60,
  hours: 60,
  day: 1440,
  days: 1440,
};

/**
 * Times an EventBridge schedule expression fires in an average month, or undefined when the
 * expression is not understood. rate() and cron() are counted; at() fires once, not monthly.
 */
export function monthlyOccurrences(expression: string): number | undefined {
  const trimmed = expression.trim();
  const rate = /^rate\((\d+)\s+([a-z]+)\)$/.exec(trimmed);
  if (rate) {
    const minutes = RATE_MINUTES[rate[2] ?? ''];
    const every = Number(rate[1]);
    if (minutes === undefined || every <= 0) return undefined;
    return (DAYS_PER_MONTH * 1440) / (every * minutes);
  }
  if (/^at\(.+\)$/.test(trimmed)) return 0;
  const cron = /^cron\((.+)\)$/.exec(trimmed);
  if (!cron) return undefined;
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) return undefined;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  const minutes = countValues(minute, 0, 59);
  const hours = countValues(hour, 0, 23);
  const months = countValues(month, 1, 12);
  const days = daysPerMonth(dayOfMonth, dayOfWeek);
  if (minutes === undefined || hours === undefined || months === undefined || days === undefined) {
    return undefined;
  }
  return minutes * hours * days * (months / 12);
}

function daysPerMonth(dayOfMonth: string, dayOfWeek: string): number | undefined {
  if (dayOfWeek === '?' || dayOfWeek === '*') {
    if (dayOfMonth === '?') return undefined;
    if (dayOfMonth === '*') return DAYS_PER_MONTH;
    // L, W and nW pick one day each.
    if (/^(L|\d*W|L-\d+)$/.test(dayOfMonth)) return 1;
    const count = countValues(dayOfMonth, 1, 31);
    return count === undefined ? undefined : count * (DAYS_PER_MONTH / 31);
  }
  // SUN#1, 5L: once a month per item.
  const items = dayOfWeek.split(',');
  if (items.every((item) => /#\d$|^\w+L$/.test(item))) return items.length;
  const normalised = dayOfWeek.replace(/SUN|MON|TUE|WED|THU|FRI|SAT/g, (d) =>
    String(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].indexOf(d) + 1),
  );
  const weekdays = countValues(normalised, 1, 7);
  return weekdays === undefined ? undefined : weekdays * WEEKS_PER_MONTH;
}

/** How many values a cron field selects within [min, max]. */
function countValues(field: string, min: number, max: number): number | undefined {
  let total = 0;
  for (const part of field.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) return undefined;
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (/^\d+-\d+$/.test(range)) {
      [from, to] = range.split('-').map(Number) as [number, number];
    } else if (/^\d+$/.test(range)) {
      from = Number(range);
      to = stepText === undefined ? from : max;
    } else {
      return undefined;
    }
    if (from < min || to > max || from > to) return undefined;
    total += Math.floor((to - from) / step) + 1;
  }
  return total;
}
