/**
 * What both providers' cost report clients share: the daily totals they return, the bucket
 * checks and the pagination loop. The clients themselves (anthropic.ts, openai.ts) only know
 * their own request and response shapes.
 */
// A type-only import: each client brings its own schema; nothing of zod is bundled from here.
import type * as z from 'zod';
import { describeIssues } from '../../core/errors';
import type { LlmProvider } from '../../core/spend/metric';
import { ProviderResponseError } from './errors';
import { getJson, type HttpOptions } from './http';
import { DAY_MS, dayOf, type UtcDay } from './window';

/** What a provider billed per UTC day of a range. */
export interface DailyCosts {
  readonly provider: LlmProvider;
  /** USD per day; a day of the range without a bucket has no entry (and reads as 0). */
  readonly byDay: ReadonlyMap<UtcDay, number>;
  /** The provider's clock: the `Date` header of its last page, when it sent one. */
  readonly providerDate?: Date;
  readonly pages: number;
}

/** The time range of a cost report query: UTC midnights, end exclusive. */
export interface CostRange {
  readonly start: Date;
  readonly end: Date;
}

/** Reads what a provider billed over a range with an admin key. */
export type CostReader = (adminKey: string, range: CostRange) => Promise<DailyCosts>;

/** How a cost report client reaches its provider. */
export interface CostReportOptions {
  /** @default the provider's public API */
  readonly baseUrl?: string;
  readonly http: HttpOptions;
  /** Pages followed before the report counts as malformed. @default 20 (a month fits in one) */
  readonly maxPages?: number;
}

/** A page of either provider's report: both page by `has_more` and a `next_page` cursor. */
export interface CostReportPage {
  readonly has_more: boolean;
  readonly next_page?: string | null;
}

/**
 * Fetches every page: `urlFor(page)` builds the request of a page (undefined: the first),
 * `schema` parses it strictly, `onPage` consumes it. A page that says "more" without a cursor,
 * a cursor repeated, or more than `maxPages` pages is a ProviderResponseError: paging must end,
 * and never by guessing.
 */
export async function fetchAllPages<S extends z.ZodType<CostReportPage>>(
  provider: LlmProvider,
  request: { readonly urlFor: (page: string | undefined) => URL; readonly headers: Record<string, string> },
  schema: S,
  onPage: (page: z.output<S>) => void,
  options: CostReportOptions,
): Promise<{ pages: number; providerDate?: Date }> {
  const maxPages = options.maxPages ?? 20;
  const seen = new Set<string>();
  let cursor: string | undefined;
  let providerDate: Date | undefined;
  for (let pages = 1; ; pages += 1) {
    const response = await getJson(provider, request.urlFor(cursor), request.headers, options.http);
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new ProviderResponseError(
        `${provider} cost report page ${pages} is not the documented shape: ${describeIssues(parsed.error.issues)}`,
      );
    }
    providerDate = response.date ?? providerDate;
    onPage(parsed.data);
    const { has_more: hasMore, next_page: nextPage } = parsed.data;
    if (!hasMore) return { pages, providerDate };
    if (typeof nextPage !== 'string' || nextPage === '') {
      throw new ProviderResponseError(
        `${provider} cost report page ${pages} says has_more but gives no next_page`,
      );
    }
    if (seen.has(nextPage)) {
      throw new ProviderResponseError(`${provider} cost report repeated the page cursor of an earlier page`);
    }
    if (pages >= maxPages) {
      throw new ProviderResponseError(
        `${provider} cost report has more than ${maxPages} pages for one month`,
      );
    }
    seen.add(nextPage);
    cursor = nextPage;
  }
}

/** One bucket of a report: the USD billed in [startMs, endMs). */
export interface CostBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly usd: number;
}

/** What a provider's client knows of its own API: its request and its response's shape. */
export interface CostReportApi<S extends z.ZodType<CostReportPage>> {
  readonly provider: LlmProvider;
  /** The request of a page of `range` (`days` long); `page` undefined: the first. */
  url(range: CostRange, days: number, page: string | undefined): URL;
  headers(adminKey: string): Record<string, string>;
  readonly schema: S;
  /** The page's buckets in USD; throws ProviderResponseError on what the reconciliation cannot read. */
  buckets(page: z.output<S>): Iterable<CostBucket>;
}

/** The CostReader of `api`: every page fetched, its buckets summed per UTC day. */
export function costReader<S extends z.ZodType<CostReportPage>>(
  api: CostReportApi<S>,
  options: CostReportOptions,
): CostReader {
  return async (adminKey, range) => {
    const totals = new DailyTotals(api.provider, range);
    const days = Math.round((range.end.getTime() - range.start.getTime()) / DAY_MS);
    const { pages, providerDate } = await fetchAllPages(
      api.provider,
      { urlFor: (page) => api.url(range, days, page), headers: api.headers(adminKey) },
      api.schema,
      (page) => {
        for (const bucket of api.buckets(page)) totals.add(bucket.startMs, bucket.endMs, bucket.usd);
      },
      options,
    );
    return { provider: api.provider, byDay: totals.result(), providerDate, pages };
  };
}

/** Sums a report's buckets into USD per UTC day, checking each bucket against the range. */
export class DailyTotals {
  private readonly totals = new Map<UtcDay, number>();

  constructor(
    private readonly provider: LlmProvider,
    private readonly range: CostRange,
  ) {}

  /**
   * Adds `usd` billed in the bucket [startMs, endMs). A bucket must be one UTC day (the
   * reports are requested with bucket_width 1d); one outside the range is left out (an end
   * that the API reads inclusively returns the next day too).
   */
  add(startMs: number, endMs: number, usd: number): void {
    if (!Number.isFinite(usd)) {
      throw new ProviderResponseError(`${this.provider} cost report has an amount that is not a number`);
    }
    if (endMs - startMs !== DAY_MS || startMs % DAY_MS !== 0) {
      throw new ProviderResponseError(
        `${this.provider} cost report bucket ${new Date(startMs).toISOString()}..${new Date(endMs).toISOString()} ` +
          'is not one UTC day',
      );
    }
    if (startMs < this.range.start.getTime() || endMs > this.range.end.getTime()) return;
    const day = dayOf(startMs);
    this.totals.set(day, (this.totals.get(day) ?? 0) + usd);
  }

  /** The totals; a negative day (credits beyond the spend) is garbage for a reconciliation. */
  result(): ReadonlyMap<UtcDay, number> {
    for (const [day, usd] of this.totals) {
      if (usd < 0) {
        throw new ProviderResponseError(
          `${this.provider} cost report bills a negative total for ${day} ($${usd.toFixed(2)})`,
        );
      }
    }
    return this.totals;
  }
}
