import type { CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { CallDeclaration } from '../../core/calls';

/** A further grant that a call needs, e.g. the key of an SSE-KMS topic for sns:Publish. */
export interface CompanionGrant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Where the calls on one declared resource go, and under which conditions. */
export interface ResourceGrant {
  /** ARNs (or `*` for APIs without resource-level permissions, acknowledged in test/iam). */
  readonly resources: readonly string[];
  /** Condition block of the statement, e.g. `ecs:cluster`. @default - none */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * The condition keys the caller's requests carry (what the permission proof passes to the
   * evaluator), e.g. `{ 'ecs:cluster': clusterArn }`. @default - none
   */
  readonly requestContext?: Readonly<Record<string, string | readonly string[]>>;
  /** @default - none */
  readonly companions?: readonly CompanionGrant[];
  /**
   * For a grant on `*` of an action that does have resource types: the resource the requests
   * name (what the proof evaluates). @default - the granted resources
   */
  readonly requestResource?: string;
}

/** A grant for every resource the declaration names: the compiler rejects a missing one. */
export type DeclaredGrants<D extends CallDeclaration> = { readonly [K in keyof D]: ResourceGrant };

/** Template metadata key under which a role records the calls it was granted. */
export const CALLS_METADATA_KEY = 'fa-ai:calls';

/** One declared call as recorded in the template, for the permission proof. */
export interface RecordedCalls {
  readonly caller: string;
  readonly name: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly partitions?: readonly string[];
  readonly requestContext?: Readonly<Record<string, string | readonly string[]>>;
  readonly requestResource?: string;
}

const recorded = new WeakMap<IConstruct, RecordedCalls[]>();

/**
 * Grants `role` exactly the calls of `declaration` on the resources of `grants`, one
 * statement per declared resource, and records them in the role's template metadata so that
 * the permission proof checks the deployed policies against the same declaration.
 *
 * @param caller a name for reports, e.g. `lambda budget-guard`
 */
export function grantDeclaredCalls<D extends CallDeclaration>(
  role: iam.IRole,
  caller: string,
  declaration: D,
  grants: DeclaredGrants<D>,
): void {
  const cfnRole = role.node.defaultChild as CfnResource | undefined;
  if (!cfnRole) throw new Error(`${caller}: calls can only be granted to a role this app creates`);
  addDeclaredCalls(cfnRole, (s) => role.addToPrincipalPolicy(s), caller, declaration, grants);
}

/** Like {@link grantDeclaredCalls}, into a managed policy (for people, e.g. the operators). */
export function addDeclaredCallsToPolicy<D extends CallDeclaration>(
  policy: iam.ManagedPolicy,
  caller: string,
  declaration: D,
  grants: DeclaredGrants<D>,
): void {
  addDeclaredCalls(
    policy.node.defaultChild as CfnResource,
    (s) => policy.addStatements(s),
    caller,
    declaration,
    grants,
  );
}

function addDeclaredCalls<D extends CallDeclaration>(
  holder: CfnResource,
  add: (statement: iam.PolicyStatement) => void,
  caller: string,
  declaration: D,
  grants: DeclaredGrants<D>,
): void {
  let records = recorded.get(holder);
  if (!records) {
    records = [];
    recorded.set(holder, records);
    // Resolved at synth: the metadata carries the same tokens as the policy statements.
    holder.addMetadata(CALLS_METADATA_KEY, { calls: records });
  }
  for (const [name, spec] of Object.entries(declaration)) {
    const grant = grants[name as keyof D];
    const conditions: Record<string, Record<string, unknown>> = Object.fromEntries(
      Object.entries(grant.conditions ?? {}).map(([op, block]) => [op, { ...block }]),
    );
    if (spec.partitions) {
      conditions['ForAllValues:StringEquals'] = {
        ...conditions['ForAllValues:StringEquals'],
        'dynamodb:LeadingKeys': [...spec.partitions],
      };
    }
    add(
      new iam.PolicyStatement({
        actions: [...spec.actions],
        resources: [...grant.resources],
        conditions: Object.keys(conditions).length > 0 ? conditions : undefined,
      }),
    );
    for (const companion of grant.companions ?? []) {
      add(
        new iam.PolicyStatement({
          actions: [...companion.actions],
          resources: [...companion.resources],
          conditions: companion.conditions ? { ...companion.conditions } : undefined,
        }),
      );
    }
    records.push({
      caller,
      name,
      actions: spec.actions,
      resources: grant.resources,
      partitions: spec.partitions,
      requestContext: grant.requestContext,
      requestResource: grant.requestResource,
    });
  }
}

/** What Step Functions needs to deliver a state machine's logs to CloudWatch Logs (no resource-level permissions). */
export const STATE_MACHINE_LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
] as const;

/** What active X-Ray tracing writes (no resource-level permissions). */
export const TRACING_ACTIONS = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
] as const;
