import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicCostReader } from '../../../lambdas/spend-reconcile/anthropic';
import type { CostRange, CostReader } from '../../../lambdas/spend-reconcile/cost-report';
import {
  ProviderAuthError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../../../lambdas/spend-reconcile/errors';
import type { HttpOptions } from '../../../lambdas/spend-reconcile/http';
import { openAiCostReader } from '../../../lambdas/spend-reconcile/openai';
import {
  ANTHROPIC_KEY,
  anthropicCostReport,
  anthropicError,
  type Bill,
  FakeClock,
  LocalApi,
  OPENAI_KEY,
  openAiCosts,
  openAiError,
  pageToken,
  type Responder,
} from './providers';

// November 2026 to date on 2026-11-30: 30 daily buckets.
const RANGE: CostRange = {
  start: new Date('2026-11-01T00:00:00Z'),
  end: new Date('2026-12-01T00:00:00Z'),
};
const NOW = Date.parse('2026-12-01T11:00:00Z');

/** $10.00 a day through November, $2.50 more on the 30th. */
const BILL: Bill = Object.fromEntries(
  Array.from({ length: 30 }, (_, i) => {
    const day = `2026-11-${String(i + 1).padStart(2, '0')}`;
    return [day, i === 29 ? [{ usd: 7.5 }, { usd: 5 }] : [{ usd: 4 }, { usd: 6 }]];
  }),
);

let api: LocalApi;
let clock: FakeClock;

beforeAll(async () => {
  api = await LocalApi.start();
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  clock = new FakeClock(NOW);
  api.clock = () => new Date(clock.now());
});

function http(overrides: Partial<HttpOptions> = {}): HttpOptions {
  return {
    deadline: NOW + 90_000,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    ...overrides,
  };
}

interface Provider {
  readonly name: 'anthropic' | 'openai';
  readonly key: string;
  readonly reader: (options?: { http?: HttpOptions; maxPages?: number }) => CostReader;
  readonly report: (bill: Bill, options?: { pageSize?: number }) => Responder;
  readonly errorBody: (message: string) => unknown;
  /** A 200 body of the right JSON but the wrong shape. */
  readonly wrongShape: unknown;
}

const PROVIDERS: readonly Provider[] = [
  {
    name: 'anthropic',
    key: ANTHROPIC_KEY,
    reader: (o = {}) =>
      anthropicCostReader({}, { baseUrl: api.url, http: o.http ?? http(), maxPages: o.maxPages }),
    report: anthropicCostReport,
    errorBody: (m) => anthropicError('api_error', m),
    // Dollars as a number: the documented amount is a decimal string of cents.
    wrongShape: {
      data: [
        {
          starting_at: '2026-11-01T00:00:00Z',
          ending_at: '2026-11-02T00:00:00Z',
          results: [{ amount: 10, currency: 'USD' }],
        },
      ],
      has_more: false,
      next_page: null,
    },
  },
  {
    name: 'openai',
    key: OPENAI_KEY,
    reader: (o = {}) =>
      openAiCostReader({}, { baseUrl: api.url, http: o.http ?? http(), maxPages: o.maxPages }),
    report: openAiCosts,
    errorBody: (m) => openAiError(m, 'server_error'),
    // The generated reference's `result` (singular) with usage objects, not the API's cost results.
    wrongShape: {
      object: 'page',
      data: [{ object: 'bucket', start_time: 1, end_time: 2, result: [] }],
      has_more: false,
      next_page: null,
    },
  },
];

describe.each(PROVIDERS)('$name cost report client', (p) => {
  it('follows every page (3 here) and sums the month per UTC day in dollars', async () => {
    api.respond(p.report(BILL, { pageSize: 12 }));

    const costs = await p.reader()(p.key, RANGE);

    expect(api.requests).toHaveLength(3);
    expect(costs.pages).toBe(3);
    expect(costs.byDay.size).toBe(30);
    expect(costs.byDay.get('2026-11-01')).toBeCloseTo(10, 9);
    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(12.5, 9);
    expect([...costs.byDay.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(302.5, 6);
  });

  it("passes each page's next_page as the next request's page", async () => {
    api.respond(p.report(BILL, { pageSize: 12 }));

    await p.reader()(p.key, RANGE);

    expect(api.requests.map((r) => r.query.get('page'))).toEqual([
      null,
      pageToken(Date.parse('2026-11-13T00:00:00Z')),
      pageToken(Date.parse('2026-11-25T00:00:00Z')),
    ]);
  });

  it("keeps the provider's clock from the Date header", async () => {
    api.respond(p.report(BILL));

    const costs = await p.reader()(p.key, RANGE);

    expect(costs.providerDate?.toISOString()).toBe(new Date(NOW).toISOString());
  });

  it('waits what a 429 says in retry-after, then reads the report', async () => {
    api.script(
      [{ status: 429, headers: { 'retry-after': '7' }, body: p.errorBody('Rate limited') }],
      p.report(BILL),
    );

    const costs = await p.reader()(p.key, RANGE);

    expect(clock.sleeps).toEqual([7_000]);
    expect(api.requests).toHaveLength(2);
    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(12.5, 9);
  });

  it('honours a retry-after given as an HTTP date', async () => {
    const at = new Date(NOW + 4_000).toUTCString();
    api.script(
      [{ status: 429, headers: { 'retry-after': at }, body: p.errorBody('Rate limited') }],
      p.report(BILL),
    );

    await p.reader()(p.key, RANGE);

    expect(clock.sleeps).toEqual([4_000]);
  });

  it('gives up at once, without waiting, when retry-after asks for more than it waits', async () => {
    api.script(
      [{ status: 429, headers: { 'retry-after': '600' }, body: p.errorBody('Rate limited') }],
      p.report(BILL),
    );

    const error = await p
      .reader()(p.key, RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toMatch(/retry after 600 s, more than the 30 s/);
    expect(clock.sleeps).toEqual([]);
    expect(api.requests).toHaveLength(1);
  });

  it('retries a 5xx with backoff, then reads the report', async () => {
    api.script([{ status: 500, body: p.errorBody('Internal server error') }], p.report(BILL));

    const costs = await p.reader()(p.key, RANGE);

    // Full jitter of the first backoff cap (500 ms) at random 0.5.
    expect(clock.sleeps).toEqual([250]);
    expect(costs.byDay.size).toBe(30);
  });

  it('retries a dropped connection, then reads the report', async () => {
    api.script(['drop'], p.report(BILL));

    const costs = await p.reader()(p.key, RANGE);

    expect(api.requests).toHaveLength(2);
    expect(costs.byDay.size).toBe(30);
  });

  it('stops after 4 attempts of 5xx with ProviderUnavailableError', async () => {
    api.respond(() => ({ status: 503, body: p.errorBody('Service unavailable') }));

    const error = await p
      .reader()(p.key, RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('after 4 attempts: HTTP 503');
    expect(api.requests).toHaveLength(4);
    expect(clock.sleeps).toEqual([250, 500, 1_000]);
  });

  it('stops before the deadline rather than waiting past it', async () => {
    api.respond(() => ({ status: 502, body: p.errorBody('Bad gateway') }));

    const error = await p
      .reader({ http: http({ deadline: NOW + 600 }) })(p.key, RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('after the deadline');
    expect(api.requests.length).toBeLessThan(4);
  });

  it('reports a refused key (401) as ProviderAuthError, once, without the key in the message', async () => {
    api.respond(p.report(BILL));

    const error = await p
      .reader()('sk-admin-wrong-key-value', RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toContain('HTTP 401');
    expect((error as Error).message).not.toContain('wrong-key-value');
    expect(api.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('reports a 403 as ProviderAuthError too, never retried', async () => {
    api.respond(() => ({ status: 403, body: p.errorBody('This key may not read costs') }));

    await expect(p.reader()(p.key, RANGE)).rejects.toBeInstanceOf(ProviderAuthError);
    expect(api.requests).toHaveLength(1);
  });

  it('reports another 4xx as ProviderRequestError, never retried', async () => {
    api.respond(() => ({ status: 400, body: p.errorBody('invalid parameter') }));

    await expect(p.reader()(p.key, RANGE)).rejects.toBeInstanceOf(ProviderRequestError);
    expect(api.requests).toHaveLength(1);
  });

  it('reports a body that is not JSON as ProviderResponseError, never retried', async () => {
    api.respond(() => ({ status: 200, body: '<html>Gateway page</html>' }));

    const error = await p
      .reader()(p.key, RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderResponseError);
    expect((error as Error).message).toContain('not JSON');
    expect(api.requests).toHaveLength(1);
  });

  it('reports JSON of the wrong shape as ProviderResponseError naming the field', async () => {
    api.respond(() => ({ status: 200, body: p.wrongShape }));

    const error = await p
      .reader()(p.key, RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderResponseError);
    expect((error as Error).message).toMatch(
      /not the documented shape: data\.0\.(results\.0\.amount|results)/,
    );
  });

  it('refuses a page that says has_more without a next_page', async () => {
    const page = p.report(BILL, { pageSize: 5 });
    api.respond((request, n) => {
      const reply = page(request, n) as { status: number; body: Record<string, unknown> };
      return { status: 200, body: { ...reply.body, next_page: null } };
    });

    await expect(p.reader()(p.key, RANGE)).rejects.toThrow(/has_more but gives no next_page/);
  });

  it('stops paging at the page cap', async () => {
    api.respond(p.report(BILL, { pageSize: 1 }));

    const error = await p
      .reader({ maxPages: 5 })(p.key, RANGE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderResponseError);
    expect((error as Error).message).toContain('more than 5 pages');
    expect(api.requests).toHaveLength(5);
  });
});

describe('the Anthropic request and amounts', () => {
  const reader = (workspaceIds?: string[]) =>
    anthropicCostReader({ workspaceIds }, { baseUrl: api.url, http: http() });

  it('sends the admin key, the API version and the documented query', async () => {
    api.respond(anthropicCostReport(BILL));

    await reader()(ANTHROPIC_KEY, RANGE);

    const [request] = api.requests;
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe('/v1/organizations/cost_report');
    expect(request?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(Object.fromEntries(request?.query ?? [])).toEqual({
      starting_at: '2026-11-01T00:00:00.000Z',
      ending_at: '2026-12-01T00:00:00.000Z',
      bucket_width: '1d',
      limit: '30',
    });
  });

  it('reads amounts as decimal strings of cents: "12345.6" is $123.456', async () => {
    api.respond(() => ({
      status: 200,
      body: {
        data: [
          {
            starting_at: '2026-11-30T00:00:00Z',
            ending_at: '2026-12-01T00:00:00Z',
            results: [
              { currency: 'USD', amount: '12345.6', workspace_id: null },
              { currency: 'USD', amount: '0.4', workspace_id: null },
            ],
          },
        ],
        has_more: false,
        next_page: null,
      },
    }));

    const costs = await reader()(ANTHROPIC_KEY, RANGE);

    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(123.46, 9);
  });

  it('counts only the configured workspaces, grouping by workspace_id ("default" is the default one)', async () => {
    api.respond(
      anthropicCostReport({
        '2026-11-30': [
          { usd: 3, workspace: 'wrkspc_01Prod' },
          { usd: 2 },
          { usd: 100, workspace: 'wrkspc_01Other' },
        ],
      }),
    );

    const costs = await reader(['wrkspc_01Prod', 'default'])(ANTHROPIC_KEY, RANGE);

    expect(api.requests[0]?.query.getAll('group_by[]')).toEqual(['workspace_id']);
    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(5, 9);
  });

  it('refuses a bill in another currency', async () => {
    api.respond(() => ({
      status: 200,
      body: {
        data: [
          {
            starting_at: '2026-11-30T00:00:00Z',
            ending_at: '2026-12-01T00:00:00Z',
            results: [{ currency: 'EUR', amount: '100' }],
          },
        ],
        has_more: false,
        next_page: null,
      },
    }));

    await expect(reader()(ANTHROPIC_KEY, RANGE)).rejects.toThrow(/bills in EUR, not USD/);
  });

  it('refuses a bucket that is not one UTC day', async () => {
    api.respond(() => ({
      status: 200,
      body: {
        data: [{ starting_at: '2026-11-30T05:00:00Z', ending_at: '2026-12-01T05:00:00Z', results: [] }],
        has_more: false,
        next_page: null,
      },
    }));

    await expect(reader()(ANTHROPIC_KEY, RANGE)).rejects.toThrow(/is not one UTC day/);
  });

  it('leaves out a bucket beyond the range (an end read inclusively)', async () => {
    const bucket = (from: string, to: string, amount: string) => ({
      starting_at: from,
      ending_at: to,
      results: [{ currency: 'USD', amount }],
    });
    api.respond(() => ({
      status: 200,
      body: {
        data: [
          bucket('2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z', '100'),
          bucket('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', '5000'),
        ],
        has_more: false,
        next_page: null,
      },
    }));

    const costs = await reader()(ANTHROPIC_KEY, RANGE);

    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(1, 9);
    expect(costs.byDay.has('2026-12-01')).toBe(false);
  });

  it('refuses a day whose credits exceed its spend (a negative total)', async () => {
    api.respond(anthropicCostReport({ '2026-11-30': [{ usd: 1 }, { usd: -3 }] }));

    await expect(reader()(ANTHROPIC_KEY, RANGE)).rejects.toThrow(/negative total for 2026-11-30/);
  });
});

describe('the OpenAI request and amounts', () => {
  const reader = (projectIds?: string[]) =>
    openAiCostReader({ projectIds }, { baseUrl: api.url, http: http() });

  it('sends the admin key as a bearer token and the documented query in Unix seconds', async () => {
    api.respond(openAiCosts(BILL));

    await reader()(OPENAI_KEY, RANGE);

    const [request] = api.requests;
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe('/v1/organization/costs');
    expect(request?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(Object.fromEntries(request?.query ?? [])).toEqual({
      start_time: String(Date.parse('2026-11-01T00:00:00Z') / 1000),
      end_time: String(Date.parse('2026-12-01T00:00:00Z') / 1000),
      bucket_width: '1d',
      limit: '30',
    });
  });

  it('reads amount.value as dollars: 0.06 is six cents', async () => {
    api.respond(openAiCosts({ '2026-11-30': [{ usd: 0.06 }, { usd: 1.5 }] }));

    const costs = await reader()(OPENAI_KEY, RANGE);

    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(1.56, 9);
  });

  it('asks for the configured projects only (project_ids repeated) and checks them grouped by project_id', async () => {
    api.respond(
      openAiCosts({
        '2026-11-30': [
          { usd: 2, project: 'proj_prod' },
          { usd: 1, project: 'proj_batch' },
          { usd: 40, project: 'proj_other' },
        ],
      }),
    );

    const costs = await reader(['proj_prod', 'proj_batch'])(OPENAI_KEY, RANGE);

    expect(api.requests[0]?.query.getAll('project_ids')).toEqual(['proj_prod', 'proj_batch']);
    expect(api.requests[0]?.query.getAll('group_by')).toEqual(['project_id']);
    expect(costs.byDay.get('2026-11-30')).toBeCloseTo(3, 9);
  });

  it('refuses a bill in another currency', async () => {
    api.respond(() => ({
      status: 200,
      body: {
        object: 'page',
        data: [
          {
            object: 'bucket',
            start_time: Date.parse('2026-11-30T00:00:00Z') / 1000,
            end_time: Date.parse('2026-12-01T00:00:00Z') / 1000,
            results: [{ object: 'organization.costs.result', amount: { value: 3, currency: 'eur' } }],
          },
        ],
        has_more: false,
        next_page: null,
      },
    }));

    await expect(reader()(OPENAI_KEY, RANGE)).rejects.toThrow(/bill in eur, not USD/);
  });
});
