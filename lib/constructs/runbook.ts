/**
 * The runbook's sections and its error table, as data. The alarms (observability.ts) are built
 * from them and `ops diagnose` (lib/ops/diagnose) counts and routes by them, so neither keeps a
 * copy. No aws-cdk-lib here: the ops CLI loads this module.
 */
import { type AlarmId, alarmEntry, runbookReference } from '../../core/alarms/catalogue';
import type { Severity } from './alert-topics';

/**
 * Runbook sections `ops diagnose` points on-call to, by the catalogue's section texts (one
 * source: the alarms' descriptions cite the same).
 */
export const RUNBOOK = {
  outage: runbookReference('outage'),
  errorRate: runbookReference('highErrorRate'),
  partial: runbookReference('partialFeature'),
  latency: runbookReference('queryLatency'),
  batchSlow: runbookReference('batchSlow'),
  batch: runbookReference('weeklyBatch'),
  costs: runbookReference('apiCosts'),
  pool: runbookReference('connectionPool'),
  hallucination: runbookReference('hallucination'),
  resources: runbookReference('resourceExhaustion'),
} as const;

/** One row of the runbook's error table, as a log filter on the service log groups. */
export interface LogPattern {
  /** The metric the filter publishes, e.g. RateLimited. */
  readonly metric: string;
  /** A CloudWatch Logs filter pattern. */
  readonly pattern: string;
  /** Matching lines per alarm period that raise the alarm. */
  readonly threshold: number;
  /** The alarm's period. */
  readonly periodMinutes: number;
  /** Its alarm in the catalogue, which holds the severity and the runbook section. */
  readonly alarm: AlarmId;
  readonly severity: Severity;
  readonly runbook: string;
}

const row = (metric: string, pattern: string, threshold: number, periodMinutes: number, alarm: AlarmId) => {
  const entry = alarmEntry(alarm);
  return {
    metric,
    pattern,
    threshold,
    periodMinutes,
    alarm,
    severity: entry.severity,
    runbook: runbookReference(entry.runbook),
  };
};

/**
 * The runbook's error table as log filters on the service log groups: metric name, filter
 * pattern, alarm threshold per period (5 minutes; fact checks 15) and the alarm.
 */
export const LOG_PATTERNS = [
  row('ErrorLogs', '{ $.level = "ERROR" }', 50, 5, 'log-error-logs'),
  row('RateLimited', '?"429 Too Many Requests" ?"rate_limit"', 20, 5, 'log-rate-limited'),
  row('FactCheckFailed', '"Fact check failed"', 10, 15, 'log-fact-check-failed'),
  row('VectorSearchFailed', '"Vector search failed"', 5, 5, 'log-vector-search-failed'),
  row('ConnectionTimeout', '"Connection timeout"', 5, 5, 'log-connection-timeout'),
  row('DbPoolExhausted', '"could not obtain connection from pool"', 1, 5, 'log-db-pool-exhausted'),
] as const satisfies readonly LogPattern[];

/** A log pattern's metric name. */
export type LogPatternMetric = (typeof LOG_PATTERNS)[number]['metric'];

/** The alarm id of a log pattern (its name without the environment prefix): log-rate-limited. */
export function logPatternAlarmId(metric: string): string {
  const pattern = LOG_PATTERNS.find((p) => p.metric === metric);
  if (!pattern) throw new Error(`no log pattern publishes ${metric}`);
  return pattern.alarm;
}

/** The db-connections-high alarm's threshold: `percent` of max_connections, rounded down. */
export function dbConnectionsThreshold(maxConnections: number, percent: number): number {
  return Math.floor((maxConnections * percent) / 100);
}
