/**
 * The providers' cost report APIs as local HTTP servers (node:http on 127.0.0.1): each serves
 * the documented request and response shapes (see lambdas/spend-reconcile/anthropic.ts and
 * openai.ts for the pages followed), pages through buckets with the providers' own cursor
 * style, and can be scripted to answer 429, 5xx, 401, garbage or a dropped connection.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/** What the server answers: a status with a JSON body (a string is sent as is), or a dropped connection. */
export type Reply =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: unknown }
  | 'drop';

/** Answers one request; `n` counts the requests so far, from 1. */
export type Responder = (request: RecordedRequest, n: number) => Reply;

/** A local HTTP server standing in for a provider's API. */
export class LocalApi {
  readonly requests: RecordedRequest[] = [];
  private responder: Responder = () => ({ status: 404, body: { error: 'no responder' } });
  /** The provider's clock, sent as the `Date` header of every answer. */
  clock: () => Date = () => new Date();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<LocalApi> {
    let api: LocalApi | undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
      };
      (api as LocalApi).answer(request, res);
    });
    api = new LocalApi(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** The base URL the clients are pointed at. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers every later request with `responder`, and forgets the earlier requests. */
  respond(responder: Responder): void {
    this.responder = responder;
    this.requests.length = 0;
  }

  /** Answers the first requests with `first` in turn, then every later one with `then`. */
  script(first: readonly Reply[], then: Responder): void {
    this.respond((request, n) => first[n - 1] ?? then(request, n));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: RecordedRequest, res: ServerResponse): void {
    this.requests.push(request);
    const reply = this.responder(request, this.requests.length);
    if (reply === 'drop') {
      res.socket?.destroy();
      return;
    }
    const body =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      date: this.clock().toUTCString(),
      ...reply.headers,
    });
    res.end(body);
  }
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** One line item of a day's bill. */
export interface LineItem {
  readonly usd: number;
  /** Anthropic: the workspace (undefined: the default workspace). */
  readonly workspace?: string;
  /** OpenAI: the project (undefined: none). */
  readonly project?: string;
}

/** What a provider bills, by UTC day. */
export type Bill = Readonly<Record<string, readonly LineItem[]>>;

/** The providers' cursor style: `page_` and the base64 of the next bucket's start (Anthropic's example). */
export function pageToken(startMs: number): string {
  return `page_${Buffer.from(new Date(startMs).toISOString()).toString('base64')}`;
}

function tokenStart(token: string): number {
  return Date.parse(Buffer.from(token.replace(/^page_/, ''), 'base64').toString('utf8'));
}

/** The day buckets of [start, end) from the cursor on, at most `limit` of them. */
function bucketsOf(start: number, end: number, page: string | null, limit: number) {
  const from = page ? tokenStart(page) : start;
  const starts: number[] = [];
  for (let s = from; s < end && starts.length < limit; s += DAY_MS) starts.push(s);
  const next = (starts.at(-1) ?? from) + DAY_MS;
  return { starts, hasMore: next < end, next };
}

/** An error body in each provider's documented error shape. */
export function anthropicError(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}
export function openAiError(message: string, type = 'invalid_request_error') {
  return { error: { message, type, param: null, code: null } };
}

/**
 * Anthropic's GET /v1/organizations/cost_report over `bill`: `starting_at` / `ending_at`, `limit`
 * buckets a page (at most `pageSize`), `page`, `group_by[]=workspace_id`; amounts as decimal
 * strings in cents. Requests without the admin key answer 401 like the API.
 */
export function anthropicCostReport(
  bill: Bill,
  options: { pageSize?: number; adminKey?: string } = {},
): Responder {
  return (request) => {
    if (request.path !== '/v1/organizations/cost_report') {
      return { status: 404, body: anthropicError('not_found_error', 'Not found') };
    }
    if (request.headers['x-api-key'] !== (options.adminKey ?? ANTHROPIC_KEY)) {
      return { status: 401, body: anthropicError('authentication_error', 'invalid x-api-key') };
    }
    const start = Date.parse(request.query.get('starting_at') ?? '');
    const end = Date.parse(request.query.get('ending_at') ?? '');
    const limit = Math.min(Number(request.query.get('limit') ?? 7), options.pageSize ?? 31);
    const byWorkspace = request.query.getAll('group_by[]').includes('workspace_id');
    const { starts, hasMore, next } = bucketsOf(start, end, request.query.get('page'), limit);
    return {
      status: 200,
      body: {
        data: starts.map((s) => ({
          starting_at: new Date(s).toISOString().replace('.000Z', 'Z'),
          ending_at: new Date(s + DAY_MS).toISOString().replace('.000Z', 'Z'),
          results: (bill[dayOf(s)] ?? []).map((item) => ({
            currency: 'USD',
            amount: String(Math.round(item.usd * 100 * 1e5) / 1e5),
            workspace_id: byWorkspace ? (item.workspace ?? null) : null,
            description: null,
            cost_type: null,
            context_window: null,
            model: null,
            service_tier: null,
            token_type: null,
          })),
        })),
        has_more: hasMore,
        next_page: hasMore ? pageToken(next) : null,
      },
    };
  };
}

/**
 * OpenAI's GET /v1/organization/costs over `bill`: `start_time` / `end_time` in Unix seconds,
 * `limit` buckets a page (at most `pageSize`), `page`, `project_ids` (repeated), `group_by`;
 * amounts as numbers in dollars. Requests without the admin key answer 401 like the API.
 */
export function openAiCosts(bill: Bill, options: { pageSize?: number; adminKey?: string } = {}): Responder {
  return (request) => {
    if (request.path !== '/v1/organization/costs') return { status: 404, body: openAiError('Not found') };
    if (request.headers.authorization !== `Bearer ${options.adminKey ?? OPENAI_KEY}`) {
      return { status: 401, body: openAiError('Incorrect API key provided', 'invalid_request_error') };
    }
    const start = Number(request.query.get('start_time')) * 1000;
    const end = Number(request.query.get('end_time')) * 1000;
    const limit = Math.min(Number(request.query.get('limit') ?? 7), options.pageSize ?? 180);
    const projects = request.query.getAll('project_ids');
    const byProject = request.query.getAll('group_by').includes('project_id');
    const { starts, hasMore, next } = bucketsOf(start, end, request.query.get('page'), limit);
    return {
      status: 200,
      body: {
        object: 'page',
        data: starts.map((s) => ({
          object: 'bucket',
          start_time: s / 1000,
          end_time: (s + DAY_MS) / 1000,
          results: (bill[dayOf(s)] ?? [])
            .filter((item) => projects.length === 0 || projects.includes(item.project ?? ''))
            .map((item) => ({
              object: 'organization.costs.result',
              amount: { value: item.usd, currency: 'usd' },
              line_item: null,
              project_id: byProject ? (item.project ?? null) : null,
            })),
        })),
        has_more: hasMore,
        next_page: hasMore ? pageToken(next) : null,
      },
    };
  };
}

/** Admin keys as the secrets hold them once set. */
export const ANTHROPIC_KEY = 'sk-ant-admin01-test-key-not-real';
export const OPENAI_KEY = 'sk-admin-test-key-not-real';

/** A test clock whose sleeps advance it and are recorded. */
export class FakeClock {
  readonly sleeps: number[] = [];

  constructor(private ms: number) {}

  readonly now = (): number => this.ms;
  readonly date = (): Date => new Date(this.ms);
  readonly sleep = async (delay: number): Promise<void> => {
    this.sleeps.push(delay);
    this.ms += delay;
  };
}
