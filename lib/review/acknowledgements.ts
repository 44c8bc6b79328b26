import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { AcknowledgementFileError } from './errors';
import type { AppliedAcknowledgement, ChangeReview, StaleAcknowledgement } from './types';

/** The acknowledgement file the review reads from the repository root when it exists. */
export const DEFAULT_ACKNOWLEDGEMENT_FILE = 'review-acknowledgements.json';

/** What `--allow` records as the reason. */
export const ALLOW_FLAG_REASON = 'allowed with --allow on the command line';

/** An acknowledgement of a blocker, from the file or from `--allow`. */
export interface Acknowledgement {
  /** A logical id, a resource type (`AWS::RDS::DBInstance`) or `<stack>/<logicalId>`. */
  readonly match: string;
  readonly reason: string;
  /** `YYYY-MM-DD`, the last day it applies (UTC). */
  readonly expires?: string;
  /** The file it comes from, or `--allow`. */
  readonly source: string;
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'is not a calendar date');

const fileSchema = z.array(
  z.strictObject({
    match: z.string().trim().min(1, 'must name a logical id, a resource type or <stack>/<logicalId>'),
    reason: z.string().trim().min(1, 'must say why the blocker is acceptable'),
    expires: isoDate.optional(),
  }),
);

/**
 * Reads an acknowledgement file: `[{ "match", "reason", "expires"? }]`. `source` is how the
 * review names the file (the path as the user gave it, rather than a runner's absolute path).
 */
export function readAcknowledgementFile(path: string, source = path): Acknowledgement[] {
  if (!existsSync(path)) throw new AcknowledgementFileError(`acknowledgement file not found: ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AcknowledgementFileError(`${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AcknowledgementFileError(
      `${path} is not a list of { "match", "reason", "expires"? }:\n${problems.join('\n')}`,
    );
  }
  return parsed.data.map((entry) => ({ ...entry, source }));
}

/** The acknowledgements of `--allow` options. */
export function allowFlagAcknowledgements(matches: readonly string[]): Acknowledgement[] {
  return matches.map((match) => ({ match, reason: ALLOW_FLAG_REASON, source: '--allow' }));
}

/** Whether an acknowledgement names this change: by logical id, resource type or `<stack>/<logicalId>`. */
export function acknowledgementMatches(match: string, change: ChangeReview): boolean {
  if (match.includes('::')) return match === change.resourceType;
  if (match.includes('/')) return match === `${change.stack}/${change.logicalId}`;
  return match === change.logicalId;
}

/**
 * Marks every BLOCKER an unexpired acknowledgement names. Returns the changes and the
 * acknowledgements that did not apply (expired, or matching no blocker).
 */
export function applyAcknowledgements(
  changes: readonly ChangeReview[],
  acknowledgements: readonly Acknowledgement[],
  today: string,
): { changes: ChangeReview[]; stale: StaleAcknowledgement[] } {
  const active = acknowledgements.filter((a) => a.expires === undefined || a.expires >= today);
  const used = new Set<Acknowledgement>();
  const result = changes.map((change) => {
    if (change.classification !== 'BLOCKER') return change;
    const ack = active.find((a) => acknowledgementMatches(a.match, change));
    if (!ack) return change;
    used.add(ack);
    const applied: AppliedAcknowledgement = {
      match: ack.match,
      reason: ack.reason,
      source: ack.source,
      ...(ack.expires ? { expires: ack.expires } : {}),
    };
    return { ...change, acknowledgement: applied };
  });
  const stale: StaleAcknowledgement[] = acknowledgements
    .filter((a) => !used.has(a))
    .map((a) => ({ ...a, problem: active.includes(a) ? 'unused' : 'expired' }));
  return { changes: result, stale };
}
