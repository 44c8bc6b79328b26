import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrationsChecksum } from '../../lib/constructs/db-migrations';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let dev: Template;
let prodService: Template;

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'stateful');
  dev = synth.template('dev', 'stateful');
  prodService = synth.template('prod', 'service');
});

const resourcesOf = (template: Template, type: string) => Object.entries(template.findResources(type));

describe('database', () => {
  it("runs PostgreSQL 17.1+ as the runbook's fa-ai-system-db with database fa_ai_db", () => {
    prod.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^17\\.([1-9]\\d*)$'),
      DBInstanceIdentifier: 'fa-ai-system-db',
      DBName: 'fa_ai_db',
    });
    dev.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceIdentifier: 'fa-ai-system-db-dev' });
  });

  it('takes class, Multi-AZ and gp3 storage from config, encrypted with the data key', () => {
    prod.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.t4g.small',
      MultiAZ: true,
      StorageType: 'gp3',
      AllocatedStorage: '20',
      MaxAllocatedStorage: 200,
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] },
    });
    dev.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.t4g.micro', MultiAZ: false });
  });

  it('keeps 7 days of automated backups, Performance Insights and exported PostgreSQL logs', () => {
    prod.hasResourceProperties('AWS::RDS::DBInstance', {
      BackupRetentionPeriod: 7,
      EnablePerformanceInsights: true,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      PubliclyAccessible: false,
    });
    prod.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/rds/instance/fa-ai-system-db/postgresql',
      RetentionInDays: 365,
    });
  });

  it('protects prod data: deletion protection and a snapshot on delete or replace', () => {
    prod.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ DeletionProtection: true }),
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
    dev.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ DeletionProtection: false }),
      DeletionPolicy: 'Delete',
    });
  });

  it('preloads pg_stat_statements, forces TLS and logs slow statements', () => {
    prod.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: Match.objectLike({
        shared_preload_libraries: 'pg_stat_statements',
        'rds.force_ssl': '1',
        log_min_duration_statement: '1000',
      }),
    });
  });

  it('generates the master credentials into Secrets Manager, encrypted with the data key', () => {
    prod.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'fa-ai-system/prod/db/master',
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"fa_ai_admin"}' }),
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] },
    });
  });

  it('admits only the service and batch tasks, the dump task and the migrations, maintenance and inspection Lambdas', () => {
    const dbGroup = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(([, r]) =>
      String(r.Properties.GroupDescription).includes('PostgreSQL'),
    );
    expect(dbGroup).toBeDefined();
    const dbGroupId = dbGroup?.[0];
    const rulesFor = (template: Template, matches: (groupId: unknown) => boolean) =>
      resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')
        .map(([, r]) => r.Properties)
        .filter((p) => matches(p.GroupId));
    const inStateful = rulesFor(prod, (g) => JSON.stringify(g).includes(`"${dbGroupId}"`));
    const inService = rulesFor(prodService, (g) => JSON.stringify(g).includes('DatabaseSecurityGroup'));
    const sources = [...inStateful, ...inService].map((p) => JSON.stringify(p.SourceSecurityGroupId));
    expect(sources).toHaveLength(6);
    expect(sources.some((s) => s.includes('DatabaseMigrationsHandler'))).toBe(true);
    expect(sources.some((s) => s.includes('DatabaseMaintenanceHandler'))).toBe(true);
    expect(inService.map((p) => JSON.stringify(p.SourceSecurityGroupId)).sort()).toEqual([
      expect.stringContaining('BatchSecurityGroup'),
      expect.stringContaining('DatabaseBackupSecurityGroup'),
      expect.stringContaining('DatabaseInspectHandlerFunctionSecurityGroup'),
      expect.stringContaining('ServiceServiceSecurityGroup'),
    ]);
    for (const rule of [...inStateful, ...inService]) {
      expect(rule).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
      expect(rule.CidrIp).toBeUndefined();
    }
  });

  it('has no RDS Proxy unless config turns it on', () => {
    prod.resourceCountIs('AWS::RDS::DBProxy', 0);
  });
});

describe('schema migrations', () => {
  it('run as a custom resource with the secret, extensions, HNSW parameters and a checksum of the files', () => {
    prod.hasResourceProperties('Custom::FaAiDatabaseSchema', {
      SecretArn: { Ref: Match.stringLikeRegexp('^DatabaseInstanceSecretAttachment') },
      DatabaseName: 'fa_ai_db',
      Extensions: ['vector', 'pg_stat_statements'],
      HnswM: 16,
      HnswEfConstruction: 200,
      MigrationsChecksum: migrationsChecksum(),
    });
  });

  it('run after the database exists', () => {
    const [[, schema]] = [resourcesOf(prod, 'Custom::FaAiDatabaseSchema')[0] ?? ['', {}]] as [[string, any]];
    const [dbId] = resourcesOf(prod, 'AWS::RDS::DBInstance')[0] ?? [''];
    expect(schema.DependsOn).toContain(dbId);
  });

  it('run in the VPC on Node.js 22 ARM64 with TLS verification against the RDS CAs', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('schema migrations'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' }) },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      TracingConfig: { Mode: 'Active' },
    });
  });
});

