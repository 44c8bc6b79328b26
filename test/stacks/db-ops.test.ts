/** The db-inspect Lambda and the database dump task as synthesized (ops db, ops backup dump). */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config';
import { Database } from '../../lib/constructs/database';
import { AWS_CLI_IMAGE } from '../../lib/constructs/db-backup';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let prodStateful: Template;

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'service');
  prodStateful = synth.template('prod', 'stateful');
});

type Container = {
  Name: string;
  Image: string;
  Essential?: boolean;
  Environment?: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string; ValueFrom: unknown }>;
  DependsOn?: Array<{ ContainerName: string; Condition: string }>;
  MountPoints?: Array<{ ContainerPath: string; SourceVolume: string; ReadOnly: boolean }>;
  Command?: string[];
};

function dumpTask(template: Template = prod) {
  const found = Object.values(
    template.findResources('AWS::ECS::TaskDefinition', {
      Properties: { Family: Match.stringLikeRegexp('db-backup') },
    }),
  );
  expect(found).toHaveLength(1);
  return found[0]?.Properties as {
    ContainerDefinitions: Container[];
    EphemeralStorage?: { SizeInGiB: number };
    RuntimePlatform: { CpuArchitecture: string };
    Volumes: Array<{ Name: string }>;
  };
}

const container = (name: string) => dumpTask().ContainerDefinitions.find((c) => c.Name === name) as Container;
const envNames = (c: Container) => (c.Environment ?? []).map((e) => e.Name);

describe('the dump task', () => {
  it("runs pg_dump of the instance's major version from the official image", () => {
    const pg = container('pg-dump');
    expect(pg.Image).toBe(
      `public.ecr.aws/docker/library/postgres:${Database.ENGINE_VERSION.postgresMajorVersion}-alpine`,
    );
    const engine = Object.values(prodStateful.findResources('AWS::RDS::DBInstance'))[0]?.Properties
      .EngineVersion;
    expect(String(engine).split('.')[0]).toBe(Database.ENGINE_VERSION.postgresMajorVersion);
    expect(pg.Command?.[0]).toContain('pg_dump --no-password');
    expect(pg.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'PGDATABASE', Value: 'fa_ai_db' },
        { Name: 'PGSSLMODE', Value: 'verify-full' },
        { Name: 'PGSSLROOTCERT', Value: '/backup/rds-ca.pem' },
      ]),
    );
  });

  it('uploads only after pg_dump succeeded, from the volume both mount', () => {
    const pg = container('pg-dump');
    const upload = container('upload');
    expect(upload.Image).toBe(AWS_CLI_IMAGE);
    expect(upload.DependsOn).toEqual([{ ContainerName: 'pg-dump', Condition: 'SUCCESS' }]);
    // pg-dump must exit without stopping the task; the upload is what the task's outcome is.
    expect(pg.Essential).toBe(false);
    expect(upload.Essential).toBe(true);
    expect(dumpTask().Volumes).toEqual([{ Name: 'backup' }]);
    expect(pg.MountPoints).toEqual([{ ContainerPath: '/backup', SourceVolume: 'backup', ReadOnly: false }]);
    expect(upload.MountPoints).toEqual([
      { ContainerPath: '/backup', SourceVolume: 'backup', ReadOnly: true },
    ]);
  });

  it('writes SSE-KMS under db/backup_YYYYMMDD.sql only, the key given per run', () => {
    const upload = container('upload');
    const script = upload.Command?.[0] ?? '';
    expect(script).toContain('--sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ARN"');
    expect(script).toContain('db/backup_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].sql) ;;');
    expect(envNames(upload)).toEqual(expect.arrayContaining(['BACKUP_BUCKET', 'BACKUP_KMS_KEY_ARN']));
    expect(envNames(upload)).not.toContain('BACKUP_KEY');
  });

  it('gets the database credentials as ECS secrets, never as plain environment', () => {
    const pg = container('pg-dump');
    expect((pg.Secrets ?? []).map((s) => s.Name).sort()).toEqual(['PGPASSWORD', 'PGUSER']);
    for (const c of dumpTask().ContainerDefinitions) {
      expect(envNames(c).filter((n) => /PASSWORD|SECRET|TOKEN/.test(n))).toEqual([]);
    }
  });

  it('has the configured disk, on the services architecture', () => {
    const config = loadEnvironmentConfig('prod');
    expect(dumpTask().EphemeralStorage).toEqual({ SizeInGiB: config.backups.dumpStorageGiB });
    expect(dumpTask().RuntimePlatform.CpuArchitecture).toBe(config.service.cpuArchitecture);
  });

  it('reaches only HTTPS and the database port', () => {
    const groups = Object.entries(
      prod.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: Match.stringLikeRegexp('database dump task') },
      }),
    );
    expect(groups).toHaveLength(1);
    const [id, group] = groups[0] as [string, { Properties: Record<string, any> }];
    expect(group.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
    ]);
    const egress = Object.values(prod.findResources('AWS::EC2::SecurityGroupEgress')).filter((r) =>
      JSON.stringify(r.Properties.GroupId).includes(id),
    );
    expect(egress.map((r) => [r.Properties.FromPort, r.Properties.ToPort])).toEqual([[5432, 5432]]);
    expect(JSON.stringify(egress[0]?.Properties.DestinationSecurityGroupId)).toContain(
      'DatabaseSecurityGroup',
    );
  });
});

describe('the db-inspect Lambda', () => {
  const fn = () =>
    Object.values(
      prod.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'db-inspect' } } },
      }),
    )[0]?.Properties as Record<string, any>;

  it('runs in the VPC against the instance (not the proxy), with room for its statement timeouts', () => {
    expect(fn().VpcConfig).toBeDefined();
    expect(fn().Timeout).toBe(60);
    expect(fn().ReservedConcurrentExecutions).toBe(2);
    expect(fn().Environment.Variables).toMatchObject({
      DB_NAME: 'fa_ai_db',
      DB_SECRET_ARN: expect.anything(),
    });
    expect(JSON.stringify(fn().Environment.Variables.DB_HOST)).toContain('DatabaseInstance');
  });

  it('is not retried asynchronously: the operator waiting on it sees the failure', () => {
    prod.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^DatabaseInspect') },
      MaximumRetryAttempts: 0,
    });
  });
});
