/** The ops CLI's paged reads: every page in order, the request unchanged, and an end. */
import type {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricDataCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { MAX_PAGES, metricDataPages, readPages } from '../../lib/ops/pages';

/** A CloudWatch client answering with `pages` in turn (the last one again when they run out). */
function cloudwatchAnswering(pages: GetMetricDataCommandOutput[]) {
  const sent: Array<GetMetricDataCommand['input']> = [];
  const client = {
    send: async (command: GetMetricDataCommand) => {
      sent.push(command.input);
      return pages[Math.min(sent.length, pages.length) - 1];
    },
  } as unknown as CloudWatchClient;
  return { client, sent };
}

const page = (id: string, next?: string): GetMetricDataCommandOutput => ({
  MetricDataResults: [{ Id: id, StatusCode: 'Complete', Values: [1] }],
  ...(next === undefined ? {} : { NextToken: next }),
  $metadata: {},
});

const REQUEST = {
  MetricDataQueries: [{ Id: 'q', Expression: 'SUM(METRICS())' }],
  StartTime: new Date('2026-11-25T00:00:00Z'),
  EndTime: new Date('2026-11-25T01:00:00Z'),
};

describe('paged reads', () => {
  it('hands over every page in order, asking for each with the token of the one before', async () => {
    const { client, sent } = cloudwatchAnswering([page('a', 't2'), page('b', 't3'), page('c')]);
    const seen: string[] = [];
    await metricDataPages(client, REQUEST, (p) => seen.push(p.MetricDataResults?.[0]?.Id ?? '?'));
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(sent).toEqual([
      { ...REQUEST, NextToken: undefined },
      { ...REQUEST, NextToken: 't2' },
      { ...REQUEST, NextToken: 't3' },
    ]);
  });

  it(`stops with an error after ${MAX_PAGES} pages that still say there is more`, async () => {
    const { client, sent } = cloudwatchAnswering([page('a', 'more')]);
    await expect(metricDataPages(client, REQUEST, () => {})).rejects.toThrow(
      `GetMetricData still had more data after ${MAX_PAGES} pages`,
    );
    expect(sent).toHaveLength(MAX_PAGES);
    let reads = 0;
    await readPages('ListThings', async () => (++reads === MAX_PAGES ? undefined : 'next'));
    expect(reads).toBe(MAX_PAGES);
  });
});
