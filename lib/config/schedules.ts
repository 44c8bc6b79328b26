import { CronSyntaxError, dstProblems, parseCron } from './cron';

/**
 * The weekly batch's default: Sunday 00:00 in timeZone. The runbook says Sunday 02:00, but
 * in America/New_York 02:00 does not exist on the spring-forward Sunday (Scheduler would
 * skip the batch of 2027-03-14, 2028-03-12, ...) and 01:00 repeats on the fall-back Sunday
 * (two batches), so the runbook's time moves two hours earlier. 03:00 was not taken: the
 * weekly database maintenance (VACUUM ANALYZE, REINDEX CONCURRENTLY) starts then. From
 * 00:00 a run at its 4-hour limit ends at 04:00 and shares at most its last hour with the
 * weekly maintenance (from 02:00 it shared up to three hours, 03:00-06:00, and the monthly
 * 04:00 one too); a run under 3 hours shares nothing.
 */
export const DEFAULT_BATCH_CRON = 'cron(0 0 ? * SUN *)';

/** The runbook's database maintenance, in timeZone: weekly Sunday 03:00, first Sunday 04:00. */
export const DB_MAINTENANCE_CRONS = {
  weekly: 'cron(0 3 ? * SUN *)',
  monthly: 'cron(0 4 ? * SUN#1 *)',
} as const;

/** The morning health check: daily at the hour, in timeZone. */
export function morningCheckCron(hour: number): string {
  return `cron(0 ${hour} * * ? *)`;
}

/**
 * The daily reconciliation of the application's LLM cost with the providers' bills: daily at
 * the hour, in timeZone. It reconciles the latest UTC day final by then (see
 * spend.reconciliation.settleHours), so the hour only needs to come late enough after UTC midnight.
 */
export function spendReconciliationCron(hour: number): string {
  return `cron(0 ${hour} * * ? *)`;
}

/**
 * The years a schedule is checked against its zone's daylight saving: 28 consecutive years
 * hold every weekday-and-date combination of the calendar (1901-2099), so a recurring rule
 * such as "second Sunday of March" shows every case it can produce.
 */
export const DST_CHECK_YEARS = { from: 2026, to: 2053 } as const;

/** Why Scheduler cannot parse the cron (or this project cannot evaluate it), if so. */
export function cronSyntaxProblem(expression: string): string | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (error) {
    if (error instanceof CronSyntaxError) return error.message;
    throw error;
  }
}

/**
 * The rule a schedule breaks when one of its firings falls on a local time that a clock
 * change in the zone skips (Scheduler skips the run) or passes twice (it runs twice).
 */
export function dstProblem(expression: unknown, timeZone: unknown): string | undefined {
  // A value that is no cron or no time zone breaks its own field's rule, reported there.
  if (typeof expression !== 'string' || !isTimeZone(timeZone)) return undefined;
  const key = `${expression}|${timeZone}`;
  // Config is parsed many times per process (every synth, every variant test).
  if (!dstProblemCache.has(key)) dstProblemCache.set(key, findDstProblem(expression, timeZone));
  return dstProblemCache.get(key);
}

const dstProblemCache = new Map<string, string | undefined>();

function isTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function findDstProblem(expression: string, timeZone: string): string | undefined {
  if (cronSyntaxProblem(expression) !== undefined) return undefined;
  const problems = dstProblems(parseCron(expression), timeZone, DST_CHECK_YEARS.from, DST_CHECK_YEARS.to);
  const [first] = problems;
  if (!first) return undefined;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more by ${DST_CHECK_YEARS.to})` : '';
  return (
    `${expression} must fire at a local time that exists exactly once on every day of ${timeZone}, ` +
    `daylight-saving days included (Scheduler skips a time the clocks jump over and runs a repeated one ` +
    `twice): ${first.local} ${first.kind}${more}`
  );
}
