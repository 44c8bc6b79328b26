/**
 * `diagnose`: the runbook's P1 diagnostic steps in one command (lib/ops/diagnose), as a report
 * whose first lines say whether a P1 condition is met and which runbook section to follow.
 */

import { count, type Outcome, percent } from '../../../core/health/checks';
import { COLOURS } from '../../../core/traffic';
import { duration } from '../../cli/args';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { type Diagnosis, diagnose } from '../diagnose';
import type { Level } from '../diagnose/conditions';
import type { TrafficFigures } from '../diagnose/sources';
import { EXIT } from '../errors';
import { ago, type CommandResult, table, when } from '../output';
import { describeLastShift } from './traffic';

/**
 * Exit codes of diagnose: a P1 (or P0) condition is met, or none is but some source could
 * not be read, so that none cannot be claimed.
 */
export const DIAGNOSE_EXIT = { clear: EXIT.ok, p1: EXIT.failed, incomplete: 3 } as const;

/** The exit code of a diagnosis. */
export function exitCodeOf(diagnosis: Diagnosis): number {
  if (diagnosis.p1) return DIAGNOSE_EXIT.p1;
  return diagnosis.unavailable.length > 0 ? DIAGNOSE_EXIT.incomplete : DIAGNOSE_EXIT.clear;
}

const MESSAGE_CHARS = 200;
const seconds = (s: number | null) => (s === null ? '-' : `${Number(s.toFixed(2))} s`);
const rate = (r: number | null) => (r === null ? 'no traffic' : percent(r));
const unavailable = (o: Outcome<unknown>) => (o.ok ? '' : `unavailable: ${o.error}`);

