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

/** One page's place in the pagination. */
export interface PageLinks {
  readonly hasMore: boolean;
  readonly nextPage: string | null | undefined;
}

/**
 * Fetches every page: `urlFor(page)` builds the request of a page (undefined: the first),
 * `schema` parses it strictly, `links` says whether and where the next is, `onPage` consumes it.
 * A page that says "more" without a cursor, a cursor repeated, or more than `maxPages` pages is
 * a ProviderResponseError: paging must end, and never by guessing.
 */
export async function fetchAllPages<S extends z.ZodType>(
  provider: LlmProvider,
  request: { readonly urlFor: (page: string | undefined) => URL; readonly headers: Record<string, string> },
  schema: S,
  links: (page: z.output<S>) => PageLinks,
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
    const { hasMore, nextPage } = links(parsed.data);
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
