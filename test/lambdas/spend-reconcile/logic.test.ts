import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmProvider } from '../../../core/spend/metric';
import { anthropicCostReader } from '../../../lambdas/spend-reconcile/anthropic';
import type { ReconcileConfig } from '../../../lambdas/spend-reconcile/config';
import { AdminKeyNotSetError } from '../../../lambdas/spend-reconcile/errors';
import {
  compare,
  type ProviderOutcome,
  type ReconcileClients,
  reconcile,
} from '../../../lambdas/spend-reconcile/logic';
import { openAiCostReader } from '../../../lambdas/spend-reconcile/openai';
import type { AdminKeys } from '../../../lambdas/spend-reconcile/secrets';
import { awsError } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { cloudwatchMock, llmCost, type Series, serveCloudWatch } from './cloudwatch';
import {
  ANTHROPIC_KEY,
  anthropicCostReport,
  type Bill,
  FakeClock,
  LocalApi,
  OPENAI_KEY,
  openAiCosts,
} from './providers';

const CONFIG: ReconcileConfig = {
  environment: 'prod',
  adminKeySecretArns: {
    anthropic:
      'arn:aws:secretsmanager:us-east-1:222222222222:secret:fa-ai-system/prod/anthropic-admin-key-AbCdEf',
    openai: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:fa-ai-system/prod/openai-admin-key-GhIjKl',
  },
  maxDiscrepancyPercent: 5,
  minDiscrepancyUsd: 1,
  settleHours: 6,
  anthropicWorkspaceIds: [],
  openaiProjectIds: [],
};
const LIMITS = { maxDiscrepancyPercent: 5, minDiscrepancyUsd: 1 };

describe('compare', () => {
  it('matches when both sides are zero', () => {
    expect(compare('day', 'd', 'd', 0, 0, LIMITS)).toMatchObject({ discrepancyPercent: 0, verdict: 'match' });
  });

  it('calls a bill with nothing reported under-reported by 100%: the application stopped publishing', () => {
    expect(compare('day', 'd', 'd', 42, 0, LIMITS)).toMatchObject({
      differenceUsd: 42,
      discrepancyPercent: 100,
      verdict: 'under-reported',
    });
  });

  it('calls reported spend with no bill over-reported by 100%', () => {
    expect(compare('day', 'd', 'd', 0, 12, LIMITS)).toMatchObject({
      discrepancyPercent: -100,
      verdict: 'over-reported',
    });
  });

  it('measures against the larger side: billed 100, reported 80 is 20% under', () => {
    expect(compare('day', 'd', 'd', 100, 80, LIMITS)).toMatchObject({
      differenceUsd: 20,
      discrepancyPercent: 20,
      verdict: 'under-reported',
    });
  });

  it('matches at exactly the configured percentage, counts just beyond it', () => {
    expect(compare('day', 'd', 'd', 100, 95, LIMITS).verdict).toBe('match');
    expect(compare('day', 'd', 'd', 100, 94.9, LIMITS).verdict).toBe('under-reported');
  });

  it('matches a difference under the dollar floor whatever its share', () => {
    expect(compare('day', 'd', 'd', 0.9, 0.1, LIMITS)).toMatchObject({
      discrepancyPercent: 88.89,
      verdict: 'match',
    });
  });

  it('rounds away float noise: 0.1 + 0.2 against 0.3 is an exact match', () => {
    expect(compare('day', 'd', 'd', 0.1 + 0.2, 0.3, { ...LIMITS, minDiscrepancyUsd: 0 })).toMatchObject({
      differenceUsd: 0,
      discrepancyPercent: 0,
    });
  });
});

let anthropicApi: LocalApi;
let openaiApi: LocalApi;
let clock: FakeClock;
let forgotten: LlmProvider[];
const cloudwatch = testClient(CloudWatchClient, { region: 'us-east-1' });

beforeAll(async () => {
  [anthropicApi, openaiApi] = await Promise.all([LocalApi.start(), LocalApi.start()]);
});
afterAll(async () => {
  await Promise.all([anthropicApi.close(), openaiApi.close()]);
});

/** The daily bill of November 2026 through the 30th: $20 a day at Anthropic, $1 at OpenAI. */
function novemberBill(perDay: number): Bill {
  return Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [`2026-11-${String(i + 1).padStart(2, '0')}`, [{ usd: perDay }]]),
  );
}
/** The application's series matching `novemberBill` (scaled by `share`). */
function reportedNovember(provider: LlmProvider, perDay: number, share = 1): Series {
  return llmCost(
    provider,
    Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`2026-11-${String(i + 1).padStart(2, '0')}`, perDay * share]),
    ),
  );
}

