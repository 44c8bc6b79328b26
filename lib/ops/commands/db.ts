/**
 * `db`, `db queries|indexes|tables|hnsw` and `db maintain`: the runbook's database checks and
 * the weekly maintenance, run by Lambdas in the VPC (the operator needs no network path to the
 * database). The reports are fixed SQL in lambdas/db-inspect; the command line only picks them.
 */

import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { isTransientError } from '@smithy/core/retry';
import {
  DEFAULT_INSPECT_LIMIT,
  type HnswIndexState,
  type InspectReportName,
  type InspectRequest,
  type InspectResult,
  MAX_INSPECT_LIMIT,
  type QueryStat,
  type ReportOutcome,
  type TableStat,
  type UnusedIndex,
} from '../../../core/db/inspect';
import {
  MAINTENANCE_TABLES,
  type MaintenanceResult,
  type MaintenanceTask,
} from '../../../core/db/maintenance';
import { integer } from '../../cli/args';
import { confirmChange, YES } from '../confirm';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT, OpsError, RefusedError } from '../errors';
import { manifestSection } from '../manifest';
import { type CommandResult, table, when } from '../output';

/** A Lambda invocation that returned an error (FunctionError): its type and message. */
export class FunctionFailedError extends OpsError {}

/** Invokes `functionName` synchronously with `payload`; the parsed result, or FunctionFailedError. */
async function invoke<T>(
  ctx: CommandContext,
  functionName: string,
  payload: unknown,
  lambda: LambdaClient = ctx.clients.lambda,
): Promise<T> {
  const response: InvokeCommandOutput = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    throw new OpsError(`${functionName} returned a response that is not JSON: ${text.slice(0, 200)}`);
  }
  if (response.FunctionError) {
    const e = (body ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    const type = String(e.errorType ?? response.FunctionError);
    throw new FunctionFailedError(`${functionName} failed: ${type}: ${String(e.errorMessage ?? text)}`);
  }
  return body as T;
}

// ---------------------------------------------------------------------------------------------
// Reports

const REPORT_TITLES: Readonly<Record<InspectReportName, string>> = {
  queries: 'Slowest statements (pg_stat_statements, mean time)',
  'unused-indexes': 'Unused indexes (never scanned; constraint indexes left out)',
  tables: 'Tables, largest first, with dead tuples (bloat)',
  hnsw: 'HNSW index',
};

/** One line of a statement's text, at most `max` characters. */
function oneLine(text: string, max = 100): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));

function reportLines(name: InspectReportName, outcome: ReportOutcome<unknown>): string[] {
  if (outcome.status === 'unavailable') return [`  UNAVAILABLE: ${outcome.reason}`];
  if (outcome.status === 'failed') {
    return [`  FAILED: ${outcome.error}${outcome.code ? ` (SQLSTATE ${outcome.code})` : ''}`];
  }
  if (outcome.rows.length === 0) return ['  none'];
  switch (name) {
    case 'queries':
      return table(
        [
          ['mean ms', 'calls', 'total ms', 'rows', 'query'],
          ...(outcome.rows as QueryStat[]).map((q) => [
            ms(q.meanExecTimeMs),
            String(q.calls),
            ms(q.totalExecTimeMs),
            String(q.rows),
            oneLine(q.query),
          ]),
        ],
        '  ',
      );
    case 'unused-indexes':
      return table(
        [
          ['index', 'table', 'size', 'definition'],
          ...(outcome.rows as UnusedIndex[]).map((i) => [
            i.index,
            `${i.schema}.${i.table}`,
            i.size,
            oneLine(i.definition, 120),
          ]),
        ],
        '  ',
      );
    case 'tables':
      return table(
        [
          ['table', 'size', 'live', 'dead', 'dead %', 'last vacuum', 'last autovacuum'],
          ...(outcome.rows as TableStat[]).map((t) => [
            t.table,
            t.totalSize,
            String(t.liveTuples),
            String(t.deadTuples),
            (t.deadRatio * 100).toFixed(1),
            when(t.lastVacuum ?? undefined),
            when(t.lastAutovacuum ?? undefined),
          ]),
        ],
        '  ',
      );
    case 'hnsw':
      return (outcome.rows as HnswIndexState[]).flatMap((h) => [
        `  ${h.definition}`,
        ...table(
          [
            ['valid', h.valid ? 'yes' : 'NO: redeploy the stateful stack (the migration runner rebuilds it)'],
            ['size', h.size],
            [
              'parameters',
              Object.entries(h.parameters)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ') || '(defaults)',
            ],
            ['scans', h.scans === null ? '-' : String(h.scans)],
            ['rows (estimate)', h.tableRowsEstimate < 0 ? 'not analyzed yet' : String(h.tableRowsEstimate)],
            [
              'last build',
              h.lastBuild
                ? `${h.lastBuild.action} ${when(h.lastBuild.builtAt)} (${h.lastBuild.parameters})`
                : '-',
            ],
          ],
          '    ',
        ),
      ]);
  }
}

