/**
 * What `ops diagnose` concludes, as pure functions of what it read: the conditions met (each
 * named like the alarm that watches it, with that alarm's severity) and, from them, the runbook
 * sections to follow, by one decision table.
 */

import { evaluateServices, evaluateTargets, type Outcome, percent } from '../../../core/health/checks';
import type { ServiceRef, TargetGroupRef } from '../../../core/health/config';
import { RUNBOOK as HEALTH_RUNBOOK } from '../../../core/health/report';
import { COLOURS, type Colour, type LastShift } from '../../../core/traffic';
import type { Severity } from '../../constructs/alert-topics';
import { LOG_PATTERNS, logPatternAlarmId, RUNBOOK } from '../../constructs/runbook';
import { when } from '../output';
import type {
  CacheGroup,
  CacheMemory,
  Connections,
  DatabaseInstance,
  FiringAlarm,
  PatternCount,
  Services,
  Targets,
  Traffic,
} from './sources';

/** How much a condition matters: an alarm severity, or a note (seen, but below any alarm). */
export type Level = Severity | 'note';
const LEVELS: readonly Level[] = ['P0', 'P1', 'P2', 'P3', 'note'];

/** Something the diagnosis found. */
export interface Condition {
  /** The id of the alarm that watches it (its name without the prefix), or of the finding. */
  readonly id: string;
  readonly level: Level;
  /** What was seen, against what. */
  readonly summary: string;
  readonly colour?: Colour;
}

/** Whether a condition is at P1 or worse (the command's exit code). */
export function isP1OrWorse(condition: Condition): boolean {
  return condition.level === 'P0' || condition.level === 'P1';
}

/** The limits the conditions are judged by: the alarms' and the health check's. */
export interface Limits {
  /** Above this error rate: P1 (the runbook's "high error rate > 10%"). */
  readonly errorRateHigh: number;
  /** Above this: elevated (P2, expected result < 1%). */
  readonly errorRateMax: number;
  readonly p95MaxSeconds: number;
  /** The db-connections-high alarm's threshold; undefined when not known. */
  readonly dbConnectionsThreshold?: number;
  readonly cacheMemoryMaxPercent?: number;
  /** Severity of each alarm by id. */
  readonly alarmSeverities?: Readonly<Record<string, Severity>>;
}

/**
 * What the diagnosis read, each source on its own. Conditions compare as the alarms do
 * (strictly above the threshold; log patterns at or above it).
 */
export interface Readings {
  readonly traffic: Outcome<Traffic>;
  readonly services: Outcome<Services>;
  readonly targets: Readonly<Record<Colour, Outcome<Targets>>>;
  readonly database: Outcome<DatabaseInstance>;
  readonly connections: Outcome<Connections>;
  readonly cache: Outcome<CacheGroup>;
  readonly cacheMemory: Outcome<CacheMemory>;
  readonly alarms: Outcome<readonly FiringAlarm[]>;
  readonly patterns: Outcome<readonly PatternCount[]>;
  readonly lastShift?: Outcome<LastShift | null>;
}

const value = <T>(o: Outcome<T>): T | undefined => (o.ok ? o.value : undefined);
const seconds = (s: number) => `${Number(s.toFixed(2))} s`;
// Statuses of a database that serves queries (a backup runs on a live instance).
const DB_SERVING = new Set([
  'available',
  'backing-up',
  'configuring-enhanced-monitoring',
  'storage-optimization',
]);

/** What the readings are of: the services and target groups, and the window's start. */
export interface Scope {
  readonly services: readonly ServiceRef[];
  readonly targetGroups: readonly TargetGroupRef[];
  /** A shift that ended after this is recent. */
  readonly since?: Date;
}