function world(options: { anthropic?: Bill; openai?: Bill; series?: Series[]; now?: string } = {}) {
  const now = new Date(options.now ?? '2026-12-01T11:00:00Z');
  clock = new FakeClock(now.getTime());
  anthropicApi.clock = () => new Date(clock.now());
  openaiApi.clock = () => new Date(clock.now());
  anthropicApi.respond(anthropicCostReport(options.anthropic ?? novemberBill(20)));
  openaiApi.respond(openAiCosts(options.openai ?? novemberBill(1)));
  serveCloudWatch(options.series ?? [reportedNovember('anthropic', 20), reportedNovember('openai', 1)]);
  return now;
}

function clients(keys?: Partial<Record<LlmProvider, string | Error>>): ReconcileClients {
  const http = { deadline: clock.now() + 90_000, now: clock.now, sleep: clock.sleep, random: () => 0.5 };
  const values = { anthropic: ANTHROPIC_KEY, openai: OPENAI_KEY, ...keys };
  const adminKeys: AdminKeys = {
    get: async (p) => {
      const v = values[p];
      if (v instanceof Error) throw v;
      return v;
    },
    forget: (p) => forgotten.push(p),
  };
  return {
    cloudwatch,
    keys: adminKeys,
    readers: {
      anthropic: anthropicCostReader({}, { baseUrl: anthropicApi.url, http }),
      openai: openAiCostReader({}, { baseUrl: openaiApi.url, http }),
    },
  };
}

const byProvider = (outcomes: readonly ProviderOutcome[], p: LlmProvider) =>
  outcomes.find((o) => o.provider === p) as ProviderOutcome;

beforeEach(() => {
  forgotten = [];
});