/** The report's text. */
export function formatDiagnosis(d: Diagnosis, region: string, sinceText: string, now: Date): string[] {
  const r = d.readings;
  const lines = [
    `Diagnosis: ${d.environment} (${region}) at ${when(d.at)}; logs and actions since ${when(d.since)} (${sinceText})`,
    '',
  ];
  const serious = d.conditions.filter((c) => c.level === 'P0' || c.level === 'P1');
  if (d.p1) {
    lines.push(`P1 CONDITION MET (${serious.length}):`, ...serious.map((c) => `  ${c.level} ${c.summary}`));
  } else if (d.unavailable.length > 0) {
    lines.push(
      `No P1 condition found, but ${d.unavailable.length} source(s) could not be read: not a clean bill.`,
    );
  } else {
    lines.push('No P1 condition met.');
  }
  const [first, ...rest] = d.steps;
  if (first) {
    lines.push('', `Next: ${first.section}`, `  ${first.action}`);
    lines.push(...first.because.map((c) => `  because ${levelText(c.level)}: ${c.summary}`));
    if (rest.length > 0) {
      lines.push('Then:');
      for (const step of rest) {
        lines.push(`  - ${step.section} (${levelText(step.level)}): ${step.action}`);
        lines.push(...step.because.map((c) => `      ${c.summary}`));
      }
    }
  } else {
    lines.push(
      '',
      'Next: nothing to follow (Daily Operations > Morning Health Check: expected results hold).',
    );
  }

  const l = d.limits;
  lines.push(
    '',
    `Error rate and latency (${r.traffic.ok ? r.traffic.value.window.label : 'last 15 min'}; P1 above ${percent(l.errorRateHigh)} ` +
      `error rate or ${seconds(l.p95MaxSeconds)} P95, expected < ${percent(l.errorRateMax)})`,
  );
  if (!r.traffic.ok) {
    lines.push(`  ${unavailable(r.traffic)}`);
  } else {
    const row = (name: string, f: TrafficFigures) => [
      name,
      count(f.requests),
      count(f.errors),
      rate(f.errorRate),
      seconds(f.p95Seconds),
    ];
    lines.push(
      ...table(
        [
          ['', 'requests', '5xx', 'error rate', 'P95'],
          ...COLOURS.map((c) => row(c, r.traffic.ok ? r.traffic.value.colours[c] : emptyFigures)),
          row('load balancer', r.traffic.value.loadBalancer),
        ],
        '  ',
      ),
    );
  }

  lines.push('', 'Services and targets');
  for (const colour of COLOURS) {
    const s = r.services.ok ? r.services.value.byColour[colour] : undefined;
    const t = r.targets[colour];
    const service = !r.services.ok
      ? unavailable(r.services)
      : s === null || s === undefined
        ? 'service MISSING'
        : `${s.serviceName} ${s.status}, tasks ${s.running}/${s.desired} running (${s.pending} pending), ` +
          `deployment ${s.rolloutState ?? '-'}${s.rolloutState === 'COMPLETED' || !s.rolloutStateReason ? '' : `: ${s.rolloutStateReason}`}`;
    const targets = t.ok
      ? `targets ${t.value.summary.healthy}/${t.value.summary.total} healthy`
      : `targets ${unavailable(t)}`;
    lines.push(`  ${colour}: ${service}; ${targets}`);
    if (t.ok) lines.push(...t.value.summary.problems.map((p) => `    target ${p}`));
  }

  lines.push('', 'Database');
  lines.push(
    r.database.ok
      ? `  ${r.database.value.id}: ${r.database.value.status} (${r.database.value.instanceClass ?? '?'}, PostgreSQL ${r.database.value.engineVersion ?? '?'}, ` +
          `Multi-AZ ${r.database.value.multiAz ? 'yes' : 'no'}${r.database.value.pendingModifications ? ', modifications pending' : ''})`
      : `  ${unavailable(r.database)}`,
  );
  if (r.connections.ok) {
    const c = r.connections.value;
    lines.push(
      `  connections: ${c.latest ?? 'no datapoint'} now, at most ${c.max ?? '-'} in ${c.minutes} min; ` +
        `alarm above ${l.dbConnectionsThreshold ?? '?'}` +
        (l.dbConnectionsThreshold === undefined ? '' : ` (of max_connections)`),
    );
  } else lines.push(`  connections: ${unavailable(r.connections)}`);

  lines.push('', 'Cache');
  lines.push(
    r.cache.ok
      ? `  ${r.cache.value.id}: ${r.cache.value.status} (${r.cache.value.nodeType ?? '?'}, ${r.cache.value.members.length} node(s))`
      : `  ${unavailable(r.cache)}`,
  );
  lines.push(
    r.cacheMemory.ok
      ? `  memory: ${r.cacheMemory.value.latestPercent === null ? 'no datapoint' : `${Number(r.cacheMemory.value.latestPercent.toFixed(1))}%`} ` +
          `(fullest node); alarm above ${l.cacheMemoryMaxPercent ?? '?'}%`
      : `  memory: ${unavailable(r.cacheMemory)}`,
  );

  lines.push('', `Alarms in ALARM${r.alarms.ok ? ` (${r.alarms.value.length})` : ''}`);
  if (!r.alarms.ok) lines.push(`  ${unavailable(r.alarms)}`);
  else if (r.alarms.value.length === 0) lines.push('  none');
  else {
    for (const a of r.alarms.value) {
      const severity = l.alarmSeverities?.[a.id] ?? '?';
      lines.push(`  ${severity} ${a.name} since ${when(a.since)} (${ago(a.since, now)})`);
      if (a.description) lines.push(`     ${a.description}`);
    }
  }

  lines.push('', `Error-table patterns since ${when(d.since)} (blue, green; peak per alarm period)`);
  if (!r.patterns.ok) lines.push(`  ${unavailable(r.patterns)}`);
  else {
    lines.push(
      ...table(
        [
          ['pattern', 'blue', 'green', 'peak', 'alarm at'],
          ...r.patterns.value.map((p) => [
            p.pattern,
            count(p.byColour.blue),
            count(p.byColour.green),
            `${count(p.peak)} / ${p.periodMinutes} min`,
            String(p.threshold),
          ]),
        ],
        '  ',
      ),
    );
  }

  lines.push('', 'Recent ERROR lines (newest first)');
  for (const colour of COLOURS) {
    const sample = r.samples[colour];
    if (!sample.ok) lines.push(`  ${colour}: ${unavailable(sample)}`);
    else if (sample.value.length === 0) lines.push(`  ${colour}: none`);
    else {
      lines.push(`  ${colour}:`);
      for (const line of sample.value) lines.push(`    ${when(line.at)} ${oneLine(line.message)}`);
    }
  }

  lines.push('');
  lines.push(
    ...describeLastShift(
      r.lastShift.ok ? (r.lastShift.value ?? undefined) : undefined,
      r.lastShift.ok ? undefined : r.lastShift.error,
      now,
    ),
  );
  lines.push(`Actions since ${when(d.since)} (audit trail, newest first)`);
  if (!r.audit.ok) lines.push(`  ${unavailable(r.audit)}`);
  else if (r.audit.value.length === 0) lines.push('  none');
  else {
    lines.push(
      ...table(
        [
          ['time', 'source', 'action', 'actor', 'outcome', 'reason'],
          ...r.audit.value.map((e) => [when(e.at), e.source, e.action, e.actor, e.outcome, e.reason]),
        ],
        '  ',
      ),
    );
  }

  if (d.unavailable.length > 0) {
    lines.push('', 'Could not read:', ...d.unavailable.map((u) => `- ${u}`));
  }
  return lines;
}

