/** Values and rules several contracts share. */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { arn } from './contract';

/** The service's two colours and the runbook's severity levels: the alarm catalogue's words. */
export { COLOURS, type Colour, SEVERITIES, type Severity } from '../alarms/vocabulary';

/** A fraction strictly between 0 and 1 (an error rate). lib/config uses the same rule. */
export const fraction = z
  .number()
  .gt(0, 'must be above 0')
  .lt(1, 'must be below 1 (a fraction, e.g. 0.01 for 1%)');

/** A whole number from `min` to `max`: the bounds of a count or a duration in the settings. */
export const wholeNumber = (min: number, max: number) => z.number().int().min(min).max(max);

/** The topic of each severity. */
export const topicArnsRule = z.strictObject({ P0: arn, P1: arn, P2: arn, P3: arn });
export type TopicArns = z.output<typeof topicArnsRule>;
