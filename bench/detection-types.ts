/** The spend guard's detection latency, as bench/detection.spec.ts writes it. */
export interface DetectionFigure {
  readonly scheduleMinutes: number;
  /** CloudWatch's metric delay the timelines assume. */
  readonly metricDelayMinutes: number;
  /** How long after its scheduled time a run acts, as the timelines assume. */
  readonly startDelaySeconds: number;
  readonly timelines: number;
  /** From a threshold crossed (the datapoint that reached it) to the run that acted on it. */
  readonly maxMinutes: number;
  readonly medianMinutes: number;
  readonly samples: ReadonlyArray<{
    readonly timeline: number;
    readonly percent: number;
    readonly crossedAt: string;
    readonly actedAt: string;
    readonly latencyMinutes: number;
  }>;
}

/** AWS Budgets' own data delay (8-12 hours), what the spend guard's latency is compared with. */
export const BUDGETS_DELAY_HOURS = { min: 8, max: 12 } as const;
