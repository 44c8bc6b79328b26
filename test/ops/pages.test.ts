/** Paged reads: every page in order, the request unchanged, each query's pages joined, and an end. */
import type {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricDataCommandOutput,
  MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { readMetricData } from '../../core/metric-data';
import { MAX_PAGES, readPages } from '../../lib/ops/pages';

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

const page = (results: MetricDataResult[], next?: string): GetMetricDataCommandOutput => ({
  MetricDataResults: results,
  ...(next === undefined ? {} : { NextToken: next }),
  $metadata: {},
});

const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 0, minute));

const REQUEST = {
  MetricDataQueries: [
    { Id: 'a', Expression: 'SUM(METRICS())' },
    { Id: 'b', Expression: 'SUM(METRICS())' },
  ],
  StartTime: new Date('2026-11-25T00:00:00Z'),
  EndTime: new Date('2026-11-25T01:00:00Z'),
};

describe('paged reads', () => {
  it('asks for each page with the token of the one before and joins each query across pages', async () => {
    const { client, sent } = cloudwatchAnswering([
      page(
        [
          { Id: 'a', StatusCode: 'PartialData', Timestamps: [at(0)], Values: [1] },
          { Id: 'b', StatusCode: 'Complete', Timestamps: [at(0)], Values: [5] },
        ],
        't2',
      ),
      page([{ Id: 'a', StatusCode: 'PartialData', Timestamps: [at(1)], Values: [2] }], 't3'),
      page([{ Id: 'a', StatusCode: 'Complete', Timestamps: [at(2)], Values: [3] }]),
    ]);
    const results = await readMetricData(client, REQUEST, MAX_PAGES);
    expect(sent).toEqual([
      { ...REQUEST, NextToken: undefined },
      { ...REQUEST, NextToken: 't2' },
      { ...REQUEST, NextToken: 't3' },
    ]);
    expect(results.get('a')).toEqual({
      Id: 'a',
      StatusCode: 'Complete',
      Timestamps: [at(0), at(1), at(2)],
      Values: [1, 2, 3],
    });
    expect(results.get('b')).toEqual({ Id: 'b', StatusCode: 'Complete', Timestamps: [at(0)], Values: [5] });
  });

  it("keeps the last page's status as the query's: PartialData there is data left unread", async () => {
    const { client } = cloudwatchAnswering([
      page([{ Id: 'a', StatusCode: 'Complete', Values: [1] }], 't2'),
      page([{ Id: 'a', StatusCode: 'PartialData', Values: [2] }]),
    ]);
    expect((await readMetricData(client, REQUEST, MAX_PAGES)).get('a')?.StatusCode).toBe('PartialData');
  });

  it(`stops with an error after ${MAX_PAGES} pages that still say there is more`, async () => {
    const { client, sent } = cloudwatchAnswering([page([{ Id: 'a', StatusCode: 'PartialData' }], 'more')]);
    await expect(readMetricData(client, REQUEST, MAX_PAGES)).rejects.toThrow(
      `GetMetricData still had more data after ${MAX_PAGES} pages`,
    );
    expect(sent).toHaveLength(MAX_PAGES);
  });

  it(`reads other APIs' pages until there is no token, ${MAX_PAGES} at the most`, async () => {
    let reads = 0;
    await readPages('ListThings', async () => (++reads === 3 ? undefined : 'next'));
    expect(reads).toBe(3);
    reads = 0;
    const endless = async () => {
      reads += 1;
      return 'next';
    };
    await expect(readPages('ListThings', endless)).rejects.toThrow(
      `ListThings still had more data after ${MAX_PAGES} pages`,
    );
    expect(reads).toBe(MAX_PAGES);
  });
});
