/**
 * The listener weights: reading them (listener and SSM), writing them (both, in parallel) and
 * planning a shift. Weights have ONE source of truth, the SSM StringList (see ../traffic.ts).
 */

import {
  DescribeListenersCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { InvalidInputError } from '../errors';
import {
  COLOURS,
  type Colour,
  describeError,
  InvalidWeightsError,
  ListenerNotWeightedError,
  StoredWeightsInvalidError,
  type TrafficClients,
  type TrafficConfig,
  type Weights,
  WeightsNotWrittenError,
  WeightsPartiallyWrittenError,
  type WriteOutcomes,
} from './common';

// ---------------------------------------------------------------------------------------------
// Weights

/** "blue 90 / green 10". */
export function formatWeights(weights: Weights): string {
  return `blue ${weights.blue} / green ${weights.green}`;
}

export function weightsEqual(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

export function otherColour(colour: Colour): Colour {
  return colour === 'blue' ? 'green' : 'blue';
}

/**
 * `weights` if they are integers 0..100 summing to 100 (ALB takes 0..999, but percentages
 * are what the SSM parameter, the plans and humans use); InvalidWeightsError naming the value
 * otherwise.
 */
export function validateWeights(weights: Weights): Weights {
  for (const colour of COLOURS) {
    const value = weights[colour];
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      throw new InvalidWeightsError(
        `Invalid ${colour} weight ${String(value)}: weights are integer percentages 0..100`,
      );
    }
  }
  if (weights.blue + weights.green !== 100) {
    throw new InvalidWeightsError(
      `Invalid weights ${weights.blue},${weights.green}: blue + green must be 100 (got ${weights.blue + weights.green})`,
    );
  }
  return { blue: weights.blue, green: weights.green };
}

/** The weights of "<blue>,<green>" (e.g. "90,10"); StoredWeightsInvalidError unless exactly that. */
export function parseWeights(text: string): Weights {
  const match = /^(\d{1,3}),(\d{1,3})$/.exec(text);
  if (!match) {
    throw new StoredWeightsInvalidError(`Weights "${text}" are not "<blue>,<green>" (e.g. "90,10")`);
  }
  try {
    return validateWeights({ blue: Number(match[1]), green: Number(match[2]) });
  } catch (error) {
    throw new StoredWeightsInvalidError(`Weights "${text}": ${(error as Error).message}`, { cause: error });
  }
}

/** How the live weights differ from the stored ones, or undefined when they agree. */
export interface WeightsDrift {
  readonly live: Weights;
  readonly stored: Weights;
  /** "live blue 100 / green 0, stored (source of truth) blue 90 / green 10". */
  readonly description: string;
}

/** The drift between the listener (`live`) and the SSM parameter (`stored`), if any. */
export function weightsDrift(live: Weights, stored: Weights): WeightsDrift | undefined {
  if (weightsEqual(live, stored)) return undefined;
  return {
    live,
    stored,
    description: `live ${formatWeights(live)}, stored (source of truth) ${formatWeights(stored)}`,
  };
}

/** The listener's weights; ListenerNotWeightedError unless its default action is a weighted forward to exactly the two groups. */
export async function readLiveWeights(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
  targetGroups: TrafficConfig['targetGroups'],
): Promise<Weights> {
  const result = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
  const listener = result.Listeners?.find((l) => l.ListenerArn === listenerArn) ?? result.Listeners?.[0];
  if (listener === undefined) {
    throw new ListenerNotWeightedError(`Listener ${listenerArn} not found`);
  }
  const forwards = (listener.DefaultActions ?? []).filter((a) => a.Type === 'forward');
  const forward = forwards[0];
  if (forwards.length !== 1 || forward === undefined) {
    throw new ListenerNotWeightedError(
      `Listener ${listenerArn}: the default actions hold ${forwards.length} forward actions, expected 1 ` +
        `(actions: ${(listener.DefaultActions ?? []).map((a) => a.Type).join(', ') || 'none'})`,
    );
  }
  const tuples = forward.ForwardConfig?.TargetGroups ?? [];
  const weightOf = (arn: string): number | undefined => tuples.find((t) => t.TargetGroupArn === arn)?.Weight;
  const blue = weightOf(targetGroups.blue);
  const green = weightOf(targetGroups.green);
  if (tuples.length !== 2 || blue === undefined || green === undefined) {
    const found = tuples.map((t) => `${t.TargetGroupArn ?? '?'}=${t.Weight ?? '?'}`).join(', ');
    throw new ListenerNotWeightedError(
      `Listener ${listenerArn} does not forward to exactly the blue and green target groups with weights ` +
        `(found: ${found || forward.TargetGroupArn || 'no target groups'})`,
    );
  }
  return { blue, green };
}

/** The weights stored in the SSM parameter (the source of truth). */
export async function readStoredWeights(ssm: SSMClient, parameterName: string): Promise<Weights> {
  let value: string | undefined;
  try {
    const result = await ssm.send(new GetParameterCommand({ Name: parameterName }));
    value = result.Parameter?.Value;
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ParameterNotFound') {
      throw new StoredWeightsInvalidError(`SSM parameter ${parameterName} does not exist`, { cause: error });
    }
    throw error;
  }
  if (value === undefined) throw new StoredWeightsInvalidError(`SSM parameter ${parameterName} has no value`);
  try {
    return parseWeights(value);
  } catch (error) {
    throw new StoredWeightsInvalidError(`SSM parameter ${parameterName}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Writes `weights` to the listener and to the SSM parameter, in parallel, each retried.
 * Validates first (InvalidWeightsError, nothing written). When a half fails, throws
 * WeightsPartiallyWrittenError (the other landed: listener and parameter disagree) or
 * WeightsNotWrittenError, both carrying the two outcomes; the caller alerts.
 */
export async function writeWeights(
  clients: Pick<TrafficClients, 'elbv2' | 'ssm'>,
  config: Pick<TrafficConfig, 'listenerArn' | 'targetGroups' | 'weightsParameter'>,
  weights: Weights,
): Promise<Weights> {
  const valid = validateWeights(weights);
  const [listener, parameter] = await Promise.allSettled([
    clients.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: config.listenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: config.targetGroups.blue, Weight: valid.blue },
                { TargetGroupArn: config.targetGroups.green, Weight: valid.green },
              ],
            },
          },
        ],
      }),
    ),
    clients.ssm.send(
      new PutParameterCommand({
        Name: config.weightsParameter,
        Value: `${valid.blue},${valid.green}`,
        Type: 'StringList',
        Overwrite: true,
      }),
    ),
  ]);
  if (listener.status === 'fulfilled' && parameter.status === 'fulfilled') return valid;
  const outcomes: WriteOutcomes = {
    listener: listener.status === 'fulfilled' ? 'written' : describeError(listener.reason),
    parameter: parameter.status === 'fulfilled' ? 'written' : describeError(parameter.reason),
  };
  const summary =
    `listener ${config.listenerArn}: ${outcomes.listener}; ` +
    `parameter ${config.weightsParameter}: ${outcomes.parameter}`;
  const cause =
    listener.status === 'rejected' ? listener.reason : (parameter as PromiseRejectedResult).reason;
  if (listener.status === 'rejected' && parameter.status === 'rejected') {
    throw new WeightsNotWrittenError(
      `Weights ${formatWeights(valid)} NOT written (${summary})`,
      valid,
      outcomes,
      {
        cause,
      },
    );
  }
  throw new WeightsPartiallyWrittenError(
    `Weights ${formatWeights(valid)} only partly written: listener and parameter now disagree (${summary})`,
    valid,
    outcomes,
    { cause },
  );
}

// ---------------------------------------------------------------------------------------------
// Plans

/** The default steps of a shift: the target colour's weight after each. */
export const DEFAULT_SHIFT_STEPS: readonly number[] = [10, 50, 100];

/** `steps` if strictly increasing integers in 1..100 ending at 100; InvalidInputError naming the value otherwise. */
export function validateSteps(steps: readonly number[]): number[] {
  if (steps.length === 0)
    throw new InvalidInputError('Invalid steps []: give at least one step, ending at 100');
  let previous = 0;
  for (const step of steps) {
    if (!Number.isInteger(step) || step < 1 || step > 100) {
      throw new InvalidInputError(`Invalid step ${String(step)}: steps are integer percentages 1..100`);
    }
    if (step <= previous) {
      throw new InvalidInputError(
        `Invalid step ${step} after ${previous}: steps must be strictly increasing (got ${steps.join(',')})`,
      );
    }
    previous = step;
  }
  if (previous !== 100) {
    throw new InvalidInputError(
      `Invalid last step ${previous}: the steps must end at 100 (got ${steps.join(',')})`,
    );
  }
  return [...steps];
}

/**
 * The weights of each step of a shift to `to`: the target colour gets each step's
 * percentage, the other the rest. Steps the target colour's current share already reaches are
 * skipped (a shift never moves traffic back), so a colour already at 100 gets no step.
 */
export function planShift(
  from: Weights,
  to: Colour,
  steps: readonly number[] = DEFAULT_SHIFT_STEPS,
): Weights[] {
  const valid = validateSteps(steps);
  const total = from.blue + from.green;
  const currentShare = total === 0 ? 0 : (from[to] * 100) / total;
  return valid
    .filter((step) => step > currentShare)
    .map((step) => (to === 'green' ? { blue: 100 - step, green: step } : { blue: step, green: 100 - step }));
}
