import { InvalidTemplateError } from './errors';

/** A resource of a CloudFormation template, as far as the estimator reads it. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

/** The resources of a template, validated to have a Type each. */
export function templateResources(template: unknown): ReadonlyArray<[string, CfnResource]> {
  if (!isRecord(template)) throw new InvalidTemplateError('Template is not a JSON object');
  const resources = template.Resources;
  if (resources === undefined) return [];
  if (!isRecord(resources)) throw new InvalidTemplateError('Template Resources is not an object');
  return Object.entries(resources).map(([id, resource]) => {
    if (!isRecord(resource) || typeof resource.Type !== 'string') {
      throw new InvalidTemplateError(`Resource ${id} has no Type`);
    }
    if (resource.Properties !== undefined && !isRecord(resource.Properties)) {
      throw new InvalidTemplateError(`Resource ${id} has Properties that are not an object`);
    }
    return [id, resource as unknown as CfnResource];
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number, or a numeric string as CloudFormation often carries them; undefined for tokens. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The logical id a `Ref` or `Fn::GetAtt` points at, if the value is one. */
export function referencedId(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** Placeholder of an unresolvable token inside a flattened string. */
export const TOKEN = '<token>';

/**
 * A string, or an `Fn::Join` with literal parts and tokens, flattened with tokens replaced
 * by a placeholder. CDK writes dashboard bodies and state machine definitions this way, with
 * tokens only inside JSON string literals, so the result still parses as JSON.
 */
export function flattenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!isRecord(value)) return undefined;
  const join = value['Fn::Join'];
  if (!Array.isArray(join) || typeof join[0] !== 'string' || !Array.isArray(join[1])) return undefined;
  const parts: unknown[] = join[1];
  return parts.map((part) => flattenString(part) ?? TOKEN).join(join[0]);
}

/** A stable text of any template value, to tell values apart (tokens included). */
export function valueKey(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