/** Runs `reports` in the inspection Lambda and prints them; exit 0 only when all are ok. */
export async function dbReportCommand(
  ctx: CommandContext,
  reports: readonly InspectReportName[],
  limit: number,
): Promise<CommandResult> {
  const database = manifestSection(ctx.manifest, 'database', 'db');
  const request: InspectRequest = { reports: [...reports], limit };
  const result = await invoke<InspectResult>(ctx, database.inspectFunction, request);
  const lines = [
    `Database ${result.database} (${ctx.manifest.environment}, PostgreSQL ${result.serverVersion}) at ${when(result.at)}` +
      `; usage statistics since ${result.statsSince ? when(result.statsSince) : 'the instance started'}`,
  ];
  let allOk = true;
  for (const name of reports) {
    const outcome = result.reports[name] as ReportOutcome<unknown> | undefined;
    lines.push('', `${REPORT_TITLES[name]}${name === 'hnsw' ? '' : `, at most ${result.limit}`}:`);
    if (outcome === undefined) {
      allOk = false;
      lines.push('  MISSING from the response (a db-inspect Lambda of another version?)');
      continue;
    }
    if (outcome.status !== 'ok') allOk = false;
    lines.push(...reportLines(name, outcome));
  }
  return { exitCode: allOk ? EXIT.ok : EXIT.failed, lines, data: result };
}

// ---------------------------------------------------------------------------------------------
// Maintenance

/** Lambda's answer when the function's reserved concurrency (1) is taken: a run is in progress. */
function concurrencyTaken(error: unknown): boolean {
  const e = error as { name?: unknown; Reason?: unknown };
  return (
    e.name === 'TooManyRequestsException' && e.Reason === 'ReservedFunctionConcurrentInvocationLimitExceeded'
  );
}

