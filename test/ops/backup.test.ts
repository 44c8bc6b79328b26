/** `ops backup snapshot|dump|list` against recorded AWS calls (RDS, ECS, S3 as their APIs answer). */
import 'aws-sdk-client-mock-vitest/extend';
import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { CreateDBSnapshotCommand, type DBSnapshot, DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { dumpKey, humanBytes, snapshotName } from '../../lib/ops/commands/backup';
import { awsError } from '../helpers/aws';
import { checkSentAgainst } from '../iam/declared-calls';
import { ACCOUNT_ID, REGION } from '../lambdas/traffic-shift/harness';
import {
  BACKUPS_BUCKET,
  CLUSTER,
  cliMocks,
  DATA_KEY_ARN,
  DB_INSTANCE,
  MANIFEST,
  resetCli,
  runOps,
} from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['--env', 'prod'];
// runOps's clock: 2026-11-25T04:12:35Z.
const SNAPSHOT = 'fa-ai-system-db-20261125-0412';
const KEY = 'db/backup_20261125.sql';
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task/${CLUSTER}/0a1b2c3d4e5f67890a1b2c3d4e5f6789`;

beforeEach(async () => {
  await resetCli();
});

function snapshot(overrides: Partial<DBSnapshot> = {}): DBSnapshot {
  return {
    DBSnapshotIdentifier: SNAPSHOT,
    DBInstanceIdentifier: DB_INSTANCE,
    DBSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT_ID}:snapshot:${SNAPSHOT}`,
    SnapshotCreateTime: new Date('2026-11-25T04:12:40.000Z'),
    Engine: 'postgres',
    EngineVersion: '17.9',
    AllocatedStorage: 20,
    Status: 'creating',
    PercentProgress: 0,
    SnapshotType: 'manual',
    Encrypted: true,
    ...overrides,
  };
}

describe('backup snapshot', () => {
  it('--yes: creates <instance>-YYYYMMDD-HHMM and follows it until available (exit 0)', async () => {
    cliMocks.rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot() });
    cliMocks.rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [snapshot({ PercentProgress: 40 })] })
      .resolvesOnce({ DBSnapshots: [snapshot({ PercentProgress: 40 })] })
      .resolves({ DBSnapshots: [snapshot({ Status: 'available', PercentProgress: 100 })] });

    const run = await runOps(['backup', 'snapshot', ...PROD, '--yes']);

    expect(run.code).toBe(0);
    expect(cliMocks.rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: DB_INSTANCE,
      DBSnapshotIdentifier: SNAPSHOT,
    });
    expect(cliMocks.rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBSnapshotIdentifier: SNAPSHOT,
    });
    expect(run.stdout).toContain(
      `This creates the manual snapshot ${SNAPSHOT} of ${DB_INSTANCE} (prod) now.`,
    );
    // One line per change, not per poll.
    expect(run.stdout.match(/creating 40%/g)).toHaveLength(1);
    expect(run.stdout).toContain(`Snapshot ${SNAPSHOT}: available 100%`);
    expect(run.stdout).toContain(`Snapshot ${SNAPSHOT} of ${DB_INSTANCE} is available (20 GiB allocated`);
    expect(run.sleeps).toEqual([4000, 4000, 4000]);
  });

  it('--no-wait: returns once it is being created', async () => {
    cliMocks.rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot() });
    const run = await runOps(['backup', 'snapshot', ...PROD, '--yes', '--no-wait', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      snapshot: SNAPSHOT,
      instance: DB_INSTANCE,
      status: 'creating',
      waited: false,
    });
    expect(cliMocks.rds).not.toHaveReceivedCommand(DescribeDBSnapshotsCommand);
    // The plan and progress went to stderr: stdout holds the JSON only.
    expect(run.stderr).toContain('This creates the manual snapshot');
  });

  it('without --yes and no terminal: says what it would do and creates nothing (exit 2)', async () => {
    const run = await runOps(['backup', 'snapshot', ...PROD]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`This creates the manual snapshot ${SNAPSHOT}`);
    expect(run.stderr).toContain('pass --yes to confirm');
    expect(cliMocks.rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
  });

  it('refuses (exit 2) when the name is taken or the instance is busy', async () => {
    cliMocks.rds
      .on(CreateDBSnapshotCommand)
      .rejectsOnce(
        awsError(
          'DBSnapshotAlreadyExistsFault',
          `Cannot create the snapshot because a snapshot with the identifier ${SNAPSHOT} already exists.`,
        ),
      )
      .rejects(
        awsError(
          'InvalidDBInstanceStateFault',
          'Cannot create a snapshot because the database instance is not currently in the available state.',
        ),
      );
    const taken = await runOps(['backup', 'snapshot', ...PROD, '--yes']);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`A snapshot named ${SNAPSHOT} exists already`);
    const busy = await runOps(['backup', 'snapshot', ...PROD, '--yes']);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`${DB_INSTANCE} cannot be snapshotted now`);
  });

  it('a throttled create that went through counts as created', async () => {
    cliMocks.rds
      .on(CreateDBSnapshotCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .rejects(awsError('DBSnapshotAlreadyExistsFault', 'already exists'));
    cliMocks.rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snapshot({ Status: 'available' })] });
    const run = await runOps(['backup', 'snapshot', ...PROD, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`(an earlier attempt created ${SNAPSHOT})`);
  });

  it('exits 1 when the snapshot fails', async () => {
    cliMocks.rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot() });
    cliMocks.rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot({ Status: 'failed' })] });
    const run = await runOps(['backup', 'snapshot', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Snapshot ${SNAPSHOT} ended failed`);
  });
});

/** A dump task as DescribeTasks returns it. */
function task(
  lastStatus: string,
  dump?: { status: string; exit?: number },
  upload?: { status: string; exit?: number },
  extra: Partial<Task> = {},
): Task {
  const container = (name: string, c?: { status: string; exit?: number }) => ({
    containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:container/${CLUSTER}/0a1b2c3d/${name}`,
    taskArn: TASK_ARN,
    name,
    lastStatus: c?.status ?? 'PENDING',
    ...(c?.exit === undefined ? {} : { exitCode: c.exit }),
  });
  return {
    taskArn: TASK_ARN,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:cluster/${CLUSTER}`,
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task-definition/fa-ai-system-db-backup:3`,
    lastStatus,
    desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    launchType: 'FARGATE',
    containers: [container('pg-dump', dump), container('upload', upload)],
    ...extra,
  };
}

