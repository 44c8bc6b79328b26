import type { PriceTable } from './types';
import { US_EAST_1 } from './us-east-1';

export type { InstancePrice, PriceTable } from './types';
export { US_EAST_1 } from './us-east-1';

/** Regions with a price table of their own. */
export const PRICE_TABLES: Readonly<Record<string, PriceTable>> = { 'us-east-1': US_EAST_1 };

/** The table prices fall back to for a region without one. */
export const FALLBACK_PRICE_TABLE: PriceTable = US_EAST_1;

/** The price table of a region, and a warning when it had to fall back to another region's. */
export function priceTableFor(region: string): { table: PriceTable; warning?: string } {
  const table = PRICE_TABLES[region];
  if (table) return { table };
  return {
    table: FALLBACK_PRICE_TABLE,
    warning:
      `WARNING: no price table for region '${region}': priced with ${FALLBACK_PRICE_TABLE.region} prices ` +
      `(version ${FALLBACK_PRICE_TABLE.version}); regional prices differ, often by 10-30%`,
  };
}
