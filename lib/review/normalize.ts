import type { Template } from './types';

/** What an asset hash reads as once normalised. */
export const ASSET_HASH_PLACEHOLDER = '<asset-hash>';

const HEX64 = /[0-9a-f]{64}/g;
// A 64-hex string is an asset hash where CDK puts one: an S3 key `<hash>.zip`, an asset
// staging directory `asset.<hash>`, an image tag or digest `...:<hash>`. Other 64-hex
// values (a migrations checksum, say) are real inputs and must stay visible as changes.
const ASSET_SUFFIX = /^\.(zip|json|jar|tar|tgz|gz)\b/;

/** Resource types whose logical id embeds a content hash (`<Function>CurrentVersion<hash>`). */
const HASHED_LOGICAL_ID_TYPES: ReadonlySet<string> = new Set(['AWS::Lambda::Version']);
const HASHED_LOGICAL_ID = /^(.+?)([0-9a-f]{32})$/;

function isAssetHash(text: string, offset: number, hash: string, known: ReadonlySet<string>): boolean {
  if (known.has(hash)) return true;
  const before = text.slice(Math.max(0, offset - 6), offset);
  const after = text.slice(offset + 64, offset + 70);
  return before.endsWith('asset.') || before.endsWith(':') || ASSET_SUFFIX.test(after);
}

/** The asset hashes a template fragment mentions. */
export function assetHashesOf(value: unknown, knownAssetHashes: ReadonlySet<string>): Set<string> {
  const text = JSON.stringify(value ?? null);
  const hashes = new Set<string>();
  for (const match of text.matchAll(HEX64)) {
    if (isAssetHash(text, match.index, match[0], knownAssetHashes)) hashes.add(match[0]);
  }
  return hashes;
}

/**
 * A copy of the template with asset hashes replaced by a placeholder and the logical ids of
 * content-hashed resources (Lambda versions) made stable, so that two templates differing
 * only by asset hashes compare equal.
 *
 * Returns the template and, for each canonical logical id, the original one.
 */
export function normalizeTemplate(
  template: Template,
  knownAssetHashes: ReadonlySet<string>,
): { template: Template; originalIds: Map<string, string> } {
  let text = JSON.stringify(template);
  const originalIds = new Map<string, string>();
  const resources = (template.Resources ?? {}) as Record<string, { Type?: string }>;
  for (const [logicalId, resource] of Object.entries(resources)) {
    const match =
      resource.Type && HASHED_LOGICAL_ID_TYPES.has(resource.Type) && HASHED_LOGICAL_ID.exec(logicalId);
    if (!match) continue;
    const canonical = `${match[1]}${ASSET_HASH_PLACEHOLDER}`;
    originalIds.set(canonical, logicalId);
    // The id is long and hash-suffixed: every occurrence is the id (key, Ref, GetAtt, DependsOn, Sub).
    text = text.split(logicalId).join(canonical);
  }
  text = text.replace(HEX64, (hash, offset: number, whole: string) =>
    isAssetHash(whole, offset, hash, knownAssetHashes) ? ASSET_HASH_PLACEHOLDER : hash,
  );
  return { template: JSON.parse(text) as Template, originalIds };
}
