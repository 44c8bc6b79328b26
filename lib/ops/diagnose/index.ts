/**
 * `ops diagnose`: the runbook's P1 diagnostic steps at once. Every source is read in parallel
 * and on its own (a source that fails is reported unavailable, the others still count), then
 * the conditions are judged against the thresholds of the deployed alarms and health check
 * (the manifest's) and the runbook sections to follow are chosen by the decision table.
 */

import { ALARM_ENTRIES } from '../../../core/alarms/catalogue';
import type { Outcome } from '../../../core/health/checks';
import { settle } from '../../../core/health/checks';
import { metricWindow } from '../../../core/health/metrics';
import { METRIC_WINDOWS } from '../../../core/health/run';
import { type AuditRecord, listAudit } from '../../../core/ops-table/items';
import { COLOURS, type Colour, type LastShift, readLastShift } from '../../../core/traffic';
import type { OpsClients } from '../clients';
import { healthConfigOf } from '../commands/status';
import { type OpsManifest, serviceStackName } from '../manifest';
import {
  type Condition,
  findConditions,
  isP1OrWorse,
  type Limits,
  type NextStep,
  nextSteps,
  type Readings,
} from './conditions';
import type { QueryOptions } from './insights';
import {
  type LogLine,
  readCache,
  readCacheMemory,
  readConnections,
  readDatabase,
  readErrorSample,
  readFiringAlarms,
  readPatternCounts,
  readServices,
  readTargets,
  readTraffic,
} from './sources';

export type { Condition, NextStep } from './conditions';

/** The clients diagnose reads with (it changes nothing). */
export type DiagnoseClients = Pick<
  OpsClients,
  'cloudwatch' | 'logs' | 'rds' | 'elasticache' | 'ecs' | 'elbv2' | 'ddb'
>;

/** How far back and how patiently diagnose looks. */
export interface DiagnoseOptions {
  readonly now: Date;
  /** How far back the log lines, the pattern counts and the actions go. */
  readonly sinceSeconds: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Between two polls of a Logs Insights query. @default 1000 */
  readonly insightsPollMs?: number;
  /** A Logs Insights query still running after this long is stopped. @default 60000 */
  readonly insightsMaxWaitMs?: number;
  /** ERROR lines shown per colour. @default 20 */
  readonly sampleLimit?: number;
  /** Audit entries shown. @default 10 */
  readonly auditLimit?: number;
}

/** Minutes of DatabaseConnections read: the db-connections-high alarm's evaluation periods. */
const CONNECTION_MINUTES = 5;

/** Everything diagnose read and concluded (the --json document). */
export interface Diagnosis {
  readonly environment: string;
  readonly at: string;
  readonly since: string;
  readonly limits: Limits;
  readonly readings: Readings & {
    readonly samples: Readonly<Record<Colour, Outcome<LogLine[]>>>;
    readonly lastShift: Outcome<LastShift | null>;
    readonly audit: Outcome<AuditRecord[]>;
  };
  readonly conditions: readonly Condition[];
  readonly steps: readonly NextStep[];
  /** Whether any condition is at P1 or worse. */
  readonly p1: boolean;
  /** Each source that could not be read, with why. */
  readonly unavailable: readonly string[];
}

/** The limits of `manifest`: the health check's thresholds and those of the alarms. */
export function limitsOf(manifest: OpsManifest): Limits {
  const { thresholds } = healthConfigOf(manifest);
  return {
    errorRateHigh: thresholds.errorRateHigh,
    errorRateMax: thresholds.errorRateMax,
    p95MaxSeconds: thresholds.p95MaxSeconds,
    dbConnectionsThreshold: manifest.diagnose?.database.connectionsThreshold,
    cacheMemoryMaxPercent: manifest.diagnose?.cache.memoryMaxPercent,
    alarmSeverities: Object.fromEntries(ALARM_ENTRIES.map(([id, entry]) => [id, entry.severity])),
  };
}

