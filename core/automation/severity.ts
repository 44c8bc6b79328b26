/**
 * The alarm severities and the one rule of escalation. No imports: bundled into Lambdas and
 * loaded by the synth and the CLI (the alarms catalogue may take the list over).
 */

/** Most severe first; each has its own SNS topic. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The topic ARN of each severity. */
export type TopicArns = Readonly<Record<Severity, string>>;

/** One severity up (P3 -> P2 -> P1 -> P0); P0 stays P0, and `capped` says so. */
export function escalate(severity: Severity): { readonly to: Severity; readonly capped: boolean } {
  const i = SEVERITIES.indexOf(severity);
  return i <= 0 ? { to: 'P0', capped: true } : { to: SEVERITIES[i - 1] as Severity, capped: false };
}

/** "P2 -> P1", or "P0 (already the highest)". */
export function escalationText(from: Severity): string {
  const { to, capped } = escalate(from);
  return capped ? `${to} (already the highest severity)` : `${from} -> ${to}`;
}
