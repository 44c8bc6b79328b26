import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { declareCalls } from '../../core/calls';
import { grantDeclaredCalls } from './calls';
import { DATABASE_NAME, Database } from './database';
import { addLoggedFargateTask, type TaskCpuArchitecture } from './fargate-task';
import { nagText } from './nag';

/** Where dumps go in the backups bucket: the runbook's `s3://fa-ai-backups/db/`. */
export const DUMP_PREFIX = 'db/';

/** The containers of the dump task, in the order they run. */
export const DUMP_CONTAINERS = { dump: 'pg-dump', upload: 'upload' } as const;

/** What the dump task's upload calls: the dump object, and the bucket's key for SSE-KMS. */
export const DB_BACKUP_TASK_CALLS = declareCalls({
  // A multipart upload (every dump above 8 MB) is authorized as PutObject part by part.
  dumpObjects: { actions: ['s3:PutObject'] },
  // GenerateDataKey for each object key; Decrypt as well for the parts of a multipart upload.
  bucketKey: { actions: ['kms:GenerateDataKey', 'kms:Decrypt'] },
});

/**
 * The AWS CLI image, pinned: a new CLI is a deliberate upgrade. Public images need no build and
 * no registry credentials; the private subnets reach ECR Public through the NAT.
 */
export const AWS_CLI_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.32.9';

/** The official PostgreSQL image of the instance's major version: pg_dump must not be older than the server. */
export function postgresImage(): string {
  return `public.ecr.aws/docker/library/postgres:${Database.ENGINE_VERSION.postgresMajorVersion}-alpine`;
}

/** RDS's certificate bundle, so that pg_dump verifies the server (sslmode=verify-full). */
const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';

/** Past this, the dump is killed and the task fails (a run of the 200 GiB ceiling takes about an hour). */
const DUMP_TIMEOUT_SECONDS = 6 * 3600;