function dumpWorld(
  stops: Task = task('STOPPED', { status: 'STOPPED', exit: 0 }, { status: 'STOPPED', exit: 0 }),
) {
  cliMocks.s3.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });
  cliMocks.ecs.on(ListTasksCommand, { family: 'fa-ai-system-db-backup' }).resolves({ taskArns: [] });
  cliMocks.ecs.on(RunTaskCommand).resolves({ tasks: [task('PROVISIONING')], failures: [] });
  cliMocks.ecs
    .on(DescribeTasksCommand)
    .resolvesOnce({ tasks: [task('RUNNING', { status: 'RUNNING' })], failures: [] })
    .resolvesOnce({
      tasks: [task('RUNNING', { status: 'STOPPED', exit: 0 }, { status: 'RUNNING' })],
      failures: [],
    })
    .resolves({ tasks: [stops], failures: [] });
  cliMocks.s3.on(HeadObjectCommand).resolves({
    ContentLength: 734_003_200,
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: DATA_KEY_ARN,
    BucketKeyEnabled: true,
    LastModified: new Date('2026-11-25T04:31:02.000Z'),
    VersionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
    ContentType: 'application/octet-stream',
  });
}

describe('backup dump', () => {
  it("--yes: runs the dump task in the VPC with today's key, follows it, and checks the object (exit 0)", async () => {
    dumpWorld();
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);

    expect(run.code).toBe(0);
    const input = cliMocks.ecs.commandCalls(RunTaskCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      cluster: CLUSTER,
      taskDefinition: 'fa-ai-system-db-backup',
      launchType: 'FARGATE',
      count: 1,
      propagateTags: 'TASK_DEFINITION',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: MANIFEST.backup?.subnets,
          securityGroups: [MANIFEST.backup?.securityGroup],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: 'upload', environment: [{ name: 'BACKUP_KEY', value: KEY }] }],
      },
    });
    expect(input?.clientToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(cliMocks.s3).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: BACKUPS_BUCKET, Key: KEY });
    expect(run.stdout).toContain(`pg_dump to s3://${BACKUPS_BUCKET}/${KEY} (SSE-KMS, the bucket's key)`);
    expect(run.stdout).toMatch(/RUNNING\s+pg-dump RUNNING, upload PENDING/);
    expect(run.stdout).toMatch(/RUNNING\s+pg-dump STOPPED \(exit 0\), upload RUNNING/);
    expect(run.stdout).toContain(
      `Logs: /ecs/fa-ai-system-db-backup, streams pg-dump/pg-dump/0a1b2c3d4e5f67890a1b2c3d4e5f6789`,
    );
    expect(run.stdout).toContain(
      `Dump done: s3://${BACKUPS_BUCKET}/${KEY}, 700.0 MiB, SSE-KMS (${DATA_KEY_ARN}).`,
    );
    expect(run.sleeps).toEqual([4000, 4000, 4000]);
  });

  it('without --yes and no terminal: starts nothing (exit 2)', async () => {
    dumpWorld();
    const run = await runOps(['backup', 'dump', ...PROD]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('This dumps fa_ai_db (prod) with pg_dump');
    expect(cliMocks.ecs).not.toHaveReceivedCommand(RunTaskCommand);
  });

  it("says it replaces today's dump (kept as an older version) when there is one", async () => {
    dumpWorld();
    cliMocks.s3.on(ListObjectsV2Command).resolves({
      KeyCount: 1,
      Contents: [
        {
          Key: KEY,
          Size: 1_048_576,
          LastModified: new Date('2026-11-25T01:00:00.000Z'),
          StorageClass: 'STANDARD',
        },
      ],
    });
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("It replaces today's dump (1.0 MiB, 2026-11-25 01:00:00Z)");
    expect(cliMocks.s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: BACKUPS_BUCKET,
      Prefix: KEY,
    });
  });

  it('refuses (exit 2) while another dump runs', async () => {
    dumpWorld();
    cliMocks.ecs
      .on(ListTasksCommand, { family: 'fa-ai-system-db-backup' })
      .resolves({ taskArns: [TASK_ARN] });
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`A dump is already running (${TASK_ARN})`);
    expect(cliMocks.ecs).not.toHaveReceivedCommand(RunTaskCommand);
  });

  it('exits 1 naming the container and the task reason when pg_dump fails (no upload ran, no object check)', async () => {
    dumpWorld(
      task(
        'STOPPED',
        { status: 'STOPPED', exit: 1 },
        { status: 'STOPPED' },
        {
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
        },
      ),
    );
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `The dump failed, nothing new in s3://${BACKUPS_BUCKET}/${KEY}: pg-dump: exit 1; upload: did not run; task: Essential container in task exited`,
    );
    expect(cliMocks.s3).not.toHaveReceivedCommand(HeadObjectCommand);
  });

  it('exits 1 when the task did not start (capacity), with the reason', async () => {
    dumpWorld();
    cliMocks.ecs
      .on(RunTaskCommand)
      .resolves({ tasks: [], failures: [{ reason: 'Capacity is unavailable at this time.' }] });
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The dump task did not start: Capacity is unavailable at this time.');
  });

  it("exits 1 when the object is not this run's KMS-encrypted dump", async () => {
    dumpWorld();
    cliMocks.s3.on(HeadObjectCommand).resolves({
      ContentLength: 10,
      ServerSideEncryption: 'AES256',
      LastModified: new Date('2026-11-24T03:00:00.000Z'),
    });
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('encryption is AES256, not aws:kms');
    expect(run.stderr).toContain('before this run');
  });

  it('exits 1 when the task succeeded but the object is missing', async () => {
    dumpWorld();
    cliMocks.s3.on(HeadObjectCommand).rejects(awsError('NotFound', 'Not Found', 404));
    const run = await runOps(['backup', 'dump', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The dump task succeeded but s3://${BACKUPS_BUCKET}/${KEY} does not exist`);
  });
});

