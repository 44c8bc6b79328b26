/** Values and rules several contracts share. */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { arn } from './contract';

/** The two deployment colours of the service. */
export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

/** The runbook's severity levels, most severe first; each has its own SNS topic. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A fraction strictly between 0 and 1 (an error rate). lib/config uses the same rule. */
export const fraction = z
  .number()
  .gt(0, 'must be above 0')
  .lt(1, 'must be below 1 (a fraction, e.g. 0.01 for 1%)');

/** The topic of each severity. */
export const topicArnsRule = z.strictObject({ P0: arn, P1: arn, P2: arn, P3: arn });
export type TopicArns = z.output<typeof topicArnsRule>;
