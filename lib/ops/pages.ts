/** Paged reads of the ops CLI: every page, but never without end. */

/**
 * Pages one read takes at most. The reads here fit on one page (a GetMetricData page holds
 * 100,800 datapoints); more is an error, not a figure read in part.
 */
export const MAX_PAGES = 5;

/** Reads page after page: `readPage` takes in one page and returns the next one's token. */
export async function readPages(
  api: string,
  readPage: (token: string | undefined) => Promise<string | undefined>,
): Promise<void> {
  let token: string | undefined;
  for (let page = 1; ; page += 1) {
    token = await readPage(token);
    if (token === undefined) return;
    if (page >= MAX_PAGES) throw new Error(`${api} still had more data after ${MAX_PAGES} pages`);
  }
}
