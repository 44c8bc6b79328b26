/** The delay every mocked AWS call takes in the round-trip bench: a typical in-region API latency. */
export const LATENCY_MS = 20;

/** One round-trip measurement, as bench/roundtrips.spec.ts writes it. */
export interface RoundTripFigure {
  readonly name: string;
  readonly scale: string;
  /** The longest chain of AWS calls each starting after the previous one ended. */
  readonly depth: number;
  readonly calls: number;
  readonly wallMs: number;
  readonly target: number;
}
