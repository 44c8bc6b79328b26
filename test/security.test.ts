import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../lib/config';
import { STATEFUL_TYPES } from './helpers/stateful';
import { type Synthesized, sharedSynth, type Tier } from './helpers/synth';

// Properties that must hold in every synthesized environment, whatever construct a change
// touches: the last line of defence behind cdk-nag.
const TIERS: readonly Tier[] = ['stateful', 'service'];
const STACKS = ENVIRONMENT_NAMES.flatMap((env) => TIERS.map((tier) => [env, tier] as const));
const OPEN = ['0.0.0.0/0', '::/0'];

let synth: Synthesized;
beforeAll(async () => {
  synth = await sharedSynth();
});

const resourcesOf = (env: (typeof ENVIRONMENT_NAMES)[number], tier: Tier) =>
  Object.entries(synth.templateJson(env, tier).Resources as Record<string, any>);

describe.each(STACKS)('%s/%s', (env, tier) => {
  it('admits the internet only on the ALB, on 80 and 443', () => {
    const resources = resourcesOf(env, tier);
    const open: string[] = [];
    for (const [id, r] of resources) {
      const rules =
        r.Type === 'AWS::EC2::SecurityGroup'
          ? (r.Properties.SecurityGroupIngress ?? []).map((rule: any) => ({ id, rule }))
          : r.Type === 'AWS::EC2::SecurityGroupIngress'
            ? [{ id: JSON.stringify(r.Properties.GroupId), rule: r.Properties }]
            : [];
      for (const { id: group, rule } of rules) {
        if (!OPEN.includes(rule.CidrIp) && !OPEN.includes(rule.CidrIpv6)) continue;
        const albOnWeb =
          group.includes('AlbSecurityGroup') &&
          [80, 443].includes(rule.FromPort) &&
          rule.FromPort === rule.ToPort;
        if (!albOnWeb)
          open.push(
            `${group} ${rule.IpProtocol} ${rule.FromPort}-${rule.ToPort} from ${rule.CidrIp ?? rule.CidrIpv6}`,
          );
      }
    }
    expect(open).toEqual([]);
  });

  it('grants no IAM statement a bare * action', () => {
    const wide: string[] = [];
    for (const [id, r] of resourcesOf(env, tier)) {
      const documents =
        r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
          ? [r.Properties.PolicyDocument]
          : r.Type === 'AWS::IAM::Role'
            ? (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)
            : [];
      for (const doc of documents) {
        for (const statement of doc.Statement) {
          const actions = [statement.Action].flat().map(String);
          if (statement.Effect === 'Allow' && actions.some((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a))) {
            wide.push(`${id}: ${actions.join(', ')}`);
          }
        }
      }
    }
    expect(wide).toEqual([]);
  });

  it('encrypts every store at rest and in transit', () => {
    const problems: string[] = [];
    const resources = resourcesOf(env, tier);
    const bucketPolicies = resources
      .filter(([, r]) => r.Type === 'AWS::S3::BucketPolicy')
      .map(([, r]) => JSON.stringify(r.Properties));
    for (const [id, r] of resources) {
      const p = r.Properties ?? {};
      switch (r.Type) {
        case 'AWS::RDS::DBInstance':
          if (p.StorageEncrypted !== true) problems.push(`${id}: storage not encrypted`);
          break;
        case 'AWS::RDS::DBParameterGroup':
          if (p.Parameters?.['rds.force_ssl'] !== '1') problems.push(`${id}: TLS not forced`);
          break;
        case 'AWS::ElastiCache::ReplicationGroup':
          if (p.AtRestEncryptionEnabled !== true || p.TransitEncryptionEnabled !== true)
            problems.push(`${id}: not encrypted at rest and in transit`);
          break;
        case 'AWS::S3::Bucket':
          if (!p.BucketEncryption) problems.push(`${id}: no default encryption`);
          if (
            !bucketPolicies.some(
              (policy) => policy.includes(id) && policy.includes('"aws:SecureTransport":"false"'),
            )
          ) {
            problems.push(`${id}: plain HTTP not denied`);
          }
          break;
        case 'AWS::DynamoDB::Table':
          if (p.SSESpecification?.SSEEnabled !== true) problems.push(`${id}: no KMS encryption`);
          break;
        case 'AWS::SNS::Topic':
          if (!p.KmsMasterKeyId) problems.push(`${id}: topic not encrypted`);
          break;
        case 'AWS::SQS::Queue':
          if (p.SqsManagedSseEnabled !== true && !p.KmsMasterKeyId)
            problems.push(`${id}: queue not encrypted`);
          break;
        case 'AWS::ElasticLoadBalancingV2::Listener':
          if (p.Protocol === 'HTTP' && env !== 'dev' && p.DefaultActions?.[0]?.Type !== 'redirect') {
            problems.push(`${id}: plain HTTP listener that does not redirect`);
          }
          break;
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('stateful logical ids are pinned', () => {
  // A renamed construct changes its logical id, and CloudFormation replaces the resource:
  // the data goes with it. The pinned list only grows; a rename fails here first.
  const pinned = JSON.parse(
    readFileSync(join(__dirname, 'fixtures', 'stateful-logical-ids.json'), 'utf8'),
  ) as Record<string, string[]>;

  it.each(STACKS)('keeps every pinned stateful resource of %s/%s', (env, tier) => {
    const stack = `fa-ai-system-${env}-${tier}`;
    const current = resourcesOf(env, tier)
      .filter(([, r]) => (STATEFUL_TYPES as readonly string[]).includes(r.Type))
      .map(([id, r]) => `${r.Type} ${id}`);
    const missing = (pinned[stack] ?? []).filter((entry) => !current.includes(entry));
    expect(missing, 'renamed or removed stateful resources (their data would be lost)').toEqual([]);
    const unpinned = current.filter((entry) => !(pinned[stack] ?? []).includes(entry));
    expect(unpinned, 'new stateful resources: add them to test/fixtures/stateful-logical-ids.json').toEqual(
      [],
    );
  });
});
