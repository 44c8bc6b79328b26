/**
 * Least privilege, measured: every action an identity policy grants, on every resource it names,
 * must be used by some request of the deployment; what is not is an excess grant. Excess grants
 * pass only when acknowledged with a reason (test/iam/acknowledged-grants.ts).
 */
import type { PolicyIndex, Statement } from './evaluate';
import type { PermissionRequest } from './requests';

/** A grant no request uses. */
export interface ExcessGrant {
  /** The role's logical id. */
  readonly principal: string;
  readonly source: string;
  readonly action: string;
  readonly resource: string;
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM's wildcard match (`*` any run, `?` one character), case-insensitive for actions. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'i' : '').test(value);
}

/** Grants of `principals` that none of `requests` uses. */
export function excessGrants(
  index: PolicyIndex,
  requests: readonly PermissionRequest[],
  principals: ReadonlyMap<string, string>,
): ExcessGrant[] {
  const out: ExcessGrant[] = [];
  for (const [principal, path] of principals) {
    const mine = requests.filter((r) => r.principal === principal);
    for (const policy of index.identityPolicies(principal)) {
      for (const statement of policy.statements as Statement[]) {
        if (statement.Effect !== 'Allow') continue;
        for (const action of asList(statement.Action)) {
          for (const resource of asList(statement.Resource)) {
            const used = mine.some(
              (r) =>
                wildcardMatch(action, r.action, true) &&
                (resource === '*' || (r.resource !== '*' && wildcardMatch(resource, r.resource))),
            );
            if (!used) out.push({ principal: path, source: policy.source, action, resource });
          }
        }
      }
    }
  }
  return out;
}

/** What a resource policy lets a service principal do that no hop of the deployment does. */
export function unusedServiceGrants(index: PolicyIndex, requests: readonly PermissionRequest[]): string[] {
  const out: string[] = [];
  for (const [arn, statements] of index.resourcePolicies()) {
    for (const statement of statements) {
      const principal = statement.Principal as { Service?: string | string[] } | undefined;
      if (statement.Effect !== 'Allow' || !principal?.Service) continue;
      for (const service of asList(principal.Service)) {
        for (const action of asList(statement.Action)) {
          const used = requests.some(
            (r) => r.principal === service && r.resource === arn && wildcardMatch(action, r.action, true),
          );
          if (!used) out.push(`${service} may ${action} on ${arn} (${statement.Sid ?? 'no sid'})`);
        }
      }
    }
  }
  return out;
}
