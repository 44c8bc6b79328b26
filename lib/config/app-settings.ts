import { z } from 'zod';
import { count } from './fields';

const wordRange = z
  .tuple([count.min(1), count.min(1)])
  .refine(([min, max]) => min <= max, { message: 'must be [min, max] with min <= max' });

const unitInterval = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

/**
 * The hallucination detector's scoring (runbook: "Hallucination Detection Failures"): the
 * layers' weights of the risk score, and the score from which a summary is at each risk.
 * Defaults are the values the runbook's remedy starts from (its "reduced from" / "increased
 * from"), as for wordCountTargets: the remedy itself is an override in an environment.
 */
const hallucinationSchema = z.object({
  layerWeights: z
    .strictObject({ cross_source: unitInterval, temporal: unitInterval, uncertainty: unitInterval })
    .refine((w) => Math.abs(w.cross_source + w.temporal + w.uncertainty - 1) < 1e-9, {
      error: (issue) => {
        const w = issue.input as Record<string, number>;
        const sum = Object.values(w).reduce((a, b) => a + b, 0);
        return `must sum to 1 (cross_source + temporal + uncertainty), got ${Number(sum.toFixed(6))}`;
      },
    })
    .default({ cross_source: 0.5, temporal: 0.2, uncertainty: 0.3 }),
  riskThresholds: z
    .strictObject({ critical: unitInterval, high: unitInterval, medium: unitInterval, low: unitInterval })
    .refine((t) => t.critical > t.high && t.high > t.medium && t.medium > t.low, {
      error: (issue) => {
        const t = issue.input as Record<string, number>;
        return `must be strictly ordered critical > high > medium > low, got ${t.critical} / ${t.high} / ${t.medium} / ${t.low}`;
      },
    })
    .default({ critical: 0.7, high: 0.6, medium: 0.4, low: 0 }),
});

/**
 * Model routing (runbook: "Increase Haiku usage"): SIMPLE tasks go to Haiku, others to Sonnet.
 * Defaults as before the runbook's change (medium MODERATE, expanded COMPLEX).
 */
const taskComplexity = z.enum(['SIMPLE', 'MODERATE', 'COMPLEX']);
const modelRoutingSchema = z
  .strictObject({
    hook_summary: taskComplexity,
    medium_summary: taskComplexity,
    expanded_summary: taskComplexity,
    fact_check: taskComplexity,
  })
  .default({
    hook_summary: 'SIMPLE',
    medium_summary: 'MODERATE',
    expanded_summary: 'COMPLEX',
    fact_check: 'COMPLEX',
  });

/**
 * The application's own settings (the runbook's "Tuning Parameters"). They reach the
 * containers as environment variables so operators tune them in one place.
 */
export const appSettingsSchema = z.object({
  batchMaxConcurrency: count.min(1).default(100),
  embeddingBatchSize: count.min(1).default(100),
  /** Seconds; the runbook's cost action raises it to 30 days (2592000). */
  embeddingCacheTtlSeconds: count.min(60).default(604_800),
  dbPoolSize: count.min(1).default(20),
  dbMaxOverflow: count.default(30),
  redisMaxConnections: count.min(1).default(50),
  enableHaikuRouting: z.boolean().default(true),
  wordCountTargets: z
    .object({ hook: wordRange, medium: wordRange, expanded: wordRange })
    .default({ hook: [25, 50], medium: [100, 150], expanded: [200, 250] }),
  hallucination: hallucinationSchema.prefault({}),
  /** Task -> complexity, the model router's task_complexity_map. */
  modelRouting: modelRoutingSchema,
});
