import type { PriceTable } from './prices';
import type { CfnResource } from './template';
import type { FreeItem, LineItem, UnitPrice, UnpricedItem, UsageItem } from './types';

/** What schedules in the template invoke a resource (Lambda function, state machine). */
export interface ScheduledInvocations {
  /** Invocations per average month, summed over every schedule targeting the resource. */
  readonly perMonth: number;
  /** Logical ids of the schedules. */
  readonly schedules: readonly string[];
}

/**
 * Everything a pricer needs: the prices, the whole template (to follow references) and the
 * lists it adds its findings to.
 */
export class PricingContext {
  readonly fixed: LineItem[] = [];
  readonly usage: UsageItem[] = [];
  readonly free: FreeItem[] = [];
  readonly unpriced: UnpricedItem[] = [];
  readonly warnings: string[] = [];

  constructor(
    readonly stack: string,
    readonly prices: PriceTable,
    readonly resources: ReadonlyMap<string, CfnResource>,
    readonly scheduled: ReadonlyMap<string, ScheduledInvocations>,
    /** Task definitions some ECS service runs: they are priced through the service. */
    readonly serviceTaskDefinitions: ReadonlySet<string>,
  ) {}

  /** Hours of a month at a price per hour. */
  get hours(): number {
    return this.prices.hoursPerMonth;
  }

  addFixed(item: Omit<LineItem, 'stack' | 'monthlyUsd'>): void {
    this.fixed.push({ stack: this.stack, ...item, monthlyUsd: item.quantity * item.unitPriceUsd });
  }

  addUsage(resource: string, type: string, description: string, unitPrices: readonly UnitPrice[]): void {
    this.usage.push({ stack: this.stack, resource, type, description, unitPrices });
  }

  addFree(resource: string, type: string, reason: string): void {
    this.free.push({ stack: this.stack, resource, type, reason });
  }

  addUnpriced(resource: string, type: string, reason: string): void {
    this.unpriced.push({ stack: this.stack, resource, type, reason });
  }
}

/** Prices one resource: adds fixed, usage, free or unpriced items to the context. */
export type Pricer = (ctx: PricingContext, id: string, resource: CfnResource) => void;
