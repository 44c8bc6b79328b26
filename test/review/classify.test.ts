import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeReview, type ReviewResult, renderMarkdown, reviewAssemblies } from '../../lib/review';
import {
  addStackLike,
  copyAssembly,
  editTemplate,
  findLogicalId,
  moveAssetHash,
  newHash,
  removeCopies,
  removeStack,
  renameConstruct,
  resource,
  sharedAssemblyCopy,
} from './fixtures';

const DEV_STATEFUL = 'fa-ai-system-dev-stateful';
const DEV_SERVICE = 'fa-ai-system-dev-service';
const PROD_STATEFUL = 'fa-ai-system-prod-stateful';

let base: string;
let dbId: string;
const RENAMED_IDS = () => ({ from: dbId, to: 'PrimaryDatabaseInstance0A1B2C3D' });
const RENAMED_PATHS = { from: '/Database/Instance/', to: '/PrimaryDatabase/Instance/' };

beforeAll(async () => {
  base = await sharedAssemblyCopy();
  dbId = findLogicalId(base, DEV_STATEFUL, 'AWS::RDS::DBInstance', '/Database/Instance/');
});
afterAll(removeCopies);

/** Reviews the base against a copy of it edited by `mutate`. */
async function reviewMutation(mutate: (head: string) => void): Promise<ReviewResult> {
  const head = copyAssembly(base);
  mutate(head);
  return reviewAssemblies({ base, head, today: '2030-01-01' });
}

function changes(result: ReviewResult, environment?: string): ChangeReview[] {
  return result.environments
    .filter((e) => environment === undefined || e.name === environment)
    .flatMap((e) => e.stacks.flatMap((s) => s.changes));
}

function only(result: ReviewResult, logicalId: string): ChangeReview {
  const found = changes(result).filter((c) => c.logicalId === logicalId);
  expect(found).toHaveLength(1);
  return found[0] as ChangeReview;
}

