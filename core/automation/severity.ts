/**
 * The one rule of escalation, over the alarm catalogue's severities (core/alarms/vocabulary.ts,
 * the catalogue's words without its entries, so that a Lambda bundles only these).
 */

import { SEVERITIES, type Severity } from '../alarms/vocabulary';
import type { TopicArns } from '../contracts/common';

export { SEVERITIES, type Severity, type TopicArns };

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