/** Runs the weekly maintenance now, the Lambda the Sunday schedule invokes, and waits for it. */
export async function dbMaintainCommand(ctx: CommandContext, options: { readonly yes: boolean }) {
  const database = manifestSection(ctx.manifest, 'database', 'db maintain');
  const task: MaintenanceTask = 'weekly';
  await confirmChange(
    ctx,
    [
      `This runs the weekly maintenance of fa_ai_db in ${ctx.manifest.environment} now, as the Sunday 03:00 schedule does:`,
      `  VACUUM (ANALYZE) and REINDEX TABLE CONCURRENTLY of ${MAINTENANCE_TABLES.join(', ')}, then table sizes.`,
      '  Readers and writers carry on (SHARE UPDATE EXCLUSIVE locks); the database works harder for up to 15 minutes.',
      '  Avoid it while the weekly batch runs.',
      `  Lambda ${database.maintenanceFunction}, event {"task":"${task}"}.`,
    ],
    options.yes,
  );
  ctx.out.progress('Running (up to 15 minutes). Ctrl-C stops waiting only: the maintenance goes on.');
  let result: MaintenanceResult;
  try {
    result = await invoke<MaintenanceResult>(
      ctx,
      database.maintenanceFunction,
      { task },
      // One attempt (lib/ops/clients.ts): a run is not idempotent within its timeout.
      ctx.clients.lambdaOnce,
    );
  } catch (error) {
    if (concurrencyTaken(error)) {
      throw new RefusedError(
        'A maintenance run is in progress (the function runs one at a time): nothing started; try again when it ends',
      );
    }
    // A timeout or a dropped connection after the request went out: the run may be going on.
    if (error instanceof OpsError || !isTransientError(error as Parameters<typeof isTransientError>[0]))
      throw error;
    const name = (error as { name?: unknown }).name;
    throw new OpsError(
      `Lost the invocation of ${database.maintenanceFunction} (${String(name)}: ${(error as Error).message}); ` +
        'the maintenance may still be running: see its log group',
      { cause: error },
    );
  }
  if (result.task !== 'weekly') throw new OpsError(`Unexpected result of ${database.maintenanceFunction}`);
  const report = result.report;
  const lines = [
    `Weekly maintenance done (${ctx.manifest.environment}).`,
    `Vacuumed and analyzed: ${report.vacuumed.join(', ') || 'none'}`,
    `Reindexed concurrently: ${report.reindexed.join(', ') || 'none'}`,
    ...(report.droppedInvalidIndexes.length > 0
      ? [`Dropped invalid leftovers of an interrupted reindex: ${report.droppedInvalidIndexes.join(', ')}`]
      : []),
    '',
    'Table sizes:',
    ...table(
      report.tableSizes.map((t) => [t.table, t.size]),
      '  ',
    ),
  ];
  return { exitCode: EXIT.ok, lines, data: result };
}

// ---------------------------------------------------------------------------------------------
// Declarations

const limit = integer('rows per report', { min: 1, max: MAX_INSPECT_LIMIT }).default(DEFAULT_INSPECT_LIMIT);

export const DB_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'db',
    summary: 'the runbook database checks: slow statements, unused indexes, bloat, the HNSW index',
    description:
      'Runs fixed, read-only reports in the db-inspect Lambda (in the VPC): no network path to the database and no ' +
      'SQL on the command line. Exit 0 only when every report ran.',
    options: { limit },
    run: (ctx, o) => dbReportCommand(ctx, ['queries', 'unused-indexes', 'tables', 'hnsw'], o.limit),
  }),
  opsCommand({
    name: 'db queries',
    summary: "the runbook's pg_stat_statements query: slowest statements by mean time",
    options: { limit },
    run: (ctx, o) => dbReportCommand(ctx, ['queries'], o.limit),
  }),
  opsCommand({
    name: 'db indexes',
    summary: 'indexes never scanned since the statistics reset (constraint indexes left out)',
    options: { limit },
    run: (ctx, o) => dbReportCommand(ctx, ['unused-indexes'], o.limit),
  }),
  opsCommand({
    name: 'db tables',
    summary: "the runbook's bloat check: table sizes, live and dead tuples, last vacuum",
    options: { limit },
    run: (ctx, o) => dbReportCommand(ctx, ['tables'], o.limit),
  }),
  opsCommand({
    name: 'db hnsw',
    summary: 'the HNSW index of bluematrix_reports: definition, parameters, size, last build',
    options: {},
    run: (ctx) => dbReportCommand(ctx, ['hnsw'], DEFAULT_INSPECT_LIMIT),
  }),
  opsCommand({
    name: 'db maintain',
    summary: 'run the weekly maintenance now (VACUUM ANALYZE, REINDEX CONCURRENTLY) and wait for it',
    options: { yes: YES },
    run: dbMaintainCommand,
  }),
];
