// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseInput } from '../../core/errors';

// The EventBridge event of a CloudWatch alarm state change (metric or composite alarm). Only
// the fields used are required; the others (reasonData, metrics, alarmRule ...) pass through.
const alarmStateSchema = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().optional(),
  timestamp: z.string().optional(),
});

const alarmEventSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  account: z.string().optional(),
  time: z.string(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.object({
    alarmName: z.string().min(1),
    state: alarmStateSchema,
    previousState: alarmStateSchema,
    configuration: z.object({ description: z.string().nullish() }).optional(),
  }),
});

/** An alarm state change event, as far as it is read. */
export type AlarmStateChangeEvent = z.infer<typeof alarmEventSchema>;

/** The event as an alarm state change; InvalidInputError otherwise (nothing done). */
export function parseAlarmEvent(event: unknown): AlarmStateChangeEvent {
  return parseInput(alarmEventSchema, event, 'Not a CloudWatch alarm state change event, NO action taken');
}