describe('backup list', () => {
  const automated = (day: string) =>
    snapshot({
      DBSnapshotIdentifier: `rds:${DB_INSTANCE}-2026-11-${day}-06-10`,
      SnapshotType: 'automated',
      Status: 'available',
      SnapshotCreateTime: new Date(`2026-11-${day}T06:10:00.000Z`),
    });

  it('lists automated and manual snapshots and the dumps together, newest first, within --limit', async () => {
    cliMocks.rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [automated('23'), automated('24')], Marker: 'page-2' })
      .resolves({
        DBSnapshots: [
          snapshot({
            Status: 'creating',
            PercentProgress: 55,
            SnapshotCreateTime: new Date('2026-11-25T04:00:00.000Z'),
          }),
        ],
      });
    cliMocks.s3.on(ListObjectsV2Command).resolves({
      IsTruncated: false,
      Contents: [
        {
          Key: 'db/backup_20261124.sql',
          Size: 734_003_200,
          LastModified: new Date('2026-11-24T12:00:00.000Z'),
          StorageClass: 'STANDARD',
        },
        {
          Key: 'db/backup_20260801.sql',
          Size: 500_000_000,
          LastModified: new Date('2026-08-01T12:00:00.000Z'),
          StorageClass: 'GLACIER',
        },
      ],
    });

    const run = await runOps(['backup', 'list', ...PROD, '--limit', '4']);

    expect(run.code).toBe(0);
    expect(cliMocks.rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: DB_INSTANCE,
      Marker: 'page-2',
    });
    expect(cliMocks.s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: BACKUPS_BUCKET,
      Prefix: 'db/',
    });
    const rows = run.stdout.split('\n').filter((l) => /^\s+2026-/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(
      /2026-11-25 04:00:00Z .*snapshot \(manual\)\s+fa-ai-system-db-20261125-0412\s+20 GiB allocated\s+creating 55%/,
    );
    expect(rows[1]).toMatch(/2026-11-24 12:00:00Z .*dump\s+db\/backup_20261124\.sql\s+700\.0 MiB\s+STANDARD/);
    expect(rows[2]).toMatch(/snapshot \(automated\)\s+rds:fa-ai-system-db-2026-11-24-06-10/);
    expect(rows[3]).toMatch(/rds:fa-ai-system-db-2026-11-23-06-10/);
    expect(run.stdout).toContain('(4 of 5)');
  });

  it('shows what it could read and exits 1 when one listing fails', async () => {
    cliMocks.rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [automated('24')] });
    cliMocks.s3.on(ListObjectsV2Command).rejects(awsError('AccessDenied', 'Access Denied', 403));
    const run = await runOps(['backup', 'list', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('rds:fa-ai-system-db-2026-11-24-06-10');
    expect(run.stdout).toContain(`- dumps in s3://${BACKUPS_BUCKET}/db/: AccessDenied: Access Denied`);
  });

  it('--json: the entries and the errors', async () => {
    cliMocks.rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    cliMocks.s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });
    const run = await runOps(['backup', 'list', ...PROD, '--json']);
    expect(JSON.parse(run.stdout)).toEqual({ backups: [], total: 0, errors: [] });
  });
});

