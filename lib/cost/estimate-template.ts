import { PricingContext } from './context';
import { freeReason } from './free-types';
import type { PublishedMetric } from './metrics';
import { scheduledInvocations } from './pricers/compute';
import { AGGREGATE_TYPES, PRICERS } from './pricers/index';
import { priceAlarms, priceCustomMetrics } from './pricers/observability';
import { priceTableFor } from './prices';
import { type CfnResource, referencedId, templateResources } from './template';
import type { StackEstimate } from './types';

/** Options of {@link estimateTemplate}. */
export interface TemplateEstimateOptions {
  /** The region the template deploys to; prices fall back to us-east-1 with a warning. */
  readonly region: string;
  /** @default 'template' */
  readonly stackName?: string;
  /** @default the stack name */
  readonly envName?: string;
  /** The stack's Component tag, carried into the estimate. */
  readonly component?: string;
  /** Custom metrics published from outside the template (the application's own). */
  readonly publishedMetrics?: readonly PublishedMetric[];
  /**
   * Keys of custom metrics already counted by another stack of the same account; the metrics
   * this stack counts are added to it, so a metric shared by two stacks bills once.
   */
  readonly countedMetrics?: Set<string>;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The fixed monthly cost of one CloudFormation template, with what depends on usage and what is unpriced. */
export function estimateTemplate(template: unknown, options: TemplateEstimateOptions): StackEstimate {
  const stackName = options.stackName ?? 'template';
  const entries = templateResources(template);
  const resources = new Map<string, CfnResource>(entries);
  const { table, warning } = priceTableFor(options.region);
  const serviceTaskDefinitions = new Set(
    entries
      .filter(([, r]) => r.Type === 'AWS::ECS::Service')
      .map(([, r]) => referencedId(r.Properties?.TaskDefinition))
      .filter((id): id is string => id !== undefined),
  );
  const ctx = new PricingContext(
    stackName,
    table,
    resources,
    scheduledInvocations(resources),
    serviceTaskDefinitions,
  );
  if (warning) ctx.warnings.push(warning);

  const alarms: Array<[string, CfnResource]> = [];
  for (const [id, resource] of entries) {
    if (resource.Condition !== undefined) {
      ctx.warnings.push(`${id} is created only under condition ${resource.Condition}: priced as if it is`);
    }
    const pricer = PRICERS[resource.Type];
    if (pricer) pricer(ctx, id, resource);
    else if (AGGREGATE_TYPES.has(resource.Type)) alarms.push([id, resource]);
    else {
      const reason = freeReason(resource.Type);
      if (reason !== undefined) ctx.addFree(id, resource.Type, reason);
      else ctx.addUnpriced(id, resource.Type, 'resource type not in the price table nor the known-free list');
    }
  }
  priceAlarms(ctx, alarms);
  priceCustomMetrics(ctx, entries, options.publishedMetrics ?? [], options.countedMetrics ?? new Set());

  return {
    stackName,
    envName: options.envName ?? stackName,
    ...(options.component === undefined ? {} : { component: options.component }),
    region: options.region,
    priceTable: {
      region: table.region,
      version: table.version,
      date: table.date,
      currency: table.currency,
      source: table.source,
    },
    fixed: ctx.fixed,
    usage: ctx.usage,
    free: ctx.free,
    unpriced: ctx.unpriced,
    warnings: ctx.warnings,
    monthlyFixedUsd: round2(ctx.fixed.reduce((sum, item) => sum + item.monthlyUsd, 0)),
  };
}