describe('review of an unchanged app', () => {
  it('finds no change in any stack of any environment', async () => {
    const result = await reviewMutation(() => {});
    expect(result.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(result.environments.flatMap((e) => e.stacks.map((s) => s.status))).toEqual(
      Array(6).fill('unchanged'),
    );
    expect(changes(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
  });
});

describe('stateful resources', () => {
  it('makes a renamed database construct (new logical id: destroy + create) a BLOCKER naming both ids', async () => {
    const result = await reviewMutation((head) =>
      renameConstruct(head, DEV_STATEFUL, RENAMED_IDS(), RENAMED_PATHS),
    );
    const removed = only(result, dbId);
    expect(removed).toMatchObject({
      environment: 'dev',
      stack: DEV_STATEFUL,
      resourceType: 'AWS::RDS::DBInstance',
      constructPath: `${DEV_STATEFUL}/Database/Instance/Resource`,
      action: 'destroy',
      classification: 'BLOCKER',
    });
    expect(removed.reasons[0]?.text).toContain('logical id changed to PrimaryDatabaseInstance0A1B2C3D');
    expect(removed.reasons[0]?.text).toContain('DeletionPolicy Delete');
    expect(only(result, 'PrimaryDatabaseInstance0A1B2C3D')).toMatchObject({
      action: 'create',
      classification: 'ROUTINE',
      constructPath: `${DEV_STATEFUL}/PrimaryDatabase/Instance/Resource`,
    });
    expect(result.blockers).toEqual({ total: 1, unacknowledged: 1 });
    expect(result.exitCode).toBe(1);
  });

  it('blocks renaming the prod database too: Snapshot keeps the data but deletes the live instance', async () => {
    const result = await reviewMutation((head) =>
      renameConstruct(head, PROD_STATEFUL, RENAMED_IDS(), RENAMED_PATHS),
    );
    const removed = only(result, dbId);
    expect(removed.classification).toBe('BLOCKER');
    expect(removed.reasons[0]?.text).toContain(
      'DeletionPolicy Snapshot: CloudFormation deletes the live resource after a final snapshot',
    );
    expect(result.exitCode).toBe(1);
  });

  it('makes a DB instance class change a ROUTINE in-place update', async () => {
    const result = await reviewMutation((head) =>
      editTemplate(head, DEV_STATEFUL, (t) => {
        resource(t, dbId).Properties.DBInstanceClass = 'db.r7g.xlarge';
      }),
    );
    const change = only(result, dbId);
    expect(change).toMatchObject({ action: 'update', classification: 'ROUTINE', reasons: [] });
    expect(change.propertyChanges).toEqual([
      expect.objectContaining({ name: 'DBInstanceClass', newValue: 'db.r7g.xlarge', impact: 'WILL_UPDATE' }),
    ]);
    expect(result.counts).toMatchObject({ BLOCKER: 0, ROUTINE: 1 });
  });

  it('makes a property that forces replacement of the database a BLOCKER naming the property', async () => {
    const result = await reviewMutation((head) =>
      editTemplate(head, DEV_STATEFUL, (t) => {
        resource(t, dbId).Properties.DBName = 'renamed_db';
      }),
    );
    const change = only(result, dbId);
    expect(change).toMatchObject({
      action: 'replace',
      classification: 'BLOCKER',
      replacementCauses: ['DBName'],
    });
    expect(change.reasons[0]?.text).toBe(
      'stateful resource replaced: DBName forces replacement; UpdateReplacePolicy Delete: its data is lost',
    );
  });

  it('makes removed deletion protection a BLOCKER', async () => {
    const result = await reviewMutation((head) =>
      editTemplate(head, PROD_STATEFUL, (t) => {
        delete resource(t, dbId).Properties.DeletionProtection;
      }),
    );
    const change = only(result, dbId);
    expect(change).toMatchObject({ environment: 'prod', action: 'update', classification: 'BLOCKER' });
    expect(change.reasons.map((r) => r.text)).toContain(
      'removes deletion protection (DeletionProtection true → false)',
    );
  });

  it('makes lost encryption a BLOCKER: StorageEncrypted off and the KMS key removed', async () => {
    const result = await reviewMutation((head) =>
      editTemplate(head, PROD_STATEFUL, (t) => {
        const props = resource(t, dbId).Properties;
        props.StorageEncrypted = false;
        delete props.KmsKeyId;
      }),
    );
    const change = only(result, dbId);
    expect(change.classification).toBe('BLOCKER');
    expect(change.reasons.map((r) => r.text)).toEqual(
      expect.arrayContaining(['turns off StorageEncrypted', 'removes the KMS key (KmsKeyId)']),
    );
  });
});

describe('security', () => {
  it('makes 0.0.0.0/0 ingress on the database port SECURITY', async () => {
    let sgId = '';
    const result = await reviewMutation((head) => {
      sgId = findLogicalId(head, DEV_STATEFUL, 'AWS::EC2::SecurityGroup', '/Database/SecurityGroup/');
      editTemplate(head, DEV_STATEFUL, (t) => {
        resource(t, sgId).Properties.SecurityGroupIngress = [
          { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, Description: 'debug' },
        ];
      });
    });
    const change = only(result, sgId);
    expect(change.classification).toBe('SECURITY');
    expect(change.reasons.map((r) => r.text)).toEqual([
      'opens ingress to the internet: TCP 5432 from 0.0.0.0/0',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('makes a new IAM statement with Action * SECURITY, flagged as a wildcard', async () => {
    let policyId = '';
    const result = await reviewMutation((head) => {
      policyId = findLogicalId(
        head,
        DEV_STATEFUL,
        'AWS::IAM::Policy',
        '/DatabaseMigrations/Handler/Function/ServiceRole/DefaultPolicy/',
      );
      editTemplate(head, DEV_STATEFUL, (t) => {
        resource(t, policyId).Properties.PolicyDocument.Statement.push({
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
        });
      });
    });
    const change = only(result, policyId);
    expect(change.classification).toBe('SECURITY');
    expect(change.reasons).toHaveLength(1);
    expect(change.reasons[0]?.text).toMatch(
      /^adds IAM statement \(wildcard action, wildcard resource\): Allow \* on \*/,
    );
  });

  it('makes a bucket policy that drops the aws:SecureTransport deny SECURITY', async () => {
    let policyId = '';
    const result = await reviewMutation((head) => {
      policyId = findLogicalId(head, DEV_STATEFUL, 'AWS::S3::BucketPolicy', '/Backups/');
      editTemplate(head, DEV_STATEFUL, (t) => {
        const document = resource(t, policyId).Properties.PolicyDocument;
        document.Statement = document.Statement.filter(
          (s: any) => !s.Condition?.Bool?.['aws:SecureTransport'],
        );
      });
    });
    expect(only(result, policyId).reasons.map((r) => r.text)).toContain(
      'removes the bucket policy statement denying requests without TLS (aws:SecureTransport)',
    );
    expect(only(result, policyId).classification).toBe('SECURITY');
  });

  it('makes rds.force_ssl changed from 1 SECURITY', async () => {
    let groupId = '';
    const result = await reviewMutation((head) => {
      groupId = findLogicalId(head, DEV_STATEFUL, 'AWS::RDS::DBParameterGroup', '/Database/');
      editTemplate(head, DEV_STATEFUL, (t) => {
        resource(t, groupId).Properties.Parameters['rds.force_ssl'] = '0';
      });
    });
    expect(only(result, groupId)).toMatchObject({
      classification: 'SECURITY',
      reasons: [{ class: 'SECURITY', text: 'no longer forces TLS (rds.force_ssl 1 → 0)' }],
    });
  });
});

describe('asset hashes', () => {
  it('makes a Lambda code change (new S3Key hash) ASSET-ONLY and nothing else', async () => {
    let fnId = '';
    let oldKey = '';
    const result = await reviewMutation((head) => {
      fnId = findLogicalId(head, DEV_STATEFUL, 'AWS::Lambda::Function', '/DatabaseMigrations/Handler/');
      editTemplate(head, DEV_STATEFUL, (t) => {
        oldKey = resource(t, fnId).Properties.Code.S3Key;
      });
      moveAssetHash(head, DEV_STATEFUL, oldKey.slice(0, 64), newHash('a1'));
    });
    expect(oldKey).toMatch(/^[0-9a-f]{64}\.zip$/);
    expect(changes(result)).toEqual([
      expect.objectContaining({ logicalId: fnId, classification: 'ASSET-ONLY', action: 'update' }),
    ]);
    expect(only(result, fnId).propertyChanges).toEqual([
      expect.objectContaining({ name: 'Code.S3Key', oldValue: oldKey, newValue: `${newHash('a1')}.zip` }),
    ]);
    expect(result.counts).toEqual({ BLOCKER: 0, SECURITY: 0, REVIEW: 0, ROUTINE: 0, 'ASSET-ONLY': 1 });
  });

  it('keeps a 64-hex value that is no asset hash (the migrations checksum) a ROUTINE change', async () => {
    let schemaId = '';
    const result = await reviewMutation((head) => {
      editTemplate(head, DEV_STATEFUL, (t) => {
        const entry = Object.entries<any>(t.Resources).find(([, r]) => r.Properties?.MigrationsChecksum);
        if (!entry) throw new Error('no resource with a MigrationsChecksum: did the app change?');
        schemaId = entry[0];
        entry[1].Properties.MigrationsChecksum = newHash('b2');
      });
    });
    expect(only(result, schemaId).classification).toBe('ROUTINE');
  });

  it('makes a Lambda version whose hash-derived logical id moved ASSET-ONLY, with its alias', async () => {
    const fnRef = { Ref: 'SomeFunction' };
    const oldVersion = `SomeFunctionCurrentVersionA1B2C3D4${'0'.repeat(32)}`;
    const newVersion = `SomeFunctionCurrentVersionA1B2C3D4${'f'.repeat(32)}`;
    const addVersion = (dir: string, versionId: string) =>
      editTemplate(dir, DEV_SERVICE, (t) => {
        t.Resources[versionId] = { Type: 'AWS::Lambda::Version', Properties: { FunctionName: fnRef } };
        t.Resources.SomeFunctionAlias = {
          Type: 'AWS::Lambda::Alias',
          Properties: {
            FunctionName: fnRef,
            FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
            Name: 'live',
          },
        };
      });
    const versionedBase = copyAssembly(base);
    addVersion(versionedBase, oldVersion);
    const head = copyAssembly(base);
    addVersion(head, newVersion);
    const result = await reviewAssemblies({ base: versionedBase, head });
    const all = changes(result);
    expect(all.map((c) => c.classification)).toEqual(['ASSET-ONLY', 'ASSET-ONLY']);
    expect(all.find((c) => c.logicalId === newVersion)?.replacementCauses).toEqual([
      `logical id ${oldVersion} → ${newVersion} (derived from the code hash)`,
    ]);
  });
});

describe('stacks and environments', () => {
  it('reports a stack only in head as an added stack (a new environment) of created resources', async () => {
    const result = await reviewMutation((head) => addStackLike(head, DEV_SERVICE, 'fa-ai-system-qa-service'));
    const qa = result.environments.find((e) => e.name === 'qa');
    expect(qa?.status).toBe('added');
    expect(qa?.stacks.map((s) => [s.name, s.status])).toEqual([['fa-ai-system-qa-service', 'added']]);
    const actions = new Set(changes(result, 'qa').map((c) => c.action));
    expect(actions).toEqual(new Set(['create']));
    expect(changes(result, 'dev')).toEqual([]);
  });

  it('reports a stack only in base as removed, its stateful resources destroyed per their DeletionPolicy', async () => {
    const result = await reviewMutation((head) => removeStack(head, DEV_STATEFUL));
    const dev = result.environments.find((e) => e.name === 'dev');
    expect(dev?.stacks.map((s) => [s.name, s.status])).toEqual([
      [DEV_SERVICE, 'unchanged'],
      [DEV_STATEFUL, 'removed'],
    ]);
    const destroyed = changes(result, 'dev');
    expect(new Set(destroyed.map((c) => c.action))).toEqual(new Set(['destroy', 'orphan']));
    expect(destroyed.find((c) => c.logicalId === dbId)?.classification).toBe('BLOCKER');
    expect(renderMarkdown(result)).toMatch(
      new RegExp(`- \\*\\*dev\\*\\* · \`${DEV_STATEFUL}\` is removed from the app: \\d+ resources destroyed`),
    );
  });

  it('makes a stack losing its termination protection a BLOCKER', async () => {
    const prod = 'fa-ai-system-prod-stateful';
    const result = await reviewMutation((head) => {
      const path = join(head, 'manifest.json');
      const manifest = JSON.parse(readFileSync(path, 'utf8'));
      expect(manifest.artifacts[prod].properties.terminationProtection).toBe(true);
      manifest.artifacts[prod].properties.terminationProtection = false;
      writeFileSync(path, JSON.stringify(manifest));
    });
    expect(changes(result)).toEqual([
      expect.objectContaining({
        stack: prod,
        logicalId: 'TerminationProtection',
        classification: 'BLOCKER',
        reasons: [{ class: 'BLOCKER', text: 'removes the stack termination protection' }],
      }),
    ]);
  });
});
