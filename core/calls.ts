/**
 * What a caller (a Lambda, a state machine, the ops CLI) calls in AWS, declared once: per
 * resource it names, the IAM actions it performs there. Its construct grants exactly the
 * declaration (lib/constructs/calls.ts); the suite checks that the handler tests send nothing
 * the declaration lacks and proves with a policy evaluator that every declared call is allowed
 * (test/iam). Types and data only: nothing here reaches a bundle.
 */

/** The calls made on one resource (or set of resources) the caller names. */
export interface CallSpec {
  /** IAM actions, e.g. `scheduler:UpdateSchedule`. */
  readonly actions: readonly string[];
  /** DynamoDB partitions (pk values) the calls touch; granted as `dynamodb:LeadingKeys`. */
  readonly partitions?: readonly string[];
}

/** A caller's calls, by the name of the resource they act on. */
export type CallDeclaration = Readonly<Record<string, CallSpec>>;

/** `declaration`, typed so that its resource names are known to the construct granting it. */
export function declareCalls<const D extends CallDeclaration>(declaration: D): D {
  return declaration;
}
