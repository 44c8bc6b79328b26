/**
 * Anthropic's Admin API cost report, as documented at
 * https://platform.claude.com/docs/en/api/admin/cost_report/retrieve (Get Cost Report) and the
 * guide https://platform.claude.com/docs/en/build-with-claude/usage-cost-api:
 *
 * - `GET /v1/organizations/cost_report`, headers `x-api-key: <Admin API key, sk-ant-admin...>`
 *   and `anthropic-version: 2023-06-01`.
 * - Query: `starting_at` (RFC 3339; buckets starting at or after it), `ending_at` (buckets
 *   ending before it), `bucket_width=1d` (the only width), `group_by[]` of `workspace_id` /
 *   `description`, `limit` (buckets per page, 1-31, default 7), `page` (the previous
 *   response's `next_page`).
 * - Response: `{ data: [{ starting_at, ending_at, results: [{ amount, currency, workspace_id,
 *   description, cost_type, model, ... }] }], has_more, next_page }`.
 * - `amount` is a decimal STRING in the lowest currency unit: "123.45" in "USD" is $1.2345,
 *   i.e. CENTS, not dollars. `currency` is "USD".
 *
 * "Ending before" `ending_at` includes a bucket ending AT it: the guide's quick start asks
 * 2025-01-08..2025-01-15 for "the last 7 days". The buckets are checked against the range
 * anyway (cost-report.ts): a bucket beyond it is left out, and a missing one bills $0, which
 * reads as over-reported, never as a match.
 */
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { type CostReader, type CostReportOptions, costReader } from './cost-report';
import { ProviderResponseError } from './errors';

export const ANTHROPIC_API_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic asks integrations to name themselves. */
export const USER_AGENT = 'fa-ai-system-spend-reconcile/1.0';

/** Anthropic admin keys start so; an ordinary API key (sk-ant-api...) cannot read the cost report. */
export const ANTHROPIC_ADMIN_KEY_PREFIX = 'sk-ant-admin';

const rfc3339 = z.iso.datetime({ offset: true });

const resultSchema = z.object({
  amount: z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string'),
  currency: z.string(),
  // Present (null for the default workspace) when grouping by workspace_id.
  workspace_id: z.string().nullish(),
});

const pageSchema = z.object({
  data: z.array(
    z.object({
      starting_at: rfc3339,
      ending_at: rfc3339,
      results: z.array(resultSchema),
    }),
  ),
  has_more: z.boolean(),
  next_page: z.string().nullish(),
});

/** Which part of the organization's bill the reconciliation compares. */
export interface AnthropicScope {
  /**
   * Only these workspaces' costs (`wrkspc_...`; `default` for the default workspace): an
   * organization shared with other systems or environments bills them all.
   * @default - the whole organization
   */
  readonly workspaceIds?: readonly string[];
}

/** A CostReader of Anthropic's cost report for `scope`. */
export function anthropicCostReader(scope: AnthropicScope, options: CostReportOptions): CostReader {
  const workspaces =
    scope.workspaceIds && scope.workspaceIds.length > 0 ? new Set(scope.workspaceIds) : undefined;
  return costReader(
    {
      provider: 'anthropic',
      url: (range, days, page) => {
        const url = new URL('/v1/organizations/cost_report', options.baseUrl ?? ANTHROPIC_API_URL);
        url.searchParams.set('starting_at', range.start.toISOString());
        url.searchParams.set('ending_at', range.end.toISOString());
        url.searchParams.set('bucket_width', '1d');
        url.searchParams.set('limit', String(Math.min(31, Math.max(1, days))));
        if (workspaces) url.searchParams.append('group_by[]', 'workspace_id');
        if (page !== undefined) url.searchParams.set('page', page);
        return url;
      },
      headers: (adminKey) => ({
        'x-api-key': adminKey,
        'anthropic-version': ANTHROPIC_VERSION,
        'user-agent': USER_AGENT,
      }),
      schema: pageSchema,
      *buckets(page) {
        for (const bucket of page.data) {
          let cents = 0;
          for (const result of bucket.results) {
            if (result.currency !== 'USD') {
              throw new ProviderResponseError(`anthropic cost report bills in ${result.currency}, not USD`);
            }
            if (workspaces && !workspaces.has(result.workspace_id ?? 'default')) continue;
            cents += Number(result.amount);
          }
          yield {
            startMs: Date.parse(bucket.starting_at),
            endMs: Date.parse(bucket.ending_at),
            usd: cents / 100,
          };
        }
      },
    },
    options,
  );
}