/** Properties of {@link DbBackupTask}. */
export interface DbBackupTaskProps {
  readonly vpc: ec2.IVpc;
  readonly database: Database;
  /** The database credentials as ECS secrets (the same secret the services read). */
  readonly credentials: { readonly username: ecs.Secret; readonly password: ecs.Secret };
  /** Lets the task execution role decrypt the credentials secret. */
  readonly grantSecretsDecrypt: (role: iam.IRole) => void;
  readonly bucket: s3.IBucket;
  /** The bucket's default encryption key. */
  readonly bucketKey: kms.IKey;
  readonly cpuArchitecture: TaskCpuArchitecture;
  /** Disk for the dump file (21-200 GiB). */
  readonly ephemeralStorageGiB: number;
  readonly names: { readonly family: string; readonly logGroup: string };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The runbook's manual backup as a Fargate task that `ops backup dump` runs: `pg_dump` of
 * fa_ai_db (official postgres image) into a volume both containers share, then, only if it
 * succeeded, `aws s3 cp` (AWS CLI image) to `db/backup_YYYYMMDD.sql` with SSE-KMS under the
 * bucket's key. The object key comes from the run (BACKUP_KEY) and must have that form.
 */
export class DbBackupTask extends Construct {
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DbBackupTaskProps) {
    super(scope, id);
    const { database } = props;

    ({ logGroup: this.logGroup, taskDefinition: this.taskDefinition } = addLoggedFargateTask(this, {
      ...props,
      // pg_dump of a plain-format dump is one process; 0.5 vCPU keeps up with gp3 reads.
      cpu: 512,
      memoryMiB: 1024,
      volumes: [{ name: 'backup' }],
    }));
    const logging = (streamPrefix: string) =>
      ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix });
    const mount = { containerPath: '/backup', sourceVolume: 'backup', readOnly: false };

    const dump = this.taskDefinition.addContainer('Dump', {
      containerName: DUMP_CONTAINERS.dump,
      image: ecs.ContainerImage.fromRegistry(postgresImage()),
      // Not essential: the task must go on to the upload once it has exited.
      essential: false,
      entryPoint: ['/bin/sh', '-c'],
      command: [
        [
          'set -eu',
          'wget -q -O /backup/rds-ca.pem "$RDS_CA_BUNDLE_URL"',
          // The runbook's pg_dump; a lock held by a migration fails it instead of waiting forever.
          `timeout ${DUMP_TIMEOUT_SECONDS} pg_dump --no-password --lock-wait-timeout=120000 --file /backup/dump.sql`,
          'test -s /backup/dump.sql',
          'echo "pg_dump done: $(wc -c < /backup/dump.sql) bytes"',
        ].join('\n'),
      ],
      environment: {
        PGHOST: database.instance.instanceEndpoint.hostname,
        PGPORT: String(database.port),
        PGDATABASE: DATABASE_NAME,
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: '/backup/rds-ca.pem',
        PGCONNECT_TIMEOUT: '10',
        PGAPPNAME: 'fa-ai-system-backup',
        RDS_CA_BUNDLE_URL,
      },
      secrets: { PGUSER: props.credentials.username, PGPASSWORD: props.credentials.password },
      logging: logging('pg-dump'),
    });
    dump.addMountPoints(mount);

    const upload = this.taskDefinition.addContainer('Upload', {
      containerName: DUMP_CONTAINERS.upload,
      image: ecs.ContainerImage.fromRegistry(AWS_CLI_IMAGE),
      essential: true,
      entryPoint: ['/bin/sh', '-c'],
      command: [
        [
          'set -eu',
          // BACKUP_KEY is set per run (no default): a run without it, or with another key, uploads nothing.
          'case "$BACKUP_KEY" in',
          `  ${DUMP_PREFIX}backup_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].sql) ;;`,
          `  *) echo "BACKUP_KEY '$BACKUP_KEY' is not ${DUMP_PREFIX}backup_YYYYMMDD.sql" >&2; exit 2 ;;`,
          'esac',
          'aws s3 cp /backup/dump.sql "s3://$BACKUP_BUCKET/$BACKUP_KEY" --sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ARN" --no-progress --only-show-errors',
          'echo "uploaded s3://$BACKUP_BUCKET/$BACKUP_KEY"',
        ].join('\n'),
      ],
      environment: {
        BACKUP_BUCKET: props.bucket.bucketName,
        BACKUP_KMS_KEY_ARN: props.bucketKey.keyArn,
        AWS_REGION: Stack.of(this).region,
      },
      logging: logging('upload'),
    });
    upload.addMountPoints({ ...mount, readOnly: true });
    upload.addContainerDependencies({ container: dump, condition: ecs.ContainerDependencyCondition.SUCCESS });

    props.grantSecretsDecrypt(this.taskDefinition.obtainExecutionRole());
    grantDeclaredCalls(this.taskDefinition.taskRole, 'task db-backup (upload)', DB_BACKUP_TASK_CALLS, {
      dumpObjects: { resources: [props.bucket.arnForObjects(`${DUMP_PREFIX}*`)] },
      bucketKey: {
        resources: [props.bucketKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        requestContext: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'FA AI System database dump task: the database, and HTTPS (images, S3, secrets, logs)',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: ECR Public, S3, AWS APIs',
    );
    // Also the egress rule to the database's group (a group without allowAllOutbound gets both).
    database.allowFrom(this.securityGroup, 'Database dump task (ops backup dump)');

    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Plain environment holds only endpoints, names and the bucket key ARN; the database credentials reach ' +
        'the container as ECS secrets from Secrets Manager.',
    });
    Validations.of(this.taskDefinition.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:aws:s3:::${nagText(this, props.bucket.bucketName)}/${DUMP_PREFIX}*]`,
      reason: 'PutObject of dumps under db/ only (their date-named keys are not known in advance).',
    });
  }
}
