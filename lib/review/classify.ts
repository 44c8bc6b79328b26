import {
  deepEqual,
  fullDiff,
  type PropertyDifference,
  type ResourceDifference,
  ResourceImpact,
  type TemplateDiff,
} from '@aws-cdk/cloudformation-diff';
import type { AssemblyStack } from './assembly';
import { assetHashesOf, normalizeTemplate } from './normalize';
import {
  type CfnResource,
  deletionProtectionLosses,
  encryptionLosses,
  retainingPolicy,
  STATEFUL_RESOURCE_TYPES,
  tlsLosses,
} from './rules';
import {
  CHANGE_CLASSES,
  type ChangeAction,
  type ChangeClass,
  type ChangeReason,
  type ChangeReview,
  moreSevere,
  type PropertyChangeSummary,
  type StackReview,
  type Template,
} from './types';

/** The base and head versions of one stack; one of them is absent for an added or removed stack. */
export interface StackPair {
  readonly name: string;
  readonly environment: string;
  readonly base?: AssemblyStack;
  readonly head?: AssemblyStack;
}

type Statement = TemplateDiff['iamChanges']['statements']['additions'][number];

const MAX_VALUE_CHARS = 300;
const OPEN_CIDRS: ReadonlySet<string> = new Set(['0.0.0.0/0', '::/0']);
// Template sections whose entries are diffed one by one; the others are single values.
const KEYED_SECTIONS: Readonly<Record<string, string>> = {
  Outputs: 'Output',
  Parameters: 'Parameter',
  Conditions: 'Condition',
  Mappings: 'Mapping',
  Rules: 'Rule',
};

