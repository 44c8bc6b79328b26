import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../lib/config';
import { STATEFUL_TYPES } from './helpers/stateful';
import { type Synthesized, sharedSynth, type Tier } from './helpers/synth';

const TIERS: readonly Tier[] = ['stateful', 'service'];

let synth: Synthesized;
beforeAll(async () => {
  synth = await sharedSynth();
});

function statefulResources(env: (typeof ENVIRONMENT_NAMES)[number], tier: Tier) {
  const resources = synth.templateJson(env, tier).Resources as Record<string, any>;
  return Object.entries(resources)
    .filter(([, r]) => (STATEFUL_TYPES as readonly string[]).includes(r.Type))
    .map(([id, r]) => ({
      id,
      type: r.Type as string,
      deletion: r.DeletionPolicy as string | undefined,
      replace: r.UpdateReplacePolicy as string | undefined,
    }));
}

describe('durability of stateful resources', () => {
  it.each(ENVIRONMENT_NAMES.flatMap((env) => TIERS.map((tier) => [env, tier] as const)))(
    'gives every stateful resource of %s/%s an explicit removal policy',
    (env, tier) => {
      const missing = statefulResources(env, tier).filter((r) => !r.deletion || !r.replace);
      expect(missing.map((r) => `${r.type} ${r.id}`)).toEqual([]);
    },
  );

  it.each(TIERS)('retains or snapshots every stateful resource of prod/%s on delete and replace', (tier) => {
    const resources = statefulResources('prod', tier);
    expect(resources.length).toBeGreaterThan(0);
    const unsafe = resources.filter(
      (r) =>
        !['Retain', 'Snapshot'].includes(r.deletion ?? '') ||
        !['Retain', 'Snapshot'].includes(r.replace ?? ''),
    );
    expect(
      unsafe.map((r) => `${r.type} ${r.id}: DeletionPolicy=${r.deletion} UpdateReplacePolicy=${r.replace}`),
    ).toEqual([]);
  });

  it('covers the database, cache, buckets, secrets, keys, log groups, ops table and repository in prod', () => {
    const types = new Set(TIERS.flatMap((tier) => statefulResources('prod', tier).map((r) => r.type)));
    expect([...types].sort()).toEqual(
      [
        'AWS::DynamoDB::Table',
        'AWS::ECR::Repository',
        'AWS::ElastiCache::ReplicationGroup',
        'AWS::KMS::Key',
        'AWS::Logs::LogGroup',
        'AWS::RDS::DBInstance',
        'AWS::S3::Bucket',
        'AWS::SecretsManager::Secret',
      ].sort(),
    );
  });
});
