/**
 * `ops cost`: the Monthly Cost Review against CloudWatch GetMetricData, Budgets DescribeBudget /
 * DescribeBudgetPerformanceHistory and Cost Explorer GetCostAndUsage answering in their
 * documented shapes; the budget figures are checked against the spend guard's own reading.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeBudgetCommand, DescribeBudgetPerformanceHistoryCommand } from '@aws-sdk/client-budgets';
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { beforeEach, describe, expect, it } from 'vitest';
import { readSpend } from '../../core/spend/read';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { spendCheckOf } from '../../lib/ops/commands/batch';
import { isoWeek } from '../../lib/ops/commands/cost-report';
import { awsError } from '../helpers/aws';
import { checkSentAgainst } from '../iam/declared-calls';
import { cliClients, cliMocks, MANIFEST, resetCli, runOps } from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['--env', 'prod'];
const NOW = new Date('2026-11-25T04:12:35.000Z');

/** Daily values by metric key (`LlmCostUsd/<Component>/<Model>/<stat>`, `QueryCount/<tier>`, `BatchStocksProcessed`). */
type Data = Record<string, ReadonlyArray<readonly [string, number]>>;

function keyOf(q: MetricDataQuery): string {
  const m = q.MetricStat?.Metric;
  const dim = (name: string) => m?.Dimensions?.find((d) => d.Name === name)?.Value;
  if (m?.MetricName === 'LlmCostUsd')
    return `LlmCostUsd/${dim('Component')}/${dim('Model')}/${q.MetricStat?.Stat}`;
  if (m?.MetricName === 'QueryCount') return `QueryCount/${dim('Tier')}`;
  return String(m?.MetricName);
}

/** GetMetricData answering every query from `data` (no datapoints for a key it lacks). */
function serveMetrics(data: Data): void {
  cliMocks.cloudwatch
    .on(GetMetricDataCommand)
    .callsFake((input: { MetricDataQueries?: MetricDataQuery[] }) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const points = data[keyOf(q)] ?? [];
        return {
          Id: q.Id,
          Label: q.MetricStat?.Metric?.MetricName,
          StatusCode: 'Complete',
          Timestamps: points.map(([day]) => new Date(`${day}T00:00:00.000Z`)),
          Values: points.map(([, v]) => v),
        };
      }),
      Messages: [],
    }));
}

/** A day of LLM calls of one series: Sum, SampleCount, Minimum, Maximum as a day of `calls` equal calls. */
function llmDay(component: string, model: string, day: string, usd: number, calls: number): Data {
  return {
    [`LlmCostUsd/${component}/${model}/Sum`]: [[day, usd]],
    [`LlmCostUsd/${component}/${model}/SampleCount`]: [[day, calls]],
    [`LlmCostUsd/${component}/${model}/Minimum`]: [[day, usd / calls]],
    [`LlmCostUsd/${component}/${model}/Maximum`]: [[day, usd / calls]],
  };
}

const AWS_ACTUAL: Record<string, string> = {
  'fa-ai-system-prod-batch': '12.5',
  'fa-ai-system-prod-interactive': '30.25',
  'fa-ai-system-prod-infrastructure': '140.0',
  'fa-ai-system-prod-monthly': '182.75',
};

function serveBudgets(): void {
  cliMocks.budgets.on(DescribeBudgetCommand).callsFake((input: { BudgetName: string }) => ({
    Budget: {
      BudgetName: input.BudgetName,
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: '2000.0', Unit: 'USD' },
      CalculatedSpend: { ActualSpend: { Amount: AWS_ACTUAL[input.BudgetName], Unit: 'USD' } },
    },
  }));
}

/** GetCostAndUsage, one MONTHLY result grouped by SERVICE (Estimated while the month runs). */
const COST_AND_USAGE = {
  GroupDefinitions: [{ Type: 'DIMENSION' as const, Key: 'SERVICE' }],
  ResultsByTime: [
    {
      TimePeriod: { Start: '2026-11-01', End: '2026-11-26' },
      Total: {},
      Groups: [
        {
          Keys: ['Amazon Relational Database Service'],
          Metrics: { UnblendedCost: { Amount: '61.2034', Unit: 'USD' } },
        },
        {
          Keys: ['Amazon Elastic Container Service'],
          Metrics: { UnblendedCost: { Amount: '28.9', Unit: 'USD' } },
        },
      ],
      Estimated: true,
    },
  ],
  DimensionValueAttributes: [],
};

