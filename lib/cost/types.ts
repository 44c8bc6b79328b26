/** A fixed monthly charge: something the template declares that bills whether used or not. */
export interface LineItem {
  readonly stack: string;
  /** Logical id, or a summary such as "43 alarms" for charges priced in aggregate. */
  readonly resource: string;
  readonly type: string;
  /** What is counted, e.g. "2 tasks x 1 vCPU ARM64". */
  readonly description: string;
  readonly quantity: number;
  /** Unit of quantity, e.g. "vCPU-hour", "key-month". */
  readonly unit: string;
  readonly unitPriceUsd: number;
  readonly monthlyUsd: number;
  /** The usage or rule the figure rests on, when it is not a plain list price. */
  readonly assumption?: string;
}

/** A unit price of a charge that depends on usage. */
export interface UnitPrice {
  readonly usd: number;
  /** e.g. "GB ingested", "million requests". */
  readonly per: string;
}

/** A charge the template cannot predict (traffic, storage growth, log volume): listed, not totalled. */
export interface UsageItem {
  readonly stack: string;
  readonly resource: string;
  readonly type: string;
  readonly description: string;
  readonly unitPrices: readonly UnitPrice[];
}

/** A resource that costs nothing by itself. */
export interface FreeItem {
  readonly stack: string;
  readonly resource: string;
  readonly type: string;
  readonly reason: string;
}

/** A resource the estimator cannot price: its cost is NOT in the total. */
export interface UnpricedItem {
  readonly stack: string;
  readonly resource: string;
  readonly type: string;
  readonly reason: string;
}

/** Identity of the prices an estimate used. */
export interface PriceTableInfo {
  readonly region: string;
  readonly version: string;
  readonly date: string;
  readonly currency: string;
  readonly source: string;
}

/** The estimate of one stack template. */
export interface StackEstimate {
  readonly stackName: string;
  readonly envName: string;
  /** The stack's Component tag (infrastructure, interactive, ...), when the assembly records one. */
  readonly component?: string;
  /** The region the template deploys to. */
  readonly region: string;
  /** The prices used (another region's when the stack's region has no table). */
  readonly priceTable: PriceTableInfo;
  readonly fixed: readonly LineItem[];
  readonly usage: readonly UsageItem[];
  readonly free: readonly FreeItem[];
  readonly unpriced: readonly UnpricedItem[];
  readonly warnings: readonly string[];
  /** Sum of the fixed line items; unpriced resources are not in it. */
  readonly monthlyFixedUsd: number;
}

/** The stacks of one environment and their sum. */
export interface EnvironmentEstimate {
  readonly envName: string;
  readonly stacks: readonly StackEstimate[];
  /**
   * Free-tier credits (negative amounts), applied only where the environment has an
   * account of its own; included in monthlyFixedUsd.
   */
  readonly credits: readonly LineItem[];
  readonly monthlyFixedUsd: number;
  /** Resources whose cost is missing from monthlyFixedUsd. */
  readonly unpricedCount: number;
}

/** The estimate of every stack of a cloud assembly, by environment. */
export interface AssemblyEstimate {
  readonly assemblyDir: string;
  readonly environments: readonly EnvironmentEstimate[];
  /** The assumptions behind every estimate (free tiers, usage baselines). */
  readonly assumptions: readonly string[];
}