describe('database maintenance', () => {
  it('runs weekly on Sunday 03:00 and monthly on the first Sunday, in the configured time zone', () => {
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 ? * SUN *)',
      ScheduleExpressionTimezone: 'America/New_York',
      Target: Match.objectLike({ Input: '{"task":"weekly"}' }),
    });
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 4 ? * SUN#1 *)',
      ScheduleExpressionTimezone: 'America/New_York',
      Target: Match.objectLike({ Input: '{"task":"monthly"}' }),
    });
  });

  it('sends failed deliveries and failed invocations to an encrypted dead-letter queue', () => {
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
      }),
    });
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('VACUUM'),
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
      ReservedConcurrentExecutions: 1,
      Timeout: 900,
    });
    prod.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });
});

describe('cache', () => {
  it('runs Valkey with TLS required, an AUTH token from Secrets Manager and KMS at rest', () => {
    prod.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      CacheNodeType: 'cache.t4g.micro',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] },
      AuthToken: {
        'Fn::Join': [
          '',
          Match.arrayWith(['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^CacheAuthToken') }]),
        ],
      },
    });
  });

  it('runs the node count and Multi-AZ failover that config asks for', () => {
    // Prod runs one node to fit the $200 budget (README: cost trade-offs); a replica turns
    // failover on, as the staging variant of test/config-variants.test.ts shows.
    prod.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 1,
      MultiAZEnabled: false,
      AutomaticFailoverEnabled: false,
    });
  });

  it('evicts least recently used embeddings when full', () => {
    prod.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: { 'maxmemory-policy': 'allkeys-lru' },
    });
  });

  it('keeps snapshots, and a final one when deleted in prod', () => {
    prod.hasResource('AWS::ElastiCache::ReplicationGroup', {
      Properties: Match.objectLike({ SnapshotRetentionLimit: 7 }),
      DeletionPolicy: 'Snapshot',
    });
  });

  it('admits only the service and batch tasks', () => {
    const rules = resourcesOf(prodService, 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId).includes('CacheSecurityGroup'));
    expect(rules.map((r) => JSON.stringify(r.SourceSecurityGroupId)).sort()).toEqual([
      expect.stringContaining('BatchSecurityGroup'),
      expect.stringContaining('ServiceServiceSecurityGroup'),
    ]);
    for (const rule of rules) expect(rule).toMatchObject({ FromPort: 6379, ToPort: 6379 });
    expect(
      resourcesOf(prod, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) =>
        JSON.stringify(r).includes('Cache'),
      ),
    ).toEqual([]);
  });
});

describe('secrets', () => {
  it('creates the Anthropic and OpenAI key secrets without a value in the template', () => {
    for (const slug of ['anthropic-api-key', 'openai-api-key']) {
      const [entry] = resourcesOf(prod, 'AWS::SecretsManager::Secret').filter(
        ([, r]) => r.Properties.Name === `fa-ai-system/prod/${slug}`,
      );
      expect(entry, slug).toBeDefined();
      expect(entry?.[1].Properties.SecretString).toBeUndefined();
    }
  });

  it('injects credentials and API keys into both colours as ECS secrets, never as plain environment', () => {
    for (const family of ['fa-ai-system-blue', 'fa-ai-system-green']) {
      prodService.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Family: family,
        ContainerDefinitions: [
          Match.objectLike({
            Secrets: Match.arrayWith([
              Match.objectLike({ Name: 'DB_USER' }),
              Match.objectLike({ Name: 'DB_PASSWORD' }),
              Match.objectLike({ Name: 'REDIS_AUTH_TOKEN' }),
              Match.objectLike({ Name: 'ANTHROPIC_API_KEY' }),
              Match.objectLike({ Name: 'OPENAI_API_KEY' }),
            ]),
          }),
        ],
      });
    }
    const env = JSON.stringify(
      resourcesOf(prodService, 'AWS::ECS::TaskDefinition').map(
        ([, r]) => r.Properties.ContainerDefinitions[0].Environment,
      ),
    );
    expect(env).not.toMatch(/PASSWORD|API_KEY|AUTH_TOKEN/);
    expect(env).toContain('REDIS_HOST');
    expect(env).toContain('DB_HOST');
  });

  it('lets the execution roles decrypt the data key only through Secrets Manager', () => {
    prodService.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
          }),
        ]),
      },
    });
  });
});

describe('backups bucket', () => {
  it("derives a globally unique name from the runbook's fa-ai-backups", () => {
    prod.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'fa-ai-backups-prod-222222222222-us-east-1',
    });
  });

  it('is KMS-encrypted, versioned, private, logged and tiers dumps per config', () => {
    prod.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        BucketName: Match.stringLikeRegexp('^fa-ai-backups-'),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
            }),
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'backups/' }),
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              ExpirationInDays: 365,
              Transitions: [
                { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
                { StorageClass: 'GLACIER', TransitionInDays: 90 },
              ],
            }),
          ],
        },
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('refuses plain HTTP and TLS below 1.2', () => {
    const policies = resourcesOf(prod, 'AWS::S3::BucketPolicy').filter(([, r]) =>
      JSON.stringify(r.Properties.Bucket).includes('BackupsBucket'),
    );
    const statements = JSON.stringify(policies.map(([, r]) => r.Properties.PolicyDocument.Statement));
    expect(statements).toContain('"aws:SecureTransport":"false"');
    expect(statements).toContain('"s3:TlsVersion":1.2');
  });
});
