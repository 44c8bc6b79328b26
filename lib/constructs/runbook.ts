/**
 * The runbook's sections and its error table, as data. The alarms (observability.ts) are built
 * from them and `ops diagnose` (lib/ops/diagnose) counts and routes by them, so neither keeps a
 * copy. No aws-cdk-lib here: the ops CLI loads this module.
 */
import type { Severity } from './alert-topics';

/** Runbook sections the alarm descriptions point on-call to. */
export const RUNBOOK = {
  outage: 'Incident Response > P0: Complete Service Outage',
  errorRate: 'Incident Response > P1: High Error Rate',
  partial: 'Incident Response > P2: Partial Feature Broken',
  latency: 'Performance Tuning > Query Response Time Optimization',
  batchSlow: 'Common Issues > Batch Processing Taking Too Long',
  batch: 'Daily Operations > Weekly Batch Processing',
  costs: 'Common Issues > High API Costs',
  pool: 'Common Issues > Database Connection Pool Exhausted',
  hallucination: 'Common Issues > Hallucination Detection Failures',
  resources: 'Incident Response > P0: Complete Service Outage (Resource exhaustion)',
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
  readonly severity: Severity;
  readonly runbook: string;
}

/**
 * The runbook's error table as log filters on the service log groups: metric name,
 * filter pattern, alarm threshold per period (5 minutes; fact checks 15), severity, section.
 */
export const LOG_PATTERNS = [
  {
    metric: 'ErrorLogs',
    pattern: '{ $.level = "ERROR" }',
    threshold: 50,
    periodMinutes: 5,
    severity: 'P2',
    runbook: RUNBOOK.errorRate,
  },
  {
    metric: 'RateLimited',
    pattern: '?"429 Too Many Requests" ?"rate_limit"',
    threshold: 20,
    periodMinutes: 5,
    severity: 'P2',
    runbook: RUNBOOK.errorRate,
  },
  {
    metric: 'FactCheckFailed',
    pattern: '"Fact check failed"',
    threshold: 10,
    periodMinutes: 15,
    severity: 'P3',
    runbook: RUNBOOK.hallucination,
  },
  {
    metric: 'VectorSearchFailed',
    pattern: '"Vector search failed"',
    threshold: 5,
    periodMinutes: 5,
    severity: 'P2',
    runbook: RUNBOOK.errorRate,
  },
  {
    metric: 'ConnectionTimeout',
    pattern: '"Connection timeout"',
    threshold: 5,
    periodMinutes: 5,
    severity: 'P1',
    runbook: RUNBOOK.errorRate,
  },
  {
    metric: 'DbPoolExhausted',
    pattern: '"could not obtain connection from pool"',
    threshold: 1,
    periodMinutes: 5,
    severity: 'P1',
    runbook: RUNBOOK.pool,
  },
] as const satisfies readonly LogPattern[];

/** A log pattern's metric name. */
export type LogPatternMetric = (typeof LOG_PATTERNS)[number]['metric'];

/** The alarm id of a log pattern (its name without the environment prefix): log-rate-limited. */
export function logPatternAlarmId(metric: string): string {
  return `log-${metric.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/** The db-connections-high alarm's threshold: `percent` of max_connections, rounded down. */
export function dbConnectionsThreshold(maxConnections: number, percent: number): number {
  return Math.floor((maxConnections * percent) / 100);
}