/** Reads every source of `manifest`'s environment and judges what it found. */
export async function diagnose(
  clients: DiagnoseClients,
  manifest: OpsManifest,
  options: DiagnoseOptions,
): Promise<Diagnosis> {
  const { now } = options;
  const since = new Date(now.getTime() - options.sinceSeconds * 1000);
  const window = { start: since, end: now };
  const query: QueryOptions = {
    sleep: options.sleep,
    pollIntervalMs: options.insightsPollMs ?? 1000,
    maxWaitMs: options.insightsMaxWaitMs ?? 60_000,
  };
  const d = manifest.diagnose;
  // A stack deployed before diagnose existed: what only the new section names is unavailable.
  const needsSection = <T>(read: (section: NonNullable<OpsManifest['diagnose']>) => Promise<T>) =>
    d === undefined
      ? Promise.reject(
          new Error(
            `the OpsManifest of ${serviceStackName(manifest.environment)} predates ops diagnose: redeploy the service stack`,
          ),
        )
      : read(d);
  const health = healthConfigOf(manifest);
  const { minutes, label } = METRIC_WINDOWS.light;

  const cache = needsSection((s) => readCache(clients.elasticache, s.cache.replicationGroupId));
  const [
    traffic,
    services,
    blueTargets,
    greenTargets,
    database,
    connections,
    cacheGroup,
    cacheMemory,
    alarms,
    patterns,
    blueSample,
    greenSample,
    lastShift,
    audit,
  ] = await Promise.all([
    settle(
      readTraffic(
        clients.cloudwatch,
        manifest.loadBalancerFullName,
        health.targetGroups,
        metricWindow(now, minutes, label),
      ),
    ),
    settle(readServices(clients.ecs, manifest.clusterName, manifest.services)),
    settle(readTargets(clients.elbv2, manifest.targetGroups.blue.arn)),
    settle(readTargets(clients.elbv2, manifest.targetGroups.green.arn)),
    settle(needsSection((s) => readDatabase(clients.rds, s.database.instanceId))),
    settle(
      needsSection((s) =>
        readConnections(clients.cloudwatch, s.database.instanceId, now, CONNECTION_MINUTES),
      ),
    ),
    settle(cache),
    settle(cache.then((group) => readCacheMemory(clients.cloudwatch, group.members, now))),
    settle(needsSection((s) => readFiringAlarms(clients.cloudwatch, s.alarmPrefix))),
    settle(needsSection((s) => readPatternCounts(clients.logs, s.logGroups, window, query))),
    settle(
      needsSection((s) =>
        readErrorSample(clients.logs, s.logGroups.blue, window, options.sampleLimit ?? 20, query),
      ),
    ),
    settle(
      needsSection((s) =>
        readErrorSample(clients.logs, s.logGroups.green, window, options.sampleLimit ?? 20, query),
      ),
    ),
    settle(readLastShift(clients.ddb, manifest.opsTable).then((s) => s ?? null)),
    settle(listAudit(clients.ddb, manifest.opsTable, { limit: options.auditLimit ?? 10, since })),
  ]);

  const readings = {
    traffic,
    services,
    targets: { blue: blueTargets, green: greenTargets },
    database,
    connections,
    cache: cacheGroup,
    cacheMemory,
    alarms,
    patterns,
    samples: { blue: blueSample, green: greenSample },
    lastShift,
    audit,
  };
  const limits = limitsOf(manifest);
  const conditions = findConditions(readings, limits, {
    services: health.services,
    targetGroups: health.targetGroups,
    since,
  });
  const sources: Array<[string, Outcome<unknown>]> = [
    ['traffic metrics', traffic],
    ['ECS services', services],
    ...COLOURS.map((c): [string, Outcome<unknown>] => [`${c} target health`, readings.targets[c]]),
    ['database', database],
    ['database connections', connections],
    ['cache', cacheGroup],
    ['cache memory', cacheMemory],
    ['alarms', alarms],
    ['error-table pattern counts', patterns],
    ...COLOURS.map((c): [string, Outcome<unknown>] => [`${c} ERROR lines`, readings.samples[c]]),
    ['last shift', lastShift],
    ['audit trail', audit],
  ];
  return {
    environment: manifest.environment,
    at: now.toISOString(),
    since: since.toISOString(),
    limits,
    readings,
    conditions,
    steps: nextSteps(conditions),
    p1: conditions.some(isP1OrWorse),
    unavailable: sources.flatMap(([name, o]) => (o.ok ? [] : [`${name}: ${o.error}`])),
  };
}
