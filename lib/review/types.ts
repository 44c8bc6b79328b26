/**
 * The classes of a change, most severe first. A change is in the most severe class any of
 * its reasons gives it.
 */
export const CHANGE_CLASSES = ['BLOCKER', 'SECURITY', 'REVIEW', 'ROUTINE', 'ASSET-ONLY'] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

/** What CloudFormation does to a resource (or template entry) when the head is deployed. */
export type ChangeAction = 'create' | 'update' | 'replace' | 'may-replace' | 'destroy' | 'orphan' | 'import';

/** A CloudFormation template as JSON. */
export type Template = Record<string, unknown>;

/** One reason a change is in its class. */
export interface ChangeReason {
  readonly class: ChangeClass;
  readonly text: string;
}

/** One property (or resource attribute) that differs between base and head. */
export interface PropertyChangeSummary {
  readonly name: string;
  /** Compact JSON, asset hashes shown as `<asset-hash>`; absent when added. */
  readonly oldValue?: string;
  /** Compact JSON, asset hashes shown as `<asset-hash>`; absent when removed. */
  readonly newValue?: string;
  /** WILL_UPDATE, WILL_REPLACE, MAY_REPLACE ... as @aws-cdk/cloudformation-diff reports it. */
  readonly impact?: string;
}

/** An acknowledgement that was applied to a blocker. */
export interface AppliedAcknowledgement {
  readonly match: string;
  readonly reason: string;
  readonly expires?: string;
  /** The acknowledgement file, or `--allow`. */
  readonly source: string;
}

/** One change of one stack: a resource, or a template entry (output, parameter, condition ...). */
export interface ChangeReview {
  readonly environment: string;
  readonly stack: string;
  readonly logicalId: string;
  /** The resource type; `Output`, `Parameter`, `Condition` ... for template entries. */
  readonly resourceType: string;
  /** From the template's `aws:cdk:path` metadata (head's, or base's for a removal). */
  readonly constructPath?: string;
  readonly action: ChangeAction;
  readonly classification: ChangeClass;
  /** Why it is in its class, most severe first. Empty for plain updates and additions. */
  readonly reasons: readonly ChangeReason[];
  /** Properties whose change forces (or may force) the replacement. */
  readonly replacementCauses: readonly string[];
  readonly propertyChanges: readonly PropertyChangeSummary[];
  /** Set on an acknowledged BLOCKER: it is listed, but does not fail the review. */
  readonly acknowledgement?: AppliedAcknowledgement;
}

/** Whether a stack is in both assemblies, or only one. */
export type StackStatus = 'changed' | 'unchanged' | 'added' | 'removed';

/** The review of one stack. */
export interface StackReview {
  readonly name: string;
  readonly environment: string;
  readonly status: StackStatus;
  readonly changes: readonly ChangeReview[];
}

/** A cdk-nag or CloudFormation Validate finding on one construct. */
export interface Finding {
  /** `AwsSolutions` (cdk-nag), `CloudFormation Validate` ... */
  readonly plugin: string;
  readonly rule: string;
  readonly severity?: string;
  readonly description: string;
  readonly constructPath: string;
  /** The environment of the stack the construct is in; `(app)` outside any stack. */
  readonly environment: string;
}

/** Monthly cost of an environment, in USD, as the cost estimator reports it. */
export interface CostDelta {
  readonly baseUsd?: number;
  readonly headUsd?: number;
  readonly deltaUsd?: number;
}

/** Counts of changes per class. */
export type ClassCounts = Record<ChangeClass, number>;

/** The review of one environment: its stacks, findings delta and cost. */
export interface EnvironmentReview {
  readonly name: string;
  /** Only in head (`added`), only in base (`removed`), or in both (`present`). */
  readonly status: 'present' | 'added' | 'removed';
  readonly stacks: readonly StackReview[];
  readonly counts: ClassCounts;
  readonly findings: { readonly added: readonly Finding[]; readonly fixed: readonly Finding[] };
  readonly cost?: CostDelta;
}

/** An acknowledgement that did not apply, so somebody renews or deletes it. */
export interface StaleAcknowledgement {
  readonly match: string;
  readonly reason: string;
  readonly expires?: string;
  readonly source: string;
  readonly problem: 'expired' | 'unused';
}

/** Which assembly: the base branch's or the pull request's. */
export type ReviewSide = 'base' | 'head';

/** How `cdk synth` of one side went, as the workflow tells the review. */
export interface SynthOutcome {
  readonly ok: boolean;
  /** What the synth printed, for the comment to quote the end of when it failed. */
  readonly log?: string;
}

/** A side whose `cdk synth` failed. */
export interface FailedSynth {
  readonly side: ReviewSide;
  /** Whether it still wrote a readable cloud assembly (policy validation fails after writing it). */
  readonly assembly: boolean;
  /** The end of its output. */
  readonly logTail?: string;
}

/** The whole review, as `--json` prints it. */
export interface ReviewResult {
  readonly version: 1;
  readonly base: { readonly directory: string; readonly label?: string };
  readonly head: { readonly directory: string; readonly label?: string };
  readonly environments: readonly EnvironmentReview[];
  readonly counts: ClassCounts;
  readonly blockers: { readonly total: number; readonly unacknowledged: number };
  readonly staleAcknowledgements: readonly StaleAcknowledgement[];
  /** Why the cost section is missing, when the estimator failed. */
  readonly costError?: string;
  /** Sides whose synth failed, base first; the comment leads with them. */
  readonly failedSynths: readonly FailedSynth[];
  /** False when a failed synth left no assembly: nothing was diffed, every list is empty. */
  readonly compared: boolean;
  /** 3 when a synth failed, else 1 when an unacknowledged BLOCKER is present, else 0. */
  readonly exitCode: 0 | 1 | 3;
}

/** Counts with every class at zero. */
export function emptyCounts(): ClassCounts {
  return { BLOCKER: 0, SECURITY: 0, REVIEW: 0, ROUTINE: 0, 'ASSET-ONLY': 0 };
}

/** The more severe of two classes. */
export function moreSevere(a: ChangeClass, b: ChangeClass): ChangeClass {
  return CHANGE_CLASSES.indexOf(a) <= CHANGE_CLASSES.indexOf(b) ? a : b;
}