/** Every condition the readings show (an unavailable source shows none). */
export function findConditions(readings: Readings, limits: Limits, refs: Scope): Condition[] {
  const since = refs.since;
  const found: Condition[] = [];
  const add = (c: Condition) => found.push(c);

  const traffic = value(readings.traffic);
  if (traffic) {
    for (const colour of COLOURS) {
      const f = traffic.colours[colour];
      if (f.errorRate !== null && f.errorRate > limits.errorRateHigh) {
        add({
          id: 'error-rate-high',
          level: 'P1',
          colour,
          summary: `${colour}: error rate ${percent(f.errorRate)} > ${percent(limits.errorRateHigh)} (${f.errors} 5xx of ${f.requests} requests in ${traffic.window.label})`,
        });
      } else if (f.errorRate !== null && f.errorRate > limits.errorRateMax) {
        add({
          id: `${colour}-error-rate`,
          level: 'P2',
          colour,
          summary: `${colour}: error rate ${percent(f.errorRate)}, expected < ${percent(limits.errorRateMax)}`,
        });
      }
      if (f.p95Seconds !== null && f.p95Seconds > limits.p95MaxSeconds) {
        add({
          id: 'latency-p95',
          level: 'P1',
          colour,
          summary: `${colour}: P95 ${seconds(f.p95Seconds)}, expected < ${seconds(limits.p95MaxSeconds)} (slow responses)`,
        });
      }
    }
    const lb = traffic.loadBalancer;
    // The load balancer's own 5xx (no healthy target) belong to no colour.
    if (
      lb.errorRate !== null &&
      lb.errorRate > limits.errorRateHigh &&
      !found.some((c) => c.id === 'error-rate-high')
    ) {
      add({
        id: 'error-rate-high',
        level: 'P1',
        summary: `load balancer: error rate ${percent(lb.errorRate)} > ${percent(limits.errorRateHigh)} (target and ELB 5xx)`,
      });
    }
  }

  // Services and targets by the health check's own rules, so that `ops health` and the
  // scheduled check never disagree with diagnose.
  const servicesCheck = evaluateServices(
    refs.services,
    readings.services.ok ? { ok: true, value: readings.services.value.described } : readings.services,
  );
  if (servicesCheck.status === 'FAIL') {
    add({
      id: servicesCheck.severity === 'P0' ? 'services-down' : 'services-degraded',
      level: servicesCheck.severity ?? 'P1',
      summary: `services: ${servicesCheck.figure} (${servicesCheck.detail})`,
    });
  }
  const targetsCheck = evaluateTargets(
    refs.targetGroups.map((ref) => {
      const o = readings.targets[ref.colour];
      return { ref, outcome: o.ok ? { ok: true as const, value: o.value.descriptions } : o };
    }),
  );
  if (targetsCheck.status === 'FAIL') {
    add({
      // Named as the P0 alarm that watches the same.
      id: targetsCheck.severity === 'P0' ? 'zero-healthy-targets' : 'targets-unhealthy',
      level: targetsCheck.severity ?? 'P2',
      summary: `targets: ${targetsCheck.figure} (${targetsCheck.detail})`,
    });
  }
  for (const colour of COLOURS) {
    const s = value(readings.services)?.byColour[colour];
    if (s?.rolloutState === 'FAILED') {
      add({
        id: `${colour}-rollout-failed`,
        level: 'P2',
        colour,
        summary: `${colour}: deployment FAILED: ${s.rolloutStateReason ?? 'no reason given'}`,
      });
    }
  }

  const db = value(readings.database);
  if (db && !DB_SERVING.has(db.status)) {
    add({ id: 'database-status', level: 'P1', summary: `database ${db.id} is ${db.status}` });
  }
  const cache = value(readings.cache);
  if (cache && cache.status !== 'available') {
    add({ id: 'cache-status', level: 'P2', summary: `cache ${cache.id} is ${cache.status}` });
  }
  // The newest figure against its alarm's threshold; without either there is nothing to judge.
  const overThreshold: ReadonlyArray<{
    readonly id: string;
    readonly level: Level;
    readonly figure: number | null | undefined;
    readonly limit: number | undefined;
    readonly summary: (figure: number, limit: number) => string;
  }> = [
    {
      id: 'db-connections-high',
      level: 'P1',
      figure: value(readings.connections)?.latest,
      limit: limits.dbConnectionsThreshold,
      summary: (figure, limit) => `database connections ${figure} > ${limit} (the alarm's threshold)`,
    },
    {
      id: 'cache-memory-high',
      level: 'P2',
      figure: value(readings.cacheMemory)?.latestPercent,
      limit: limits.cacheMemoryMaxPercent,
      summary: (figure, limit) => `cache memory ${Number(figure.toFixed(1))}% > ${limit}%`,
    },
  ];
  for (const { id, level, figure, limit, summary } of overThreshold) {
    if (figure != null && limit !== undefined && figure > limit)
      add({ id, level, summary: summary(figure, limit) });
  }

  for (const p of value(readings.patterns) ?? []) {
    if (p.total === 0) continue;
    const catalogued = LOG_PATTERNS.find((l) => l.metric === p.metric);
    const breached = p.peak >= p.threshold;
    add({
      id: logPatternAlarmId(p.metric),
      level: breached && catalogued ? catalogued.severity : 'note',
      summary:
        `${p.total} ${p.total === 1 ? 'line' : 'lines'} matching ${p.pattern} (blue ${p.byColour.blue}, green ${p.byColour.green}); ` +
        `peak ${p.peak} per ${p.periodMinutes} min, alarm at ${p.threshold}`,
    });
  }

  for (const alarm of value(readings.alarms) ?? []) {
    const severity = limits.alarmSeverities?.[alarm.id];
    add({
      id: alarm.id,
      level: severity ?? 'note',
      summary: `alarm ${alarm.name} in ALARM${severity ? '' : ' (severity unknown)'}`,
    });
  }
  const shift = readings.lastShift ? value(readings.lastShift) : undefined;
  const shiftEnded = shift ? Date.parse(shift.completedAt ?? shift.startedAt) : Number.NaN;
  const failing = found.find((c) => c.colour === shift?.to && isP1OrWorse(c));
  if (shift && failing && since && shiftEnded >= since.getTime() && shift.status !== 'rolled-back') {
    add({
      id: 'shifted-to-failing-colour',
      level: 'P1',
      colour: shift.to,
      summary: `the last shift moved traffic to ${shift.to} (${shift.status} ${when(shift.completedAt ?? shift.startedAt)}), and ${failing.summary}`,
    });
  }
  return found.sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level));
}