describe('backup names', () => {
  it('dates in UTC, as db/backup_YYYYMMDD.sql and <instance>-YYYYMMDD-HHMM', () => {
    const lateEvening = new Date('2026-12-31T23:59:59.000Z');
    expect(dumpKey('db/', lateEvening)).toBe('db/backup_20261231.sql');
    expect(snapshotName('fa-ai-system-db-dev', lateEvening)).toBe('fa-ai-system-db-dev-20261231-2359');
    expect(snapshotName(DB_INSTANCE, new Date('2027-01-02T03:04:05.000Z'))).toMatch(
      /^[a-z][a-z0-9-]*[a-z0-9]$/,
    );
  });

  it('sizes in binary units', () => {
    expect([0, 1023, 1024, 734_003_200, 2 ** 40].map(humanBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '700.0 MiB',
      '1.0 TiB',
    ]);
  });
});

describe('backup command line', () => {
  it.each([
    [['backup', 'snapshot', ...PROD, '--wait'], "Unknown option '--wait'"],
    [['backup', 'list', ...PROD, '--limit', 'all'], '--limit all: expected a whole number 1..1000'],
    [['backup', 'restore', ...PROD], "Unknown backup command 'restore': expected snapshot, dump, list"],
    [['backup', 'dump', ...PROD, '--no-wait'], 'Option --no-wait does not apply to backup dump'],
  ])('refuses %j (exit 2) naming the problem, calling nothing', async (argv, message) => {
    const run = await runOps(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(cliMocks.rds).not.toHaveReceivedAnyCommand();
    expect(cliMocks.ecs).not.toHaveReceivedAnyCommand();
  });
});
