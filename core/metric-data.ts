/**
 * CloudWatch GetMetricData read to its last page: the spend read (core/spend/read.ts) and the
 * bill reconciliation's reported costs each ask one request whose answer may span pages.
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
