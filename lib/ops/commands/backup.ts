/**
 * `backup snapshot`, `backup dump` and `backup list`: the runbook's Backup Procedures. A
 * snapshot is RDS's; a dump is the runbook's pg_dump, run as the dump task in the VPC
 * (lib/constructs/db-backup.ts) into the backups bucket under db/backup_YYYYMMDD.sql.
 */

import { randomUUID } from 'node:crypto';
import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { CreateDBSnapshotCommand, type DBSnapshot, DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import {
  type _Object,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { describeError } from '../../../core/traffic';
import { flag, integer } from '../../cli/args';
import { confirmChange, YES } from '../confirm';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT, OpsError, RefusedError } from '../errors';
import { manifestSection } from '../manifest';
import { ago, type CommandResult, readResult, table, when } from '../output';

/** `20261125` of an instant, in UTC (the runbook's `date +%Y%m%d`, one clock for everyone). */
export function dateStamp(at: Date): string {
  return at.toISOString().slice(0, 10).replaceAll('-', '');
}

/** The object key of the day's dump: `db/backup_YYYYMMDD.sql`. */
export function dumpKey(prefix: string, at: Date): string {
  return `${prefix}backup_${dateStamp(at)}.sql`;
}

/** The name of a manual snapshot taken at `at`: `<instance>-YYYYMMDD-HHMM` (UTC). */
export function snapshotName(instance: string, at: Date): string {
  return `${instance}-${dateStamp(at)}-${at.toISOString().slice(11, 16).replace(':', '')}`;
}

/** 1.2 GiB, 340 MiB, 12 KiB. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const errorName = (error: unknown) => String((error as { name?: unknown }).name ?? '');

// ---------------------------------------------------------------------------------------------
// snapshot

/** RDS snapshot states that will not become `available`. */
const SNAPSHOT_DEAD_ENDS = new Set(['failed', 'deleting', 'deleted', 'incompatible-restore']);

/** Creates a manual snapshot now and, unless told not to, waits until it is available. */
export async function backupSnapshotCommand(
  ctx: CommandContext,
  options: { readonly yes: boolean; readonly noWait: boolean },
): Promise<CommandResult> {
  const database = manifestSection(ctx.manifest, 'database', 'backup snapshot');
  const instance = database.instanceIdentifier;
  const name = snapshotName(instance, ctx.now());
  await confirmChange(
    ctx,
    [
      `This creates the manual snapshot ${name} of ${instance} (${ctx.manifest.environment}) now.`,
      '  The instance stays available (Multi-AZ: no I/O pause; single-AZ: a brief one). A manual snapshot is kept',
      '  until someone deletes it, outside the 7-day automated backups, and billed as backup storage.',
    ],
    options.yes,
  );
  try {
    await ctx.clients.rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: name }),
    );
  } catch (error) {
    // Already there after a retry (the SDK's, which counts the attempts on the error): the
    // first, lost, attempt made it.
    const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
    if (errorName(error) === 'DBSnapshotAlreadyExistsFault' && attempts > 1) {
      ctx.out.progress(`(an earlier attempt created ${name})`);
    } else if (errorName(error) === 'DBSnapshotAlreadyExistsFault') {
      throw new RefusedError(`A snapshot named ${name} exists already (one per minute): nothing created`);
    } else if (errorName(error) === 'InvalidDBInstanceStateFault') {
      throw new RefusedError(
        `${instance} cannot be snapshotted now (${(error as Error).message}): nothing created; ` +
          'RDS takes one snapshot at a time, so wait for the running one (backup list)',
      );
    } else {
      throw error;
    }
  }
  ctx.out.progress(`Snapshot ${name}: creating.`);
  if (options.noWait) {
    return {
      exitCode: EXIT.ok,
      lines: [
        `Snapshot ${name} is being created; \`npm run ops -- backup list\` shows when it is available.`,
      ],
      data: { snapshot: name, instance, status: 'creating', waited: false },
    };
  }
  ctx.out.progress('Ctrl-C stops waiting only: the snapshot goes on.');
  let last = '';
  for (;;) {
    await ctx.sleep(ctx.pollIntervalMs);
    const found = await ctx.clients.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: name }));
    const snapshot = found.DBSnapshots?.[0];
    const status = snapshot?.Status ?? 'unknown';
    const line = `Snapshot ${name}: ${status}${snapshot?.PercentProgress === undefined ? '' : ` ${snapshot.PercentProgress}%`}`;
    if (line !== last) ctx.out.progress(line);
    last = line;
    if (status === 'available') {
      return {
        exitCode: EXIT.ok,
        lines: [
          `Snapshot ${name} of ${instance} is available (${snapshot?.AllocatedStorage ?? '?'} GiB allocated, taken ` +
            `${when(snapshot?.SnapshotCreateTime)}).`,
          'Restore: see "Restoring from a backup" in the README.',
        ],
        data: { snapshot: name, instance, status, waited: true, details: snapshot ?? null },
      };
    }
    if (SNAPSHOT_DEAD_ENDS.has(status)) {
      throw new OpsError(`Snapshot ${name} ended ${status}: see the RDS events of ${instance}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// dump

/** "pg-dump RUNNING, upload PENDING" of a described task. */
function containerStates(task: Task): string {
  return (task.containers ?? [])
    .map((c) => `${c.name} ${c.lastStatus ?? '?'}${c.exitCode === undefined ? '' : ` (exit ${c.exitCode})`}`)
    .join(', ');
}

/** Why a stopped dump task failed, or undefined when both containers exited 0. */
function dumpFailure(
  task: Task,
  containers: { readonly dump: string; readonly upload: string },
): string | undefined {
  const byName = new Map((task.containers ?? []).map((c) => [c.name, c]));
  const problems: string[] = [];
  for (const name of [containers.dump, containers.upload]) {
    const c = byName.get(name);
    if (c?.exitCode === 0) continue;
    problems.push(
      c === undefined
        ? `${name}: not in the task`
        : c.exitCode === undefined
          ? `${name}: did not run${c.reason ? ` (${c.reason})` : ''}`
          : `${name}: exit ${c.exitCode}${c.reason ? ` (${c.reason})` : ''}`,
    );
  }
  if (problems.length === 0) return undefined;
  return `${problems.join('; ')}${task.stoppedReason ? `; task: ${task.stoppedReason}` : ''}`;
}

/** Runs the dump task, follows it to the end and checks the object it wrote. */
export async function backupDumpCommand(
  ctx: CommandContext,
  options: { readonly yes: boolean },
): Promise<CommandResult> {
  const backup = manifestSection(ctx.manifest, 'backup', 'backup dump');
  const { manifest, clients } = ctx;
  const startedAt = ctx.now();
  const key = dumpKey(backup.prefix, startedAt);
  const location = `s3://${backup.bucket}/${key}`;

  const [existing, running] = await Promise.all([
    clients.s3.send(new ListObjectsV2Command({ Bucket: backup.bucket, Prefix: key })),
    clients.ecs.send(
      new ListTasksCommand({
        cluster: manifest.clusterName,
        family: backup.taskFamily,
        desiredStatus: 'RUNNING',
      }),
    ),
  ]);
  const runningTask = running.taskArns?.[0];
  if (runningTask !== undefined) {
    throw new RefusedError(`A dump is already running (${runningTask}): wait for it; nothing started`);
  }
  const previous = existing.Contents?.find((o) => o.Key === key);
  await confirmChange(
    ctx,
    [
      `This dumps fa_ai_db (${manifest.environment}) with pg_dump to ${location} (SSE-KMS, the bucket's key):`,
      `  task ${backup.taskFamily} in ${manifest.clusterName}, in the VPC; the upload runs only if pg_dump succeeded.`,
      '  It reads the whole database (ACCESS SHARE locks: a migration waits for it) for minutes to hours.',
      ...(previous
        ? [
            `  It replaces today's dump (${humanBytes(previous.Size ?? 0)}, ${when(previous.LastModified)}); the bucket keeps`,
            '  the replaced one as an older version for 30 days.',
          ]
        : []),
    ],
    options.yes,
  );

  const run = await clients.ecs.send(
    new RunTaskCommand({
      cluster: manifest.clusterName,
      taskDefinition: backup.taskFamily,
      launchType: 'FARGATE',
      count: 1,
      // The same token on a retry: ECS starts the task once.
      clientToken: randomUUID(),
      startedBy: 'ops-backup-dump',
      propagateTags: 'TASK_DEFINITION',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...backup.subnets],
          securityGroups: [backup.securityGroup],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          { name: backup.containers.upload, environment: [{ name: 'BACKUP_KEY', value: key }] },
        ],
      },
    }),
  );
  const started = run.tasks?.[0];
  if (started?.taskArn === undefined) {
    const reasons = (run.failures ?? []).map((f) =>
      `${f.arn ?? ''} ${f.reason ?? ''} ${f.detail ?? ''}`.trim(),
    );
    throw new OpsError(
      `The dump task did not start: ${reasons.join('; ') || 'no task and no failure returned'}`,
    );
  }
  const taskArn = started.taskArn;
  const taskId = taskArn.split('/').pop() ?? taskArn;
  ctx.out.progress(`Task ${taskArn}`);
  ctx.out.progress(
    `Logs: ${backup.logGroup}, streams ${backup.containers.dump}/${backup.containers.dump}/${taskId} and ` +
      `${backup.containers.upload}/${backup.containers.upload}/${taskId}`,
  );
  ctx.out.progress('Ctrl-C stops watching only: the dump goes on.');

  let task: Task = started;
  let last = '';
  for (;;) {
    const line = `${task.lastStatus ?? 'PENDING'}  ${containerStates(task)}`;
    if (line !== last) ctx.out.progress(`${when(ctx.now())}  ${line}`);
    last = line;
    if (task.lastStatus === 'STOPPED') break;
    await ctx.sleep(ctx.pollIntervalMs);
    const described = await clients.ecs.send(
      new DescribeTasksCommand({ cluster: manifest.clusterName, tasks: [taskArn] }),
    );
    task = described.tasks?.[0] ?? task;
  }
  const failure = dumpFailure(task, backup.containers);
  if (failure !== undefined) {
    throw new OpsError(`The dump failed, nothing new in ${location}: ${failure} (see the logs above)`);
  }

  // The task says it uploaded: the object must be there, new, non-empty and under the bucket's key.
  let head: HeadObjectCommandOutput;
  try {
    head = await clients.s3.send(new HeadObjectCommand({ Bucket: backup.bucket, Key: key }));
  } catch (error) {
    if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey') {
      throw new OpsError(`The dump task succeeded but ${location} does not exist: see the upload logs`);
    }
    throw error;
  }
  const problems = [
    head.ServerSideEncryption === 'aws:kms'
      ? undefined
      : `encryption is ${head.ServerSideEncryption ?? 'none'}, not aws:kms`,
    head.SSEKMSKeyId === backup.keyArn
      ? undefined
      : `KMS key ${head.SSEKMSKeyId ?? 'none'}, not ${backup.keyArn}`,
    (head.ContentLength ?? 0) > 0 ? undefined : 'it is empty',
    head.LastModified && head.LastModified.getTime() >= startedAt.getTime() - 60_000
      ? undefined
      : `it was last written ${when(head.LastModified)}, before this run`,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new OpsError(`${location} is not this run's dump: ${problems.join('; ')}`);
  const size = head.ContentLength ?? 0;
  return {
    exitCode: EXIT.ok,
    lines: [
      `Dump done: ${location}, ${humanBytes(size)}, SSE-KMS (${backup.keyArn}).`,
      'Restore: see "Restoring from a backup" in the README.',
    ],
    data: {
      location,
      bucket: backup.bucket,
      key,
      bytes: size,
      versionId: head.VersionId ?? null,
      kmsKeyId: head.SSEKMSKeyId ?? null,
      taskArn,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// list

/** One backup of `list`. */
interface BackupEntry {
  readonly kind: 'snapshot (automated)' | 'snapshot (manual)' | 'dump';
  readonly name: string;
  readonly createdAt: string | null;
  readonly size: string;
  readonly status: string;
}

function snapshotEntry(s: DBSnapshot): BackupEntry {
  return {
    kind: s.SnapshotType === 'automated' ? 'snapshot (automated)' : 'snapshot (manual)',
    name: s.DBSnapshotIdentifier ?? '?',
    createdAt: s.SnapshotCreateTime?.toISOString() ?? null,
    size: s.AllocatedStorage === undefined ? '-' : `${s.AllocatedStorage} GiB allocated`,
    status: `${s.Status ?? '?'}${s.Status === 'creating' && s.PercentProgress !== undefined ? ` ${s.PercentProgress}%` : ''}`,
  };
}

function dumpEntry(o: _Object): BackupEntry {
  return {
    kind: 'dump',
    name: o.Key ?? '?',
    createdAt: o.LastModified?.toISOString() ?? null,
    size: humanBytes(o.Size ?? 0),
    // A dump in Glacier must be restored (hours) before it can be read.
    status: o.StorageClass ?? 'STANDARD',
  };
}

/** Pages through a listing, at most `maxPages` (a thousand backups is years of them). */
async function allPages<T>(fetch: (token?: string) => Promise<{ items: T[]; next?: string }>, maxPages = 20) {
  const items: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await fetch(token);
    items.push(...result.items);
    token = result.next;
    if (token === undefined) break;
  }
  return items;
}

/** Snapshots of the instance and dumps in the bucket, newest first. */
export async function backupListCommand(
  ctx: CommandContext,
  options: { readonly limit: number },
): Promise<CommandResult> {
  const database = manifestSection(ctx.manifest, 'database', 'backup list');
  const backup = manifestSection(ctx.manifest, 'backup', 'backup list');
  const { clients } = ctx;
  const [snapshots, dumps] = await Promise.allSettled([
    allPages(async (Marker) => {
      const r = await clients.rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: database.instanceIdentifier,
          Marker,
          MaxRecords: 100,
        }),
      );
      return { items: (r.DBSnapshots ?? []).map(snapshotEntry), next: r.Marker };
    }),
    allPages(async (ContinuationToken) => {
      const r = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: backup.bucket, Prefix: backup.prefix, ContinuationToken }),
      );
      return {
        items: (r.Contents ?? []).filter((o) => o.Key?.endsWith('.sql')).map(dumpEntry),
        next: r.IsTruncated ? r.NextContinuationToken : undefined,
      };
    }),
  ]);
  const errors: string[] = [];
  const value = (what: string, r: PromiseSettledResult<BackupEntry[]>) => {
    if (r.status === 'fulfilled') return r.value;
    errors.push(`${what}: ${describeError(r.reason)}`);
    return [];
  };
  const all = [
    ...value(`snapshots of ${database.instanceIdentifier}`, snapshots),
    ...value(`dumps in s3://${backup.bucket}/${backup.prefix}`, dumps),
  ].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const shown = all.slice(0, options.limit);
  const now = ctx.now();
  const lines = [
    `Backups of ${database.instanceIdentifier} (${ctx.manifest.environment}), newest first` +
      ` (${shown.length} of ${all.length}):`,
  ];
  if (shown.length === 0) lines.push('  none');
  else {
    lines.push(
      ...table(
        [
          ['created', 'kind', 'name', 'size', 'status'],
          ...shown.map((e) => [
            `${when(e.createdAt ?? undefined)} (${ago(e.createdAt ?? undefined, now)})`,
            e.kind,
            e.name,
            e.size,
            e.status,
          ]),
        ],
        '  ',
      ),
    );
  }
  return readResult(lines, errors, { backups: shown, total: all.length, errors });
}

// ---------------------------------------------------------------------------------------------
// Declarations

export const BACKUP_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'backup snapshot',
    summary: 'an RDS manual snapshot now (<instance>-YYYYMMDD-HHMM), waiting until it is available',
    options: { noWait: flag('return once the snapshot is being created'), yes: YES },
    run: backupSnapshotCommand,
  }),
  opsCommand({
    name: 'backup dump',
    summary:
      "the runbook's pg_dump to the backups bucket (db/backup_YYYYMMDD.sql), run in the VPC; waits for it",
    options: { yes: YES },
    run: backupDumpCommand,
  }),
  opsCommand({
    name: 'backup list',
    summary: 'snapshots (automated and manual) and dumps, newest first',
    options: { limit: integer('how many', { min: 1, max: 1000 }).default(20) },
    run: backupListCommand,
  }),
];