const MONTH_DATA: Data = {
  ...llmDay('batch', 'sonnet', '2026-11-01', 231, 6000),
  ...llmDay('interactive', 'haiku', '2026-11-10', 154, 9000),
  'QueryCount/hook': [['2026-11-10', 1500]],
  'QueryCount/medium': [['2026-11-10', 500]],
  BatchStocksProcessed: [['2026-11-01', 600]],
};

beforeEach(async () => {
  await resetCli();
  serveMetrics(MONTH_DATA);
  serveBudgets();
  cliMocks.costExplorer.on(GetCostAndUsageCommand).resolves(COST_AND_USAGE);
});

describe('ops cost', () => {
  it("shows each budget against its limit by the spend guard's own figures, LLM and AWS apart", async () => {
    const run = await runOps(['cost', ...PROD, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = JSON.parse(run.stdout);
    const guard = await readSpend(
      cliClients(),
      spendCheckOf(MANIFEST) as NonNullable<ReturnType<typeof spendCheckOf>>,
      {
        at: NOW,
      },
    );
    for (const id of ['batch', 'interactive', 'infrastructure', 'total'] as const) {
      expect(data.reading.budgets[id].spentUsd, id).toBe(guard.budgets[id].spentUsd);
    }
    // total = LLM 231 + 154 + AWS 182.75.
    expect(data.reading.budgets.total.spentUsd).toBe(567.75);
    const text = (await runOps(['cost', ...PROD])).stdout;
    expect(text).toMatch(/total\s+\$567\.75\s+\$2,000\.00\s+28\.4%\s+\$385\.00\s+\$182\.75/);
  });

  it('gives cost per stock and per query by ISO week, and the Sonnet vs Haiku share', async () => {
    const data = JSON.parse((await runOps(['cost', ...PROD, '--json'])).stdout);
    const week = (w: string) => data.weeks.find((x: { week: string }) => x.week === w);
    // 2026-11-01 is a Sunday: the last day of ISO week 44, alone in this month.
    expect(week('2026-W44')).toMatchObject({ days: 1, batchUsd: 231, stocks: 600, costPerStockUsd: 0.385 });
    expect(week('2026-W46')).toMatchObject({ interactiveUsd: 154, queries: 2000, costPerQueryUsd: 0.077 });
    expect(data.weeks.map((w: { week: string }) => w.week)).toEqual([
      '2026-W44',
      '2026-W45',
      '2026-W46',
      '2026-W47',
      '2026-W48',
    ]);
    expect(data.modelShare).toEqual({ sonnetUsd: 231, haikuUsd: 154, sonnetPercent: 60, haikuPercent: 40 });
  });

  it('lists the biggest drivers: LLM series and AWS services (Cost Explorer by SERVICE, tag Environment)', async () => {
    const data = JSON.parse((await runOps(['cost', ...PROD, '--json'])).stdout);
    expect(data.drivers.map((d: { name: string; usd: number }) => [d.name, d.usd])).toEqual([
      ['LLM batch anthropic/sonnet', 231],
      ['LLM interactive anthropic/haiku', 154],
      ['Amazon Relational Database Service', 61.2],
      ['Amazon Elastic Container Service', 28.9],
    ]);
    const sent = cliMocks.costExplorer.commandCalls(GetCostAndUsageCommand)[0]?.args[0].input;
    expect(sent?.TimePeriod).toEqual({ Start: '2026-11-01', End: '2026-11-26' });
    expect(sent?.Filter?.Tags).toMatchObject({ Key: 'Environment', Values: ['prod'] });
  });

  it('reads an ended month (--month last) with AWS spend from Budgets history, at the month boundary', async () => {
    cliMocks.budgets
      .on(DescribeBudgetPerformanceHistoryCommand)
      .callsFake((input: { BudgetName: string }) => ({
        BudgetPerformanceHistory: {
          BudgetName: input.BudgetName,
          BudgetType: 'COST',
          TimeUnit: 'MONTHLY',
          BudgetedAndActualAmountsList: [
            {
              BudgetedAmount: { Amount: '2000.0', Unit: 'USD' },
              ActualAmount: { Amount: AWS_ACTUAL[input.BudgetName], Unit: 'USD' },
              TimePeriod: { Start: new Date('2026-11-01T00:00:00Z'), End: new Date('2026-12-01T00:00:00Z') },
            },
          ],
        },
      }));
    // Ten minutes into December (UTC): "last" is November, whatever the local time zone.
    const run = await runOps(['cost', ...PROD, '--month', 'last', '--json'], {
      now: () => new Date('2026-12-01T00:10:00.000Z'),
    });
    expect(run.code, run.stderr).toBe(0);
    const data = JSON.parse(run.stdout);
    expect(data.month).toBe('2026-11');
    expect(data.reading.budgets.total.spentUsd).toBe(567.75);
    expect(cliMocks.budgets.commandCalls(DescribeBudgetCommand)).toHaveLength(0);
    // The whole month: 2026-11-30 (a Monday) opens ISO week 49, one day of it in November.
    expect(data.weeks.map((w: { week: string; days: number }) => `${w.week}:${w.days}`)).toEqual([
      '2026-W44:1',
      '2026-W45:7',
      '2026-W46:7',
      '2026-W47:7',
      '2026-W48:7',
      '2026-W49:1',
    ]);
  });

  it('reports an empty month plainly: zero spend, no share, no per-stock figure', async () => {
    serveMetrics({});
    cliMocks.costExplorer.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [] });
    const run = await runOps(['cost', ...PROD]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Model usage (Anthropic spend): none this month');
    expect(run.stdout).toMatch(/2026-W48\s+3\s+\$0\.00\s+0\s+-/);
  });

  it('retries throttling, and names a source still unreadable (exit 3) while showing the rest', async () => {
    cliMocks.costExplorer
      .on(GetCostAndUsageCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves(COST_AND_USAGE);
    expect((await runOps(['cost', ...PROD])).code).toBe(0);

    cliMocks.costExplorer
      .on(GetCostAndUsageCommand)
      .rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const run = await runOps(['cost', ...PROD]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('AWS spend by service (Cost Explorer GetCostAndUsage): ');
    expect(run.stdout).toMatch(/total\s+\$567\.75/);
  });

  it('sums AWS services over every Cost Explorer page, and gives up (unavailable) past five pages', async () => {
    cliMocks.costExplorer
      .on(GetCostAndUsageCommand)
      .resolvesOnce({ ...COST_AND_USAGE, NextPageToken: 'page-2' })
      .resolves(COST_AND_USAGE);
    const paged = JSON.parse((await runOps(['cost', ...PROD, '--json'])).stdout);
    expect(
      paged.drivers.find((d: { name: string }) => d.name === 'Amazon Elastic Container Service')?.usd,
    ).toBe(57.8);
    const tokens = cliMocks.costExplorer.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input);
    expect(tokens.map((input) => input.NextPageToken)).toEqual([undefined, 'page-2']);

    cliMocks.costExplorer.on(GetCostAndUsageCommand).resolves({ ...COST_AND_USAGE, NextPageToken: 'more' });
    const endless = await runOps(['cost', ...PROD]);
    expect(endless.code).toBe(3);
    expect(endless.stdout).toContain('GetCostAndUsage still had more data after 5 pages');
  });

  it('shows a budget as a lower bound when Budgets cannot be read (partial data)', async () => {
    cliMocks.budgets
      .on(DescribeBudgetCommand, { BudgetName: 'fa-ai-system-prod-monthly' })
      .rejects(awsError('AccessDeniedException', 'not authorized', 403));
    const run = await runOps(['cost', ...PROD]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/total\s+>= \$385\.00\s+\$2,000\.00\s+19\.3%\s+\$385\.00\s+UNKNOWN/);
    expect(run.stdout).toContain('AWS unknown: DescribeBudget failed');
  });

  it('writes the review as CSV with --csv', async () => {
    const file = join(tmpdir(), `ops-cost-${process.pid}-${Date.now()}.csv`);
    const run = await runOps(['cost', ...PROD, '--csv', file]);
    expect(run.code, run.stderr).toBe(0);
    const lines = (await readFile(file, 'utf8')).split('\r\n');
    expect(lines[0]).toBe('month,section,item,usd,limit_usd,percent,count,detail');
    expect(lines).toContain('2026-11,budget,total,567.75,2000,28.39,,complete');
    expect(lines).toContain('2026-11,week batch,2026-W44,231,,,600,per stock 0.385');
    expect(lines).toContain('2026-11,model,sonnet,231,,60,,share of Anthropic spend');
  });

  it('refuses an unknown option or month, naming it (exit 2), before any AWS call', async () => {
    const unknown = await runOps(['cost', ...PROD, '--monthh', 'last']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--monthh');
    const bad = await runOps(['cost', ...PROD, '--month', 'previous']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--month.*this.*last/s);
    expect(cliMocks.costExplorer.calls()).toHaveLength(0);
  });
});

describe('isoWeek', () => {
  it('numbers weeks from Monday, a week belonging to the year of its Thursday', () => {
    expect(isoWeek('2026-01-01')).toBe('2026-W01');
    expect(isoWeek('2027-01-01')).toBe('2026-W53');
    expect(isoWeek('2026-11-02')).toBe('2026-W45');
    expect(isoWeek('2026-11-01')).toBe('2026-W44');
  });
});
