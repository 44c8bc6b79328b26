/**
 * What a verification reads back, as data: each automated action names the checks of its
 * effect when it acts, and the verifier (lambdas/automation-verify/) evaluates them later.
 * The payload of the verification schedule is {@link VerificationRequest}, typed on both sides.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { SEVERITIES } from './severity';

const name = z.string().min(1);
const weights = z.strictObject({ blue: z.number().int(), green: z.number().int() });

/** The alarm that called for the action is back to OK. */
const alarmOk = z.strictObject({ kind: z.literal('alarm-ok'), alarmName: name });

/**
 * An ECS service after a scale-out or a new deployment: at least `desiredAtLeast` desired and
 * running, and (a new deployment) its PRIMARY deployment is not `notDeployment` any more and
 * has completed.
 */
const service = z.strictObject({
  kind: z.literal('service'),
  cluster: name,
  service: name,
  desiredAtLeast: z.number().int().min(0).optional(),
  notDeployment: name.optional(),
});

/** The listener and the SSM parameter both hold `expected`. */
const trafficWeights = z.strictObject({
  kind: z.literal('weights'),
  listenerArn: name,
  targetGroups: z.strictObject({ blue: name, green: name }),
  weightsParameter: name,
  expected: weights,
});

/** The kill switch's effect: the schedule DISABLED and no RUNNING execution of the batch. */
const killSwitch = z.strictObject({
  kind: z.literal('kill-switch'),
  scheduleName: name,
  scheduleGroup: name,
  stateMachineArn: name,
});

export const checkSchema = z.discriminatedUnion('kind', [alarmOk, service, trafficWeights, killSwitch]);
/** One check of an action's effect. */
export type Check = z.infer<typeof checkSchema>;

/** The automated actions. */
export const AUTOMATED_ACTIONS = [
  'force-new-deployment',
  'scale-out',
  'traffic-rollback',
  'traffic-shift-rollback',
  'kill-switch-engage',
] as const;
export type AutomatedAction = (typeof AUTOMATED_ACTIONS)[number];

/** What the verification schedule delivers to the verifier. */
export const verificationRequestSchema = z.strictObject({
  kind: z.literal('automation-verify'),
  version: z.literal(1),
  /** The action record's sort key (pk AUTOMATION_ACTION). */
  recordSk: name,
  environment: name,
  action: z.enum(AUTOMATED_ACTIONS),
  /** What called for it: an alarm name, or the budget of the kill switch. */
  trigger: name,
  severity: z.enum(SEVERITIES),
  /** The Lambda that acted. */
  source: name,
  /** What it did, in a sentence. */
  did: name,
  actedAt: z.iso.datetime(),
  verifyAt: z.iso.datetime(),
  checks: z.array(checkSchema).min(1),
});
export type VerificationRequest = z.infer<typeof verificationRequestSchema>;
