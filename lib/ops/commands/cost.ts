/** `cost`: the runbook's Monthly Cost Review (1st of Month), `--csv` its export. */

import { writeFile } from 'node:fs/promises';
import { describeBudgetSpend, money } from '../../../core/spend/read';
import { choice, text } from '../../cli/args';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT, OpsError } from '../errors';
import { type CommandResult, table } from '../output';
import { spendCheckOf } from './batch';
import { type CostReport, costReport, reviewMonth } from './cost-report';

/** Exit code when a source could not be read: the figures shown are lower bounds. */
export const COST_INCOMPLETE_EXIT = 3;

/** Runs the review of `--month` and writes `--csv` when asked. */
export async function costCommand(
  ctx: CommandContext,
  command: { readonly month: 'this' | 'last'; readonly csv?: string },
): Promise<CommandResult> {
  const spend = spendCheckOf(ctx.manifest);
  if (spend === undefined) {
    throw new OpsError(
      'The stack has no spend guard settings in its manifest (deployed before the spend guard): deploy it first',
    );
  }
  const now = ctx.now();
  const report = await costReport(ctx.clients, spend, {
    now,
    month: reviewMonth(command.month, now),
  });
  const lines = formatCostReport(report, ctx.region);
  if (command.csv !== undefined) {
    await writeFile(command.csv, costCsv(report));
    lines.push('', `CSV written to ${command.csv}`);
  }
  const exitCode = report.unavailable.length > 0 ? COST_INCOMPLETE_EXIT : EXIT.ok;
  return { exitCode, lines, data: { ...report, region: ctx.region, exitCode } };
}

const usdOrDash = (value: number | null, digits = 2) => (value === null ? '-' : `$${value.toFixed(digits)}`);

/** The review as text. */
export function formatCostReport(r: CostReport, region: string): string[] {
  const lines = [`Cost review: ${r.environment} (${region}), budget month ${r.month} (UTC), up to ${r.at}`];
  lines.push('', 'Spend by budget (LLM and AWS apart):');
  lines.push(
    ...table(
      [
        ['budget', 'spent', 'limit', '%', 'LLM', 'AWS'],
        ...Object.values(r.reading.budgets).map((b) => {
          const part = (aws: boolean) => {
            const parts = b.parts.filter((p) => p.label.startsWith('AWS') === aws);
            if (parts.length === 0) return '-';
            if (parts.some((p) => !p.known)) return 'UNKNOWN';
            return money(parts.reduce((sum, p) => sum + (p.known ? p.usd : 0), 0));
          };
          return [
            b.id,
            `${b.complete ? '' : '>= '}${money(b.spentUsd)}`,
            money(b.limitUsd),
            `${b.percent.toFixed(1)}%`,
            part(false),
            part(true),
          ];
        }),
      ],
      '  ',
    ),
  );
  lines.push('', 'Figures:', ...Object.values(r.reading.budgets).map((b) => `  ${describeBudgetSpend(b)}`));
  lines.push('', 'By ISO week (LLM spend; runbook: cost per stock < $0.40, per query < $0.08):');
  lines.push(
    ...table(
      [
        ['week', 'days', 'batch', 'stocks', 'per stock', 'interactive', 'queries', 'per query'],
        ...r.weeks.map((w) => [
          w.week,
          String(w.days),
          money(w.batchUsd),
          w.stocks === null ? '?' : String(w.stocks),
          usdOrDash(w.costPerStockUsd, 4),
          money(w.interactiveUsd),
          w.queries === null ? '?' : String(w.queries),
          usdOrDash(w.costPerQueryUsd, 4),
        ]),
      ],
      '  ',
    ),
  );
  const share = r.modelShare;
  lines.push(
    '',
    share.sonnetPercent === null
      ? 'Model usage (Anthropic spend): none this month'
      : `Model usage (Anthropic spend; runbook expects Sonnet 60%, Haiku 40%): Sonnet ${share.sonnetPercent}% ` +
          `(${money(share.sonnetUsd)}), Haiku ${share.haikuPercent}% (${money(share.haikuUsd)})`,
  );
  lines.push('', 'Biggest cost drivers:');
  lines.push(
    ...(r.drivers.length === 0
      ? ['  none']
      : table(
          r.drivers.map((d) => [d.kind === 'llm' ? 'LLM' : 'AWS', d.name, money(d.usd)]),
          '  ',
        )),
  );
  if (r.unavailable.length > 0) {
    lines.push('', 'Could not read (figures above are lower bounds):', ...r.unavailable.map((u) => `- ${u}`));
  }
  return lines;
}

/** A CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
function field(value: string | number | null): string {
  const s = value === null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The review as CSV: one row per figure, `section,item,usd,limit_usd,percent,count,detail`. */
export function costCsv(r: CostReport): string {
  const rows: Array<Array<string | number | null>> = [
    ['month', 'section', 'item', 'usd', 'limit_usd', 'percent', 'count', 'detail'],
  ];
  const row = (...cells: Array<string | number | null>) => rows.push([r.month, ...cells]);
  for (const b of Object.values(r.reading.budgets)) {
    row('budget', b.id, b.spentUsd, b.limitUsd, b.percent, null, b.complete ? 'complete' : 'lower bound');
    for (const p of b.parts) {
      row(
        'budget part',
        `${b.id}: ${p.label}`,
        p.known ? p.usd : null,
        null,
        null,
        null,
        p.known ? p.source : `UNKNOWN: ${p.reason}`,
      );
    }
  }
  for (const w of r.weeks) {
    row(
      'week batch',
      w.week,
      w.batchUsd,
      null,
      null,
      w.stocks,
      w.costPerStockUsd === null ? '' : `per stock ${w.costPerStockUsd}`,
    );
    row(
      'week interactive',
      w.week,
      w.interactiveUsd,
      null,
      null,
      w.queries,
      w.costPerQueryUsd === null ? '' : `per query ${w.costPerQueryUsd}`,
    );
  }
  row(
    'model',
    'sonnet',
    r.modelShare.sonnetUsd,
    null,
    r.modelShare.sonnetPercent,
    null,
    'share of Anthropic spend',
  );
  row(
    'model',
    'haiku',
    r.modelShare.haikuUsd,
    null,
    r.modelShare.haikuPercent,
    null,
    'share of Anthropic spend',
  );
  for (const d of r.drivers) row(`driver ${d.kind}`, d.name, d.usd, null, null, null, null);
  for (const u of r.unavailable) row('unavailable', u, null, null, null, null, null);
  return `${rows.map((cells) => cells.map(field).join(',')).join('\r\n')}\r\n`;
}

export const COST_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'cost',
    summary:
      "the runbook's Monthly Cost Review: spend per budget (LLM and AWS apart), weeks, models, drivers",
    description:
      'The month-to-date (or last month) spend per budget against its limit, by the figures the spend guard ' +
      'acts on (LlmCostUsd and AWS Budgets; an ended month from Budgets history), cost per stock and per query ' +
      'by ISO week, the Sonnet vs Haiku share of Anthropic spend, and the biggest cost drivers (LLM by ' +
      'component/provider/model, AWS by service from Cost Explorer, tag Environment; $0.01 a request). ' +
      'Exit codes: 0 every source read, 2 usage, 3 a source could not be read (figures are lower bounds).',
    options: {
      month: choice(['this', 'last'], 'the UTC budget month, as AWS Budgets counts it').default('this'),
      csv: text('also write the review as CSV to this file', '<file>'),
    },
    run: (ctx, o) => costCommand(ctx, { month: o.month, ...(o.csv === undefined ? {} : { csv: o.csv }) }),
  }),
];
