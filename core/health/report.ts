import { SEVERITIES, type Severity } from './config';

/** The two schedules: the runbook's daily 9 AM check, and a lighter one every 5 minutes. */
export type CheckKind = 'morning' | 'light';

/** The checks, in report order. */
export type CheckName = 'services' | 'targets' | 'errorRate' | 'latencyP95' | 'batch';

/** UNKNOWN: the data could not be read; never taken for a PASS. */
export type CheckStatus = 'PASS' | 'FAIL' | 'UNKNOWN';

/** The outcome of one check. */
export interface CheckResult {
  readonly name: CheckName;
  readonly status: CheckStatus;
  /** What was measured, human readable: "2/2 services running as desired". */
  readonly figure: string;
  /** What passes: "100% healthy", "< 1%". */
  readonly threshold: string;
  /** Set when status is FAIL. */
  readonly severity?: Severity;
  /** Where the runbook says what to do; set when status is FAIL or UNKNOWN. */
  readonly runbookSection?: string;
  /** Per service, target group or run; or the error that made the check UNKNOWN. */
  readonly detail?: string;
}

/** HEALTHY: every check passed; UNHEALTHY: some check failed; UNKNOWN: none failed, some unknown. */
export type OverallStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** The result of one health check run. */
export interface HealthReport {
  readonly kind: CheckKind;
  /** ISO timestamp of the run. */
  readonly at: string;
  readonly overall: OverallStatus;
  readonly checks: readonly CheckResult[];
}

/**
 * The runbook sections the report points to. The Incident Response headings are the
 * runbook's severities; the batch sections are the ones the batch alarms already cite.
 */
export const RUNBOOK = {
  outage: 'Incident Response > P0: Complete Service Outage',
  highErrorRate: 'Incident Response > P1: High Error Rate',
  // The runbook has no section of its own for these; each points at the one whose steps apply.
  degraded: 'Incident Response > P0: Complete Service Outage (Check ECS service status)',
  unhealthyTargets: 'Incident Response > P0: Complete Service Outage (Check task health)',
  elevatedErrors: 'Incident Response > P1: High Error Rate (Diagnostic Steps)',
  slow: 'Performance Tuning > Query Response Time Optimization',
  batchFailed: 'Daily Operations > Weekly Batch Processing',
  batchSlow: 'Common Issues > Batch Processing Taking Too Long',
  /** The check could not read its data: do that step of the morning check by hand. */
  manual: 'Daily Operations > Morning Health Check (do this step by hand)',
} as const;

/** The overall status of `checks`. */
export function overallStatus(checks: readonly CheckResult[]): OverallStatus {
  if (checks.some((c) => c.status === 'FAIL')) return 'UNHEALTHY';
  if (checks.some((c) => c.status === 'UNKNOWN')) return 'UNKNOWN';
  return 'HEALTHY';
}

/**
 * The severity whose topic gets the report: the most severe failing check's; P2 when checks
 * are only UNKNOWN (a blind health check needs a human, but is not an outage); P3 (the daily
 * summary) for a healthy morning check; undefined for a healthy light check, which stays silent.
 */
export function reportSeverity(report: HealthReport): Severity | undefined {
  const failing = report.checks.filter((c) => c.status === 'FAIL');
  if (failing.length > 0) {
    // A FAIL without a severity is a bug; P2 keeps it visible instead of dropping it.
    const ranks = failing.map((c) => SEVERITIES.indexOf(c.severity ?? 'P2'));
    return SEVERITIES[Math.min(...ranks)] ?? 'P2';
  }
  if (report.overall === 'UNKNOWN') return 'P2';
  return report.kind === 'morning' ? 'P3' : undefined;
}

/** SNS rejects subjects of 100 characters or more, and non-ASCII or control characters. */
const MAX_SUBJECT_LENGTH = 99;

/** The SNS subject: "FA AI health: UNHEALTHY (2 failing) [prod]". */
export function reportSubject(report: HealthReport, environment: string): string {
  const failing = report.checks.filter((c) => c.status === 'FAIL').length;
  const unknown = report.checks.filter((c) => c.status === 'UNKNOWN').length;
  const counts = [failing > 0 ? `${failing} failing` : '', unknown > 0 ? `${unknown} unknown` : '']
    .filter(Boolean)
    .join(', ');
  const what = counts === '' ? `${report.kind} check` : counts;
  const subject = `FA AI health: ${report.overall} (${what}) [${environment}]`
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return subject.length <= MAX_SUBJECT_LENGTH ? subject : `${subject.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

const ICONS: Readonly<Record<CheckStatus, string>> = { PASS: '✅', FAIL: '❌', UNKNOWN: '❔' };

const TITLES: Readonly<Record<CheckName, string>> = {
  services: 'ECS services',
  targets: 'Target health',
  errorRate: 'Error rate',
  latencyP95: 'P95 latency',
  batch: 'Latest batch',
};

/**
 * The report as plain text, one line per check (icon, name, figure, threshold), then for a
 * check that did not pass its severity, runbook section and detail. The ops CLI prints it
 * and the SNS message carries it.
 */
export function formatReport(report: HealthReport): string {
  const lines = [`FA AI System ${report.kind} health check at ${report.at}: ${report.overall}`, ''];
  for (const check of report.checks) {
    lines.push(`${ICONS[check.status]} ${TITLES[check.name]}: ${check.figure} (expected ${check.threshold})`);
    if (check.status !== 'PASS') {
      const severity = check.severity === undefined ? check.status : `${check.severity} ${check.status}`;
      lines.push(`   ${severity}; runbook: ${check.runbookSection ?? RUNBOOK.manual}`);
    }
    if (check.detail !== undefined && check.detail !== '') lines.push(`   ${check.detail}`);
  }
  return lines.join('\n');
}