describe('reconcile', () => {
  it('reconciles both providers for the day and the month to date, all matching', async () => {
    const now = world();

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(report).toMatchObject({ environment: 'prod', day: '2026-11-30', monthStart: '2026-11-01' });
    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      status: 'reconciled',
      day: { billedUsd: 20, reportedUsd: 20, verdict: 'match', from: '2026-11-30', to: '2026-11-30' },
      month: { billedUsd: 600, reportedUsd: 600, verdict: 'match', from: '2026-11-01', to: '2026-11-30' },
      underReported: false,
      overReported: false,
      providerClockSkewSeconds: 0,
    });
    expect(byProvider(report.providers, 'openai')).toMatchObject({
      status: 'reconciled',
      month: { billedUsd: 30, reportedUsd: 30 },
    });
  });

  it('finds under-reporting: the application reported 80% of what Anthropic billed', async () => {
    const now = world({ series: [reportedNovember('anthropic', 20, 0.8), reportedNovember('openai', 1)] });

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      day: { differenceUsd: 4, discrepancyPercent: 20, verdict: 'under-reported' },
      month: { differenceUsd: 120, discrepancyPercent: 20, verdict: 'under-reported' },
      underReported: true,
      overReported: false,
    });
    expect(byProvider(report.providers, 'openai')).toMatchObject({ underReported: false });
  });

  it('weighs the month to date on its own: a day left unreported shows there once beyond the share', async () => {
    const series = reportedNovember('anthropic', 20);
    const hidden = { ...series, daily: { ...series.daily, '2026-11-20': 0 } };
    const now = world({ series: [hidden, reportedNovember('openai', 1)] });

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      day: { verdict: 'match' },
      month: { verdict: 'match', differenceUsd: 20 },
    });
    // 20 of 600 is 3.3%: within 5%. The same gap at 2% counts.
    const strict = await reconcile(
      clients(),
      { ...CONFIG, maxDiscrepancyPercent: 2 },
      { day: '2026-11-30', now },
    );
    expect(byProvider(strict.providers, 'anthropic')).toMatchObject({
      month: { verdict: 'under-reported' },
      underReported: true,
    });
  });

  it('on the 1st of a month reconciles the last day of the previous one, with that whole month', async () => {
    const now = world({ now: '2026-12-01T11:00:00Z' });

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(report.monthStart).toBe('2026-11-01');
    const start = anthropicApi.requests[0]?.query;
    expect(start?.get('starting_at')).toBe('2026-11-01T00:00:00.000Z');
    expect(start?.get('ending_at')).toBe('2026-12-01T00:00:00.000Z');
  });

  it('on the 2nd of a month, the month to date is that 1st alone: November does not leak into December', async () => {
    const bill = { ...novemberBill(20), '2026-12-01': [{ usd: 7 }] };
    const series = reportedNovember('anthropic', 20);
    const now = world({
      now: '2026-12-02T11:00:00Z',
      anthropic: bill,
      series: [
        { ...series, daily: { ...series.daily, '2026-12-01': 7 } },
        llmCost('openai', { '2026-12-01': 1 }),
      ],
      openai: { '2026-12-01': [{ usd: 1 }] },
    });

    const report = await reconcile(clients(), CONFIG, { day: '2026-12-01', now });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      day: { billedUsd: 7, reportedUsd: 7 },
      month: { billedUsd: 7, reportedUsd: 7, from: '2026-12-01', to: '2026-12-01' },
    });
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)[0]?.args[0].input.StartTime).toEqual(
      new Date('2026-12-01T00:00:00Z'),
    );
  });

  it('counts a cost published outside the contract (an unknown model) as not reported, as the guard does', async () => {
    // The application moved 40% of its Anthropic spend to a model name the contract does not list.
    const now = world({
      series: [
        reportedNovember('anthropic', 20, 0.6),
        {
          ...reportedNovember('anthropic', 20, 0.4),
          dimensions: { ...reportedNovember('anthropic', 1).dimensions, Model: 'opus' },
        },
        reportedNovember('openai', 1),
      ],
    });

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      day: { billedUsd: 20, reportedUsd: 12, verdict: 'under-reported' },
      underReported: true,
    });
  });

  it("does not reconcile a day that is not final by this function's clock, and reads nothing", async () => {
    const now = world({ now: '2026-12-01T05:00:00Z' });

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    for (const outcome of report.providers) {
      expect(outcome).toMatchObject({ status: 'unknown', reason: 'not-complete' });
      expect(outcome.status === 'unknown' && outcome.detail).toContain(
        'not final until 2026-12-01T06:00:00.000Z',
      );
    }
    expect(anthropicApi.requests).toHaveLength(0);
    expect(openaiApi.requests).toHaveLength(0);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });

  it('does not reconcile a provider whose clock says the day is not over (clock skew), but the other', async () => {
    const now = world();
    // Anthropic's Date header is 7 hours behind ours: there, 30 November is not final yet.
    anthropicApi.clock = () => new Date(clock.now() - 7 * 3_600_000);

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      status: 'unknown',
      reason: 'not-complete',
    });
    expect((byProvider(report.providers, 'anthropic') as { detail: string }).detail).toContain(
      "by anthropic's clock",
    );
    expect(byProvider(report.providers, 'openai')).toMatchObject({ status: 'reconciled' });
  });

  it('reports the skew of a provider clock that is merely a little off', async () => {
    const now = world();
    openaiApi.clock = () => new Date(clock.now() + 90_000);

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(byProvider(report.providers, 'openai')).toMatchObject({ providerClockSkewSeconds: 90 });
  });

  it('still reconciles Anthropic when OpenAI is down, and says why OpenAI is unknown', async () => {
    const now = world();
    openaiApi.respond(() => ({ status: 503, body: { error: { message: 'overloaded' } } }));

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({ status: 'reconciled' });
    const openai = byProvider(report.providers, 'openai');
    expect(openai).toMatchObject({ status: 'unknown', reason: 'bill-unreadable' });
    expect(openai.status === 'unknown' && openai.detail).toMatch(
      /^ProviderUnavailableError: openai unavailable/,
    );
  });

  it('calls both providers unknown when the application figure cannot be read: unknown is never a match', async () => {
    const now = world();
    cloudwatchMock.on(GetMetricDataCommand).rejects(awsError('AccessDeniedException', 'denied'));

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    for (const outcome of report.providers) {
      expect(outcome).toMatchObject({ status: 'unknown', reason: 'reported-unreadable' });
    }
  });

  it('does not call a provider whose admin key is not set, and says so', async () => {
    const now = world();

    const report = await reconcile(
      clients({ openai: new AdminKeyNotSetError('Secret ... does not hold a openai admin key') }),
      CONFIG,
      { day: '2026-11-30', now },
    );

    expect(byProvider(report.providers, 'openai')).toMatchObject({ status: 'unknown', reason: 'admin-key' });
    expect(openaiApi.requests).toHaveLength(0);
    expect(byProvider(report.providers, 'anthropic')).toMatchObject({ status: 'reconciled' });
  });

  it('forgets a refused key so that the next run reads the secret again', async () => {
    const now = world();

    const report = await reconcile(clients({ anthropic: 'sk-ant-admin01-revoked' }), CONFIG, {
      day: '2026-11-30',
      now,
    });

    expect(byProvider(report.providers, 'anthropic')).toMatchObject({
      status: 'unknown',
      reason: 'bill-unreadable',
    });
    expect(forgotten).toEqual(['anthropic']);
  });

  it('reads a garbage bill as unknown, not as zero', async () => {
    const now = world();
    anthropicApi.respond(() => ({ status: 200, body: '{"data": [' }));

    const report = await reconcile(clients(), CONFIG, { day: '2026-11-30', now });

    const anthropic = byProvider(report.providers, 'anthropic');
    expect(anthropic).toMatchObject({ status: 'unknown', reason: 'bill-unreadable' });
    expect(anthropic.status === 'unknown' && anthropic.detail).toContain('ProviderResponseError');
  });
});
