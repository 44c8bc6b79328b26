/**
 * OpenAI's organization costs API, as documented at
 * https://developers.openai.com/api/reference/resources/organization/subresources/audit_logs/methods/get_costs
 * (Costs, GET /organization/costs) and the cookbook
 * https://cookbook.openai.com/examples/completions_usage_api:
 *
 * - `GET /v1/organization/costs`, header `Authorization: Bearer <admin key, sk-admin-...>`.
 * - Query: `start_time` (Unix seconds, inclusive), `end_time` (Unix seconds, exclusive),
 *   `bucket_width=1d` (the only width), `project_ids` (only these projects), `group_by`
 *   (`project_id`, `line_item`), `limit` (buckets per page, 1-180, default 7), `page` (the
 *   previous response's `next_page`). Arrays repeat the key (`project_ids=a&project_ids=b`).
 * - Response: `{ object: "page", data: [{ object: "bucket", start_time, end_time, results:
 *   [{ object: "organization.costs.result", amount: { value, currency }, line_item,
 *   project_id }] }], has_more, next_page }`.
 * - `amount.value` is a NUMBER in DOLLARS (0.06 is six cents); `currency` is "usd".
 *
 * The generated reference also shows the bucket's list as `result` with usage objects; the
 * documented example and the API answer `results` with cost objects, which is what is parsed.
 */
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { type CostReader, type CostReportOptions, costReader } from './cost-report';
import { ProviderResponseError } from './errors';

export const OPENAI_API_URL = 'https://api.openai.com';

/** OpenAI admin keys start so; a project key (sk-proj-...) cannot read the organization's costs. */
export const OPENAI_ADMIN_KEY_PREFIX = 'sk-admin-';

const unixSeconds = z.number().int().nonnegative();

const pageSchema = z.object({
  object: z.literal('page'),
  data: z.array(
    z.object({
      object: z.literal('bucket'),
      start_time: unixSeconds,
      end_time: unixSeconds,
      results: z.array(
        z.object({
          object: z.literal('organization.costs.result'),
          amount: z.object({ value: z.number(), currency: z.string() }),
          project_id: z.string().nullish(),
        }),
      ),
    }),
  ),
  has_more: z.boolean(),
  next_page: z.string().nullish(),
});

/** Which part of the organization's bill the reconciliation compares. */
export interface OpenAiScope {
  /**
   * Only these projects' costs (`proj_...`): an organization shared with other systems or
   * environments bills them all. @default - the whole organization
   */
  readonly projectIds?: readonly string[];
}

/** A CostReader of OpenAI's organization costs for `scope`. */
export function openAiCostReader(scope: OpenAiScope, options: CostReportOptions): CostReader {
  const projects = scope.projectIds && scope.projectIds.length > 0 ? new Set(scope.projectIds) : undefined;
  return costReader(
    {
      provider: 'openai',
      url: (range, days, page) => {
        const url = new URL('/v1/organization/costs', options.baseUrl ?? OPENAI_API_URL);
        url.searchParams.set('start_time', String(range.start.getTime() / 1000));
        url.searchParams.set('end_time', String(range.end.getTime() / 1000));
        url.searchParams.set('bucket_width', '1d');
        url.searchParams.set('limit', String(Math.min(180, Math.max(1, days))));
        // Filtered by the API and, grouped by project, checked again here.
        for (const id of projects ?? []) url.searchParams.append('project_ids', id);
        if (projects) url.searchParams.append('group_by', 'project_id');
        if (page !== undefined) url.searchParams.set('page', page);
        return url;
      },
      headers: (adminKey) => ({ authorization: `Bearer ${adminKey}` }),
      schema: pageSchema,
      *buckets(page) {
        for (const bucket of page.data) {
          let usd = 0;
          for (const result of bucket.results) {
            if (result.amount.currency.toLowerCase() !== 'usd') {
              throw new ProviderResponseError(`openai costs bill in ${result.amount.currency}, not USD`);
            }
            if (projects && !projects.has(result.project_id ?? '')) continue;
            usd += result.amount.value;
          }
          yield { startMs: bucket.start_time * 1000, endMs: bucket.end_time * 1000, usd };
        }
      },
    },
    options,
  );
}
