/**
 * CloudWatch GetMetricData read to its last page: the spend read (core/spend/read.ts), the bill
 * reconciliation's reported costs, `ops cost` and `ops diagnose` each ask one request whose
 * answer may span pages.
 */

import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';

/** What the pages of one request answered. */
export interface MetricDataPages {
  /** Each query's results by its id, one per page that carried it, in page order. */
  readonly results: ReadonlyMap<string, readonly MetricDataResult[]>;
  /** The last page read still had a NextToken: `maxPages` did not reach the end. */
  readonly more: boolean;
}

/** Every page of `request`, at most `maxPages` of them; the caller decides what `more` means. */
export async function getMetricDataPages(
  cloudwatch: CloudWatchClient,
  request: Omit<GetMetricDataCommandInput, 'NextToken'>,
  maxPages: number,
): Promise<MetricDataPages> {
  const results = new Map<string, MetricDataResult[]>();
  let token: string | undefined;
  for (let page = 1; page <= maxPages; page += 1) {
    const answer = await cloudwatch.send(new GetMetricDataCommand({ ...request, NextToken: token }));
    for (const result of answer.MetricDataResults ?? []) {
      const id = result.Id ?? '';
      results.set(id, [...(results.get(id) ?? []), result]);
    }
    token = answer.NextToken;
    if (!token) return { results, more: false };
  }
  return { results, more: true };
}

/**
 * Every page of `request` with each query's pages joined into one result: the last page's
 * status (the query's: PartialData there means data left unread) and every page's datapoints.
 * Throws when `maxPages` pages still did not reach the end: a figure read in part is no figure.
 */
export async function readMetricData(
  cloudwatch: CloudWatchClient,
  request: Omit<GetMetricDataCommandInput, 'NextToken'>,
  maxPages: number,
): Promise<Map<string, MetricDataResult>> {
  const { results, more } = await getMetricDataPages(cloudwatch, request, maxPages);
  if (more) throw new Error(`GetMetricData still had more data after ${maxPages} pages`);
  return new Map(
    [...results].map(([id, parts]) => [
      id,
      {
        ...parts.at(-1),
        Timestamps: parts.flatMap((part) => part.Timestamps ?? []),
        Values: parts.flatMap((part) => part.Values ?? []),
      },
    ]),
  );
}