/** A level as the report writes it: a note is a finding below its alarm's threshold. */
function levelText(level: Level): string {
  return level === 'note' ? 'below alarm' : level;
}

const emptyFigures: TrafficFigures = { requests: 0, errors: 0, errorRate: null, p95Seconds: null };

function oneLine(message: string): string {
  const flat = message.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > MESSAGE_CHARS ? `${flat.slice(0, MESSAGE_CHARS - 1)}…` : flat;
}

/** Runs the diagnosis and reports it; the exit code says whether a P1 condition is met. */
export async function diagnoseCommand(
  ctx: CommandContext,
  command: { readonly sinceSeconds: number; readonly sinceText: string },
): Promise<CommandResult> {
  const now = ctx.now();
  const diagnosis = await diagnose(ctx.clients, ctx.manifest, {
    now,
    sinceSeconds: command.sinceSeconds,
    sleep: ctx.sleep,
  });
  const exitCode = exitCodeOf(diagnosis);
  return {
    exitCode,
    lines: formatDiagnosis(diagnosis, ctx.region, command.sinceText, now),
    data: { ...diagnosis, region: ctx.region, exitCode },
  };
}

const SINCE_DEFAULT_SECONDS = 3600;

export const DIAGNOSE_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'diagnose',
    summary:
      "the runbook's P1 diagnostic steps at once, and the section to follow next (exit 1 on a P1 condition)",
    description:
      'Error rate and P95 per colour against the thresholds, ECS services and targets, the database ' +
      'and cache, alarms in ALARM, the error-table patterns and recent ERROR lines of both colours, ' +
      'the last shift and actions. A source that cannot be read is reported unavailable. Exit codes: ' +
      '0 no P1 condition, 1 a P1 (or P0) condition is met, 2 usage, 3 no P1 condition found but a ' +
      'source could not be read.',
    options: {
      since: duration('how far back the log lines, pattern counts and actions go (30m, 1h, 24h)', {
        units: ['m', 'h'],
        max: { seconds: 86_400, text: '24h' },
      }).default(SINCE_DEFAULT_SECONDS, '1h'),
    },
    run: (ctx, o) => diagnoseCommand(ctx, { sinceSeconds: o.since, sinceText: sinceText(o.since) }),
  }),
];

function sinceText(totalSeconds: number): string {
  return totalSeconds % 3600 === 0 ? `${totalSeconds / 3600}h` : `${Math.round(totalSeconds / 60)}m`;
}
