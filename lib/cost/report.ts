import type { BudgetCheck } from './budgets';
import type { EnvironmentEstimate, LineItem, UnitPrice } from './types';

function usd(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** Unit prices keep their significant digits: per-invocation prices are fractions of a cent. */
export function unitPrice(n: number): string {
  if (n === 0) return '$0';
  if (n >= 0.01) {
    const text = String(Number(n.toPrecision(6)));
    const decimals = text.split('.')[1]?.length ?? 0;
    return `$${decimals >= 2 ? text : n.toFixed(2)}`;
  }
  const decimals = Math.min(20, 2 - Math.floor(Math.log10(n)));
  return `$${n.toFixed(decimals).replace(/0+$/, '')}`;
}

function quantity(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function priceList(prices: readonly UnitPrice[]): string {
  return prices.map((p) => `${unitPrice(p.usd)}/${p.per}`).join('; ');
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, col) =>
        rightAligned.has(col) ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}

/** Logical ids end in a hash; their start tells what they are. */
function shortId(id: string): string {
  return id.length > 48 ? `${id.slice(0, 47)}~` : id;
}

function shortStack(stack: string, envName: string): string {
  return stack.replace(new RegExp(`^.*-${envName}-`), '');
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** A readable report of one environment: fixed lines, usage, unpriced, free and the budget. */
export function formatEnvironment(env: EnvironmentEstimate, budget?: BudgetCheck): string {
  const out: string[] = [];
  const stacks = env.stacks;
  const regions = [...new Set(stacks.map((s) => s.region))].join(', ');
  out.push(`=== ${env.envName} (${regions}): ${stacks.map((s) => s.stackName).join(', ')}`);
  for (const table of new Map(
    stacks.map((s) => [s.priceTable.version + s.priceTable.region, s.priceTable]),
  ).values()) {
    out.push(
      `Prices: ${table.region} table version ${table.version}, ${table.currency}, dated ${table.date}`,
    );
  }
  for (const warning of new Set(stacks.flatMap((s) => s.warnings))) out.push(warning);

  const fixed: LineItem[] = stacks.flatMap((s) => s.fixed).sort((a, b) => b.monthlyUsd - a.monthlyUsd);
  const notes: string[] = [];
  const rows = [['Stack', 'Resource', 'Type', 'What', 'Quantity', 'Unit', 'Unit price', 'USD/month']];
  for (const item of fixed) {
    let mark = '';
    if (item.assumption) {
      let index = notes.indexOf(item.assumption);
      if (index < 0) index = notes.push(item.assumption) - 1;
      mark = ` [${index + 1}]`;
    }
    rows.push([
      shortStack(item.stack, env.envName),
      shortId(item.resource),
      item.type.replace(/^AWS::/, ''),
      item.description + mark,
      quantity(item.quantity),
      item.unit,
      unitPrice(item.unitPriceUsd),
      usd(item.monthlyUsd),
    ]);
  }
  out.push('', 'Fixed monthly cost', ...table(rows, new Set([4, 6, 7])).map((l) => `  ${l}`));
  for (const credit of env.credits) {
    out.push(
      `  Credit: ${credit.description} (${credit.quantity} ${credit.unit}): -$${usd(-credit.monthlyUsd)}`,
    );
  }
  out.push(`  Subtotal fixed: $${usd(env.monthlyFixedUsd)}`);
  if (stacks.length > 1) {
    const subtotals = stacks.map(
      (s) =>
        `${shortStack(s.stackName, env.envName)}${s.component ? ` (Component=${s.component})` : ''} $${usd(s.monthlyFixedUsd)}`,
    );
    out.push(`  By stack: ${subtotals.join('; ')}`);
  }
  if (notes.length > 0) {
    out.push('', 'Line assumptions');
    notes.forEach((note, i) => {
      out.push(`  [${i + 1}] ${note}`);
    });
  }

  out.push('', 'Depends on usage (not in the total)');
  const usage = countBy(
    stacks.flatMap((s) => s.usage),
    (u) => `${u.type.replace(/^AWS::/, '')}: ${u.description}: ${priceList(u.unitPrices)}`,
  );
  for (const [line, count] of usage) out.push(`  ${count > 1 ? `${count} x ` : ''}${line}`);

  const unpriced = stacks.flatMap((s) => s.unpriced);
  out.push(
    '',
    `UNPRICED (NOT in the total): ${unpriced.length === 0 ? 'none' : `${unpriced.length} resource(s)`}`,
  );
  for (const item of unpriced) out.push(`  ${item.type} ${item.resource} (${item.stack}): ${item.reason}`);

  const free = stacks.flatMap((s) => s.free);
  out.push(
    '',
    `Free (${free.length} resources): ${countBy(free, (f) => f.type.replace(/^AWS::/, ''))
      .map(([t, n]) => `${t} x${n}`)
      .join(', ')}`,
  );

  out.push('');
  const floor = unpriced.length > 0 ? ` (at least: ${unpriced.length} unpriced resource(s) missing)` : '';
  if (budget?.budgetUsd === undefined) {
    out.push(`TOTAL fixed ${env.envName}: $${usd(env.monthlyFixedUsd)}/month${floor}; no budget configured`);
  } else {
    const share = Math.round((env.monthlyFixedUsd / budget.budgetUsd) * 100);
    const verdict = budget.withinBudget
      ? `within budget ($${usd(budget.budgetUsd - env.monthlyFixedUsd)} left)`
      : `OVER BUDGET by $${usd(env.monthlyFixedUsd - budget.budgetUsd)}`;
    out.push(
      `TOTAL fixed ${env.envName}: $${usd(env.monthlyFixedUsd)}/month of $${usd(budget.budgetUsd)} budget (${share}%): ${verdict}${floor}`,
    );
  }
  return out.join('\n');
}

/** The report of several environments, with the price source and assumptions once. */
export function formatReport(
  environments: readonly EnvironmentEstimate[],
  checks: readonly BudgetCheck[],
  assumptions: readonly string[],
): string {
  const sources = new Set(environments.flatMap((e) => e.stacks.map((s) => s.priceTable.source)));
  const parts = environments.map((env) =>
    formatEnvironment(
      env,
      checks.find((c) => c.envName === env.envName),
    ),
  );
  return [
    ...parts.flatMap((p) => [p, '']),
    'Price source:',
    ...[...sources].map((s) => `  ${s}`),
    'Assumptions:',
    ...assumptions.map((a) => `  - ${a}`),
  ].join('\n');
}
