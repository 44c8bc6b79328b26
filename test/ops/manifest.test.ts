/** The OpsManifest outputs as the ops CLI parses them: what it says when one is not JSON. */
import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../lib/ops/manifest';
import { MANIFEST } from './harness';

const STACK = 'fa-ai-system-prod-service';

describe('parseManifest', () => {
  it('reads the manifest with its database sections', () => {
    const { database, backup, ...rest } = MANIFEST;
    const parsed = parseManifest(JSON.stringify(rest), STACK, 'prod', JSON.stringify({ database, backup }));
    expect(parsed).toEqual(MANIFEST);
  });

  it.each([
    ['OpsManifest', '{"environment":', undefined],
    ['OpsManifestDatabase', JSON.stringify(MANIFEST), 'database: {'],
  ])('says which output is not JSON, and to redeploy: %s', (key, text, databaseText) => {
    expect(() => parseManifest(text, STACK, 'prod', databaseText)).toThrow(ManifestError);
    expect(() => parseManifest(text, STACK, 'prod', databaseText)).toThrow(
      `Stack ${STACK} has an invalid ${key} output (not JSON): redeploy it`,
    );
  });
});