// ---------------------------------------------------------------------------------------------
// The decision table

/** One row: the conditions it applies to, the section to follow and what to do there. */
interface Row {
  readonly when: ReadonlyArray<string | RegExp>;
  readonly section: string;
  readonly action: string;
}

const errorTable = (pattern: string) => `${RUNBOOK.errorRate} > Common Patterns: "${pattern}"`;

/**
 * Rows in the order the runbook would have on-call look (an outage first, then the error
 * table's causes before their symptom, the error rate); among the rows that apply, the one of
 * the most severe condition is followed first.
 */
export const DECISION_TABLE: readonly Row[] = [
  {
    when: ['p0', 'zero-healthy-targets', '5xx-storm', 'services-down'],
    section: RUNBOOK.outage,
    action:
      'After a recent deployment or shift, roll back now: npm run ops -- rollback. Otherwise check the ECS services and the task logs.',
  },
  {
    when: ['shifted-to-failing-colour'],
    section: `${RUNBOOK.outage} > Immediate Actions: 3. If recent deployment, rollback immediately`,
    action: 'Roll back the shift to the weights from before it: npm run ops -- rollback --reason "..."',
  },
  {
    when: ['log-db-pool-exhausted', 'db-connections-high'],
    section: RUNBOOK.pool,
    action:
      'Restart the tasks of the affected colour to reset their connections (force a new deployment), then tune the pool size.',
  },
  {
    when: ['database-status'],
    section: `${RUNBOOK.errorRate} > Diagnostic Steps: 3. Check external dependencies (Database connectivity)`,
    action:
      'The database is not serving: see its events in the RDS console; the application fails until it is back.',
  },
  {
    when: ['log-connection-timeout'],
    section: errorTable('Connection timeout'),
    action:
      'Database/Redis issue: check the connection pool (database connections below), restart if needed.',
  },
  {
    when: ['log-rate-limited'],
    section: errorTable('429 Too Many Requests'),
    action: `API rate limit: exponential backoff, request a limit increase; when model calls drive it, see ${RUNBOOK.costs}.`,
  },
  {
    when: ['log-vector-search-failed'],
    section: errorTable('Vector search failed'),
    action: 'pgvector issue: check the HNSW index health, rebuild it if needed.',
  },
  {
    when: ['log-fact-check-failed'],
    section: RUNBOOK.hallucination,
    action: 'Hallucination detected: review the guardrail thresholds, check source data quality.',
  },
  {
    when: ['error-rate-high', 'error-rate-elevated', /^(blue|green)-error-rate$/, 'log-error-logs'],
    section: RUNBOOK.errorRate,
    action:
      'Read the ERROR lines below; a colour that turned bad after a shift: npm run ops -- rollback. Check the Anthropic and OpenAI API status.',
  },
  {
    when: ['latency-p95', 'latency-p99', /^(blue|green)-latency-p95$/],
    section: RUNBOOK.latency,
    action: 'Slow responses: check the database and cache below, then the query caching and model routing.',
  },
  {
    when: [/^(blue|green)-(cpu|memory)-high$/],
    section: RUNBOOK.resources,
    action: 'Resource exhaustion: scale up the task count.',
  },
  {
    when: ['services-degraded', /^(blue|green)-rollout-failed$/],
    section: HEALTH_RUNBOOK.degraded,
    action: "Tasks not running as desired: read the service events and the stopped tasks' reasons.",
  },
  {
    when: ['targets-unhealthy', /^(blue|green)-unhealthy-targets$/],
    section: HEALTH_RUNBOOK.unhealthyTargets,
    action: 'Targets failing their health checks: read the task logs of the colour.',
  },
  {
    when: ['cache-memory-high', 'cache-status', /^batch-/],
    section: RUNBOOK.batchSlow,
    action: 'Check the embedding cache (memory, evictions) and the batch run.',
  },
  { when: [/^cost-/], section: RUNBOOK.costs, action: 'Check the model distribution and token usage.' },
  {
    when: [/./],
    section: RUNBOOK.partial,
    action: 'Isolate the affected component and read its logs.',
  },
];

/** A section to follow and why. */
export interface NextStep {
  readonly section: string;
  readonly action: string;
  readonly level: Level;
  readonly because: readonly Condition[];
}

const matches = (row: Row, id: string) =>
  row.when.some((w) => (typeof w === 'string' ? w === id : w.test(id)));

/** The sections to follow, the first one first; none when nothing was found. */
export function nextSteps(conditions: readonly Condition[]): NextStep[] {
  const taken = new Set<Condition>();
  const steps: Array<NextStep & { readonly order: number }> = [];
  DECISION_TABLE.forEach((row, order) => {
    const because = conditions.filter((c) => !taken.has(c) && matches(row, c.id));
    if (because.length === 0) return;
    for (const c of because) taken.add(c);
    const level = LEVELS[Math.min(...because.map((c) => LEVELS.indexOf(c.level)))] ?? 'note';
    steps.push({ section: row.section, action: row.action, level, because, order });
  });
  return steps
    .sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || a.order - b.order)
    .map(({ order: _, ...step }) => step);
}