function compact(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function cdkPath(resource: unknown): string | undefined {
  const path = (resource as { Metadata?: Record<string, unknown> } | undefined)?.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path : undefined;
}

function classOf(action: ChangeAction, reasons: readonly ChangeReason[]): ChangeClass {
  const base: ChangeClass =
    action === 'create' || action === 'update' || action === 'import' ? 'ROUTINE' : 'REVIEW';
  return reasons.reduce<ChangeClass>((worst, reason) => moreSevere(worst, reason.class), base);
}

function sortReasons(reasons: ChangeReason[]): ChangeReason[] {
  return reasons.sort((a, b) => CHANGE_CLASSES.indexOf(a.class) - CHANGE_CLASSES.indexOf(b.class));
}

function actionOf(change: ResourceDifference): ChangeAction {
  if (change.isAddition) return change.changeImpact === ResourceImpact.WILL_IMPORT ? 'import' : 'create';
  if (change.isRemoval) return change.changeImpact === ResourceImpact.WILL_ORPHAN ? 'orphan' : 'destroy';
  if (change.resourceTypeChanged) return 'replace';
  switch (change.changeImpact) {
    case ResourceImpact.WILL_REPLACE:
      return 'replace';
    case ResourceImpact.MAY_REPLACE:
      return 'may-replace';
    default:
      return 'update';
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The innermost differing values of two property values (`Code.S3Key`, `Tags[2].Value`), at most `limit`. */
function leafChanges(
  path: string,
  before: unknown,
  after: unknown,
  limit: number,
): Array<[string, unknown, unknown]> {
  const leaves: Array<[string, unknown, unknown]> = [];
  const walk = (at: string, a: unknown, b: unknown) => {
    if (leaves.length > limit || deepEqual(a, b)) return;
    if (isRecord(a) && isRecord(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(`${at}.${key}`, a[key], b[key]);
    } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      for (const [i, item] of a.entries()) walk(`${at}[${i}]`, item, b[i]);
    } else {
      leaves.push([at, a, b]);
    }
  };
  walk(path, before, after);
  // Past the limit the whole value says more than a sample of its leaves.
  return leaves.length > limit ? [[path, before, after]] : leaves;
}

const MAX_LEAVES = 6;

function propertyChanges(change: ResourceDifference): PropertyChangeSummary[] {
  const summaries: PropertyChangeSummary[] = [];
  change.forEachDifference((kind, name, diff) => {
    const impact = (diff as PropertyDifference<unknown>).changeImpact;
    const label = kind === 'Property' ? name : `(${name})`;
    for (const [path, before, after] of leafChanges(label, diff.oldValue, diff.newValue, MAX_LEAVES)) {
      summaries.push({ name: path, oldValue: compact(before), newValue: compact(after), impact });
    }
  });
  return summaries;
}

const MAX_TARGETS = 3;
const MAX_TARGET_CHARS = 100;

function describeStatement(statement: Statement): string {
  const rendered = statement.render();
  // Intrinsics render as JSON: a sample of short targets reads better than all of them.
  const flat = (text: string) => {
    const targets = text
      .split('\n')
      .map((t) => (t.length > MAX_TARGET_CHARS ? `${t.slice(0, MAX_TARGET_CHARS)}…` : t));
    const more = targets.length > MAX_TARGETS ? ` (+${targets.length - MAX_TARGETS} more)` : '';
    return `${targets.slice(0, MAX_TARGETS).join(', ')}${more}`;
  };
  return `${rendered.effect} ${flat(rendered.action)} on ${flat(rendered.resource)} for ${flat(rendered.principal)}`;
}

function isWildcard(statement: Statement): string[] {
  const notes: string[] = [];
  if (statement.actions.not || statement.actions.values.some((a) => a === '*' || /^[^:]+:\*$/.test(a))) {
    notes.push('wildcard action');
  }
  if (statement.resources.not || statement.resources.values.includes('*')) notes.push('wildcard resource');
  return notes;
}

/** The diff of one resource alone: its IAM and security group changes are its own. */
function resourceDiff(logicalId: string, before: unknown, after: unknown): TemplateDiff {
  const resources = (r: unknown) => ({ Resources: r === undefined ? {} : { [logicalId]: r } });
  return fullDiff(resources(before), resources(after));
}

// Resource policies and the logical ids of what they protect.
const POLICY_TARGETS: Readonly<Record<string, string>> = {
  'AWS::S3::BucketPolicy': 'Bucket',
  'AWS::SQS::QueuePolicy': 'Queues',
  'AWS::SNS::TopicPolicy': 'Topics',
};

/** Whether a removed resource policy goes with everything it protects: its Deny statements protect nothing any more. */
function protectsOnlyRemoved(before: CfnResource, inHead: (logicalId: string) => boolean): boolean {
  const key = POLICY_TARGETS[before.Type];
  if (!key) return false;
  const targets = ([] as unknown[]).concat(before.Properties?.[key] ?? []);
  const refs = targets.map((t) => (t as { Ref?: unknown }).Ref);
  return refs.length > 0 && refs.every((ref) => typeof ref === 'string' && !inHead(ref));
}

/** IAM and security-group widenings in the diff of one resource. */
function securityReasons(diff: TemplateDiff, denyRemovalsMatter: boolean): ChangeReason[] {
  const reasons: ChangeReason[] = [];
  for (const statement of diff.iamChanges.statements.additions) {
    if (String(statement.effect) === 'Deny') continue;
    const wildcard = isWildcard(statement);
    const emphasis = wildcard.length > 0 ? ` (${wildcard.join(', ')})` : '';
    reasons.push({
      class: 'SECURITY',
      text: `adds IAM statement${emphasis}: ${describeStatement(statement)}`,
    });
  }
  for (const statement of diff.iamChanges.statements.removals) {
    if (!denyRemovalsMatter || String(statement.effect) !== 'Deny') continue;
    reasons.push({ class: 'SECURITY', text: `removes IAM Deny statement: ${describeStatement(statement)}` });
  }
  for (const policy of diff.iamChanges.managedPolicies.additions) {
    reasons.push({
      class: 'SECURITY',
      text: `attaches managed policy ${policy.managedPolicyArn} to ${policy.identityArn}`,
    });
  }
  for (const rule of diff.securityGroupChanges.ingress.additions) {
    const peer = rule.peer;
    const open = peer?.kind === 'cidr-ip' && OPEN_CIDRS.has(peer.ip);
    const source = peer?.kind === 'cidr-ip' ? peer.ip : rule.describePeer();
    reasons.push({
      class: 'SECURITY',
      text: `${open ? 'opens ingress to the internet' : 'adds ingress'}: ${rule.describeProtocol()} from ${source}`,
    });
  }
  return reasons;
}

interface ResourceContext {
  readonly stack: StackPair;
  readonly displayId: string;
  readonly constructPath?: string;
  readonly inHead: (logicalId: string) => boolean;
  readonly renamedTo?: string;
  /** The resource's asset hashes differ too (hidden by the normalised diff). */
  readonly assetsMoved?: boolean;
}

/** Why CloudFormation replaces or removes the resource, for the reason text. */
function causeText(
  ctx: ResourceContext,
  action: ChangeAction,
  change: ResourceDifference,
  causes: readonly string[],
) {
  if (action === 'destroy' || action === 'orphan') {
    if (!ctx.stack.head) return 'its stack is removed from the app';
    return ctx.renamedTo
      ? `logical id changed to ${ctx.renamedTo}, a renamed construct (CloudFormation creates the new resource, then removes this one)`
      : 'removed from the template';
  }
  if (change.resourceTypeChanged)
    return `resource type ${change.oldResourceType} → ${change.newResourceType}`;
  const verb = action === 'may-replace' ? 'may force' : causes.length === 1 ? 'forces' : 'force';
  return causes.length > 0 ? `${causes.join(', ')} ${verb} replacement` : 'a replaced dependency';
}

/** The REVIEW or BLOCKER reason of a replacement or removal. */
function lifecycleReason(
  type: string,
  action: ChangeAction,
  before: CfnResource,
  cause: string,
): ChangeReason {
  const removal = action === 'destroy' || action === 'orphan';
  const what = removal ? 'destroyed' : action === 'replace' ? 'replaced' : 'may be replaced';
  if (!STATEFUL_RESOURCE_TYPES.has(type)) return { class: 'REVIEW', text: `${what}: ${cause}` };
  const policyName = removal ? 'DeletionPolicy' : 'UpdateReplacePolicy';
  const policyValue = (removal ? before.DeletionPolicy : before.UpdateReplacePolicy) ?? 'Delete (default)';
  const kept = retainingPolicy(before, removal ? 'removal' : 'replacement');
  if (kept === 'Snapshot') {
    // The data survives in a snapshot, but the live store is gone until someone restores
    // it: an outage of the prod database is a blocker, not a review note.
    return {
      class: 'BLOCKER',
      text: `stateful resource ${what}: ${cause}; ${policyName} Snapshot: CloudFormation deletes the live resource after a final snapshot (restore and downtime needed)`,
    };
  }
  if (kept) {
    return {
      class: 'REVIEW',
      text: `stateful resource ${what}: ${cause}; ${policyName} ${kept}: CloudFormation leaves it in the account, outside the stack`,
    };
  }
  // A conditional replacement (MultiAZ, BackupRetentionPeriod ...) mostly updates in place: a
  // reviewer checks it, it does not block.
  if (action === 'may-replace') {
    return { class: 'REVIEW', text: `stateful resource ${what}: ${cause}; ${policyName} ${policyValue}` };
  }
  return {
    class: 'BLOCKER',
    text: `stateful resource ${what}: ${cause}; ${policyName} ${policyValue}: its data is lost`,
  };
}

function reviewResource(ctx: ResourceContext, change: ResourceDifference, diff?: TemplateDiff): ChangeReview {
  const before = change.oldValue as CfnResource | undefined;
  const after = change.newValue as CfnResource | undefined;
  const type = (after ?? before)?.Type ?? 'unknown';
  const action = actionOf(change);
  const reasons: ChangeReason[] = [];
  const replacementCauses: string[] = [];

  if (action === 'replace' || action === 'may-replace') {
    for (const [name, property] of Object.entries(change.propertyUpdates)) {
      if (
        property.changeImpact === ResourceImpact.WILL_REPLACE ||
        property.changeImpact === ResourceImpact.MAY_REPLACE
      ) {
        replacementCauses.push(name);
      }
    }
  }
  if (before && action !== 'create' && action !== 'update' && action !== 'import') {
    reasons.push(lifecycleReason(type, action, before, causeText(ctx, action, change, replacementCauses)));
  }
  if (before && after) {
    reasons.push(...deletionProtectionLosses(type, before, after), ...encryptionLosses(type, before, after));
  }
  if (before) reasons.push(...tlsLosses(type, before, after, ctx.inHead));
  // A removed stack takes everything with it: nothing is left for a removed Deny to protect.
  const denyRemovalsMatter =
    after !== undefined ||
    (ctx.stack.head !== undefined && !protectsOnlyRemoved(before as CfnResource, ctx.inHead));
  reasons.push(...securityReasons(diff ?? resourceDiff(ctx.displayId, before, after), denyRemovalsMatter));
  if (ctx.assetsMoved) reasons.push({ class: 'ASSET-ONLY', text: 'also moves asset hashes' });

  const sorted = sortReasons(reasons);
  return {
    environment: ctx.stack.environment,
    stack: ctx.stack.name,
    logicalId: ctx.displayId,
    resourceType: type,
    constructPath: cdkPath(after) ?? cdkPath(before) ?? ctx.constructPath,
    action,
    classification: classOf(action, sorted),
    reasons: sorted,
    replacementCauses,
    propertyChanges: propertyChanges(change),
  };
}

function templateEntryChanges(
  stack: StackPair,
  raw: { base: Template; head: Template },
  normalized: { base: Template; head: Template },
): ChangeReview[] {
  const changes: ChangeReview[] = [];
  const entry = (
    kind: string,
    name: string,
    rawOld: unknown,
    rawNew: unknown,
    normOld: unknown,
    normNew: unknown,
  ) => {
    if (deepEqual(rawOld, rawNew)) return;
    const assetOnly = deepEqual(normOld, normNew);
    const action: ChangeAction =
      rawOld === undefined ? 'create' : rawNew === undefined ? 'destroy' : 'update';
    changes.push({
      environment: stack.environment,
      stack: stack.name,
      logicalId: name,
      resourceType: kind,
      constructPath: pathFromMetadata(stack, name),
      action,
      // Outputs and parameters hold no data: removing one is routine, not a destruction.
      classification: assetOnly ? 'ASSET-ONLY' : 'ROUTINE',
      reasons: [],
      replacementCauses: [],
      propertyChanges: [
        { name: kind === 'Template' ? name : kind, oldValue: compact(normOld), newValue: compact(normNew) },
      ],
    });
  };
  const keys = new Set([...Object.keys(raw.base), ...Object.keys(raw.head)]);
  for (const key of [...keys].sort()) {
    if (key === 'Resources') continue;
    const kind = KEYED_SECTIONS[key];
    if (!kind) {
      entry('Template', key, raw.base[key], raw.head[key], normalized.base[key], normalized.head[key]);
      continue;
    }
    const section = (t: Template) => (t[key] ?? {}) as Record<string, unknown>;
    const names = new Set([...Object.keys(section(raw.base)), ...Object.keys(section(raw.head))]);
    for (const name of [...names].sort()) {
      entry(
        kind,
        name,
        section(raw.base)[name],
        section(raw.head)[name],
        section(normalized.base)[name],
        section(normalized.head)[name],
      );
    }
  }
  return changes;
}

function pathFromMetadata(stack: StackPair, logicalId: string): string | undefined {
  return stack.head?.constructPaths.get(logicalId) ?? stack.base?.constructPaths.get(logicalId);
}

/**
 * An ASSET-ONLY change: one resource whose asset hashes moved (`change`), or a hash-named
 * resource whose logical id moved (`ids` base then head, `resource` its head version).
 */
function assetOnlyChange(
  stack: StackPair,
  ids: readonly string[],
  moved: { change: ResourceDifference } | { resource: CfnResource },
): ChangeReview {
  const logicalId = ids[ids.length - 1] ?? '';
  const values = 'change' in moved ? [moved.change.newValue, moved.change.oldValue] : [moved.resource];
  const resource = (values[0] ?? values[1]) as CfnResource | undefined;
  return {
    environment: stack.environment,
    stack: stack.name,
    logicalId,
    resourceType: resource?.Type ?? 'unknown',
    constructPath: cdkPath(values[0]) ?? cdkPath(values[1]) ?? pathFromMetadata(stack, logicalId),
    action: 'change' in moved ? actionOf(moved.change) : 'replace',
    classification: 'ASSET-ONLY',
    reasons: [],
    replacementCauses:
      ids.length > 1 ? [`logical id ${ids[0]} → ${logicalId} (derived from the code hash)`] : [],
    propertyChanges: 'change' in moved ? propertyChanges(moved.change) : [],
  };
}

type Resources = Record<string, unknown>;
const resourcesOf = (template: Template): Resources => (template.Resources ?? {}) as Resources;

/** A template of the resources of `template` whose logical ids are in `ids`. */
function onlyResources(template: Template, ids: ReadonlySet<string>): Template {
  return {
    Resources: Object.fromEntries(Object.entries(resourcesOf(template)).filter(([id]) => ids.has(id))),
  };
}

function idsIn(a: Resources, b: Resources): { common: Set<string>; onlyA: string[]; onlyB: string[] } {
  const common = new Set(Object.keys(a).filter((id) => id in b));
  return {
    common,
    onlyA: Object.keys(a).filter((id) => !common.has(id)),
    onlyB: Object.keys(b).filter((id) => !common.has(id)),
  };
}

/** Removed resources whose properties reappear unchanged under a new logical id of the same type. */
function findRenames(
  before: Resources,
  after: Resources,
  removed: readonly string[],
  added: readonly string[],
) {
  const renames = new Map<string, string>();
  for (const oldId of removed) {
    const old = before[oldId] as CfnResource;
    const match = added.find((id) => {
      const candidate = after[id] as CfnResource;
      return candidate.Type === old.Type && deepEqual(candidate.Properties ?? {}, old.Properties ?? {});
    });
    if (match) renames.set(oldId, match);
  }
  return renames;
}

/**
 * The resource changes of one stack. Only resources in both templates go through one
 * fullDiff (it propagates replacements to the resources referencing them); an added or
 * removed resource is diffed alone, since the library's change collections grow
 * quadratically with the number of changes and a new stack adds hundreds at once.
 */
function resourceChanges(
  stack: StackPair,
  raw: { base: Template; head: Template },
  nb: ReturnType<typeof normalizeTemplate>,
  nh: ReturnType<typeof normalizeTemplate>,
  assetHashes: ReadonlySet<string>,
): ChangeReview[] {
  const changes: ChangeReview[] = [];
  const [normBase, normHead] = [resourcesOf(nb.template), resourcesOf(nh.template)];
  const [rawBase, rawHead] = [resourcesOf(raw.base), resourcesOf(raw.head)];
  const normalized = idsIn(normBase, normHead);
  const renames = findRenames(normBase, normHead, normalized.onlyA, normalized.onlyB);
  const originalId = (canonical: string) =>
    nh.originalIds.get(canonical) ?? nb.originalIds.get(canonical) ?? canonical;
  const inHead = (logicalId: string) => logicalId in rawHead;

  const review = (id: string, change: ResourceDifference, diff?: TemplateDiff) => {
    const displayId = originalId(id);
    const rawBefore = rawBase[nb.originalIds.get(id) ?? id];
    const rawAfter = rawHead[nh.originalIds.get(id) ?? id];
    const assetsMoved =
      rawBefore !== undefined &&
      rawAfter !== undefined &&
      !sameSet(assetHashesOf(rawBefore, assetHashes), assetHashesOf(rawAfter, assetHashes));
    const constructPath = change.isRemoval
      ? stack.base?.constructPaths.get(displayId)
      : pathFromMetadata(stack, displayId);
    const ctx = { stack, displayId, constructPath, inHead, renamedTo: renames.get(id), assetsMoved };
    changes.push(reviewResource(ctx, change, diff));
  };

  const changedNormalized = new Set<string>([...normalized.onlyA, ...normalized.onlyB]);
  const commonDiff = fullDiff(
    onlyResources(nb.template, normalized.common),
    onlyResources(nh.template, normalized.common),
  );
  for (const [id, change] of Object.entries(commonDiff.resources.changes)) {
    changedNormalized.add(id);
    review(id, change);
  }
  for (const id of [...normalized.onlyA, ...normalized.onlyB]) {
    const one = new Set([id]);
    const diff = fullDiff(onlyResources(nb.template, one), onlyResources(nh.template, one));
    review(id, diff.resources.get(id), diff);
  }

  // What changed before normalising but not after only moved asset hashes.
  const canonicalOf = new Map<string, string>();
  for (const map of [nb.originalIds, nh.originalIds]) {
    for (const [canonical, original] of map) canonicalOf.set(original, canonical);
  }
  const rawIds = idsIn(rawBase, rawHead);
  const rawDiff = fullDiff(onlyResources(raw.base, rawIds.common), onlyResources(raw.head, rawIds.common));
  for (const [id, change] of Object.entries(rawDiff.resources.changes)) {
    if (!changedNormalized.has(canonicalOf.get(id) ?? id))
      changes.push(assetOnlyChange(stack, [id], { change }));
  }
  // A hash-named resource (a Lambda version) whose canonical id did not change: the base id
  // is removed and the head id added, for one new version of the same function.
  const moved = new Map<string, string[]>();
  for (const id of [...rawIds.onlyA, ...rawIds.onlyB]) {
    const canonical = canonicalOf.get(id);
    if (canonical && !changedNormalized.has(canonical))
      moved.set(canonical, [...(moved.get(canonical) ?? []), id]);
  }
  for (const ids of moved.values()) {
    const headId = ids.find((id) => id in rawHead);
    const resource = (headId ? rawHead[headId] : rawBase[ids[0] ?? '']) as CfnResource;
    changes.push(assetOnlyChange(stack, ids, { resource }));
  }
  return changes;
}

/**
 * Diffs one stack of base and head and classifies every change. Asset hashes are normalised
 * first: a change that disappears with them is ASSET-ONLY; every other change is classified
 * on the normalised diff, so an asset move never makes a change look destructive.
 */
export function reviewStack(stack: StackPair, assetHashes: ReadonlySet<string>): StackReview {
  const status = !stack.base ? 'added' : !stack.head ? 'removed' : undefined;
  const raw = { base: stack.base?.template ?? {}, head: stack.head?.template ?? {} };
  const changes: ChangeReview[] = [];

  if (stack.base?.terminationProtection && stack.head && !stack.head.terminationProtection) {
    changes.push({
      environment: stack.environment,
      stack: stack.name,
      logicalId: 'TerminationProtection',
      resourceType: 'AWS::CloudFormation::Stack',
      action: 'update',
      classification: 'BLOCKER',
      reasons: [{ class: 'BLOCKER', text: 'removes the stack termination protection' }],
      replacementCauses: [],
      propertyChanges: [{ name: 'terminationProtection', oldValue: 'true', newValue: 'false' }],
    });
  }

  if (!deepEqual(raw.base, raw.head)) {
    const nb = normalizeTemplate(raw.base, assetHashes);
    const nh = normalizeTemplate(raw.head, assetHashes);
    changes.push(...resourceChanges(stack, raw, nb, nh, assetHashes));
    changes.push(...templateEntryChanges(stack, raw, { base: nb.template, head: nh.template }));
  }

  return {
    name: stack.name,
    environment: stack.environment,
    status: status ?? (changes.length > 0 ? 'changed' : 'unchanged'),
    changes,
  };
}
