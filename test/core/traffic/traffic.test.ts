import 'aws-sdk-client-mock-vitest/extend';
import { DescribeListenersCommand, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import {
  acquireShiftLock,
  DEFAULT_SHIFT_STEPS,
  describeCause,
  InvalidWeightsError,
  ListenerNotWeightedError,
  parseWeights,
  planShift,
  readLiveWeights,
  readStoredWeights,
  releaseShiftLock,
  ShiftInProgressError,
  StoredWeightsInvalidError,
  trafficConfigFromEnv,
  validateWeights,
  WeightsNotWrittenError,
  WeightsPartiallyWrittenError,
  weightsDrift,
  writeWeights,
} from '../../../core/traffic';
import { automationSettings } from '../../helpers/automation';
import {
  ALARMS,
  awsError,
  BLUE_TG,
  CONFIG,
  clients,
  ENV,
  engine,
  engineClients,
  executionArn,
  GREEN_TG,
  LISTENER_ARN,
  lockItem,
  mocks,
  OPS_TABLE,
  stored,
  WEIGHTS_PARAMETER,
  world,
} from '../../lambdas/traffic-shift/harness';

import { NOW, reset, writes } from './traffic-fixtures';

beforeEach(() => reset());

describe('planShift', () => {
  it('plans the default steps 10, 50, 100 from blue to green', () => {
    expect(DEFAULT_SHIFT_STEPS).toEqual([10, 50, 100]);
    expect(planShift({ blue: 100, green: 0 }, 'green')).toEqual([
      { blue: 90, green: 10 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ]);
  });

  it('plans custom steps back to blue', () => {
    expect(planShift({ blue: 0, green: 100 }, 'blue', [25, 100])).toEqual([
      { blue: 25, green: 75 },
      { blue: 100, green: 0 },
    ]);
  });

  it('skips the steps the target colour already reaches: a shift never moves traffic back', () => {
    expect(planShift({ blue: 50, green: 50 }, 'green', [10, 50, 100])).toEqual([{ blue: 0, green: 100 }]);
    expect(planShift({ blue: 0, green: 100 }, 'green')).toEqual([]);
  });

  it.each([
    [[10, 10, 100], /step 10 after 10: steps must be strictly increasing/],
    [[50, 10, 100], /step 10 after 50/],
    [[0, 50, 100], /Invalid step 0: steps are integer percentages 1..100/],
    [[10, 150], /Invalid step 150/],
    [[10, 50], /Invalid last step 50: the steps must end at 100/],
    [[10.5, 100], /Invalid step 10.5/],
    [[], /at least one step/],
  ])('rejects steps %j naming the value', (steps, message) => {
    expect(() => planShift({ blue: 100, green: 0 }, 'green', steps)).toThrow(InvalidInputError);
    expect(() => planShift({ blue: 100, green: 0 }, 'green', steps)).toThrow(message);
  });
});

describe('weights', () => {
  it('validates percentages summing to 100', () => {
    expect(validateWeights({ blue: 90, green: 10 })).toEqual({ blue: 90, green: 10 });
    expect(() => validateWeights({ blue: 90, green: 20 })).toThrow(/blue \+ green must be 100 \(got 110\)/);
    expect(() => validateWeights({ blue: 101, green: -1 })).toThrow(InvalidWeightsError);
    expect(() => validateWeights({ blue: 99.5, green: 0.5 })).toThrow(/Invalid blue weight 99.5/);
  });

  it('parses "<blue>,<green>" strictly', () => {
    expect(parseWeights('90,10')).toEqual({ blue: 90, green: 10 });
    for (const bad of ['90, 10', ' 90,10', '90;10', 'a,b', '90,10,0', '90,20', '']) {
      expect(() => parseWeights(bad), bad).toThrow(StoredWeightsInvalidError);
    }
  });

  it('reports drift between live and stored', () => {
    expect(weightsDrift({ blue: 90, green: 10 }, { blue: 90, green: 10 })).toBeUndefined();
    expect(weightsDrift({ blue: 100, green: 0 }, { blue: 90, green: 10 })?.description).toBe(
      'live blue 100 / green 0, stored (source of truth) blue 90 / green 10',
    );
  });

  it('reads the live weights of the weighted forward', async () => {
    await reset({ listener: { blue: 90, green: 10 } });
    await expect(readLiveWeights(clients.elbv2, LISTENER_ARN, CONFIG.targetGroups)).resolves.toEqual({
      blue: 90,
      green: 10,
    });
    expect(mocks.elbv2).toHaveReceivedCommandWith(DescribeListenersCommand, { ListenerArns: [LISTENER_ARN] });
  });

  it.each([
    ['a plain forward to one target group', [{ Type: 'forward', TargetGroupArn: BLUE_TG }]],
    ['a fixed response', [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }]],
    [
      'a forward to another group',
      [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: BLUE_TG, Weight: 50 },
              { TargetGroupArn: `${GREEN_TG}-old`, Weight: 50 },
            ],
          },
        },
      ],
    ],
  ])('refuses a listener with %s (ListenerNotWeightedError)', async (_, actions) => {
    mocks.elbv2
      .on(DescribeListenersCommand)
      .resolves({ Listeners: [{ ListenerArn: LISTENER_ARN, DefaultActions: actions as any }] });
    await expect(readLiveWeights(clients.elbv2, LISTENER_ARN, CONFIG.targetGroups)).rejects.toThrow(
      ListenerNotWeightedError,
    );
  });

  it('reads the stored weights and names a missing or malformed parameter', async () => {
    await reset({ parameter: '70,30' });
    await expect(readStoredWeights(clients.ssm, WEIGHTS_PARAMETER)).resolves.toEqual({
      blue: 70,
      green: 30,
    });
    await reset({ parameter: '70,20' });
    await expect(readStoredWeights(clients.ssm, WEIGHTS_PARAMETER)).rejects.toThrow(
      `SSM parameter ${WEIGHTS_PARAMETER}: Weights "70,20"`,
    );
    await reset({ parameter: null });
    await expect(readStoredWeights(clients.ssm, WEIGHTS_PARAMETER)).rejects.toThrow(/does not exist/);
  });

  it('writes the listener and the parameter', async () => {
    await expect(writeWeights(engineClients(), CONFIG, { blue: 90, green: 10 })).resolves.toEqual({
      blue: 90,
      green: 10,
    });
    expect(mocks.elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, {
      ListenerArn: LISTENER_ARN,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: BLUE_TG, Weight: 90 },
              { TargetGroupArn: GREEN_TG, Weight: 10 },
            ],
          },
        },
      ],
    });
    expect(mocks.ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: WEIGHTS_PARAMETER,
      Value: '90,10',
      Type: 'StringList',
      Overwrite: true,
    });
    expect(world.listener).toEqual({ blue: 90, green: 10 });
    expect(world.parameter).toBe('90,10');
  });

  it('writes nothing for invalid weights', async () => {
    await expect(writeWeights(engineClients(), CONFIG, { blue: 95, green: 10 })).rejects.toThrow(
      InvalidWeightsError,
    );
    expect(await writes()).toBe(0);
  });

  it('says which half landed when one fails (WeightsPartiallyWrittenError)', async () => {
    mocks.elbv2
      .on(ModifyListenerCommand)
      .rejects(
        awsError('AccessDenied', 'User is not authorized to perform: elasticloadbalancing:ModifyListener'),
      );
    const error = await writeWeights(engineClients(), CONFIG, { blue: 50, green: 50 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WeightsPartiallyWrittenError);
    expect((error as WeightsPartiallyWrittenError).outcomes).toEqual({
      listener: 'AccessDenied: User is not authorized to perform: elasticloadbalancing:ModifyListener',
      parameter: 'written',
    });
    expect((error as Error).message).toMatch(/listener and parameter now disagree/);
    expect(world.parameter).toBe('50,50');
  });

  it('WeightsNotWrittenError when both fail', async () => {
    mocks.elbv2.on(ModifyListenerCommand).rejects(awsError('AccessDenied', 'denied'));
    mocks.ssm.on(PutParameterCommand).rejects(awsError('ParameterLimitExceeded', 'too many'));
    await expect(writeWeights(engineClients(), CONFIG, { blue: 50, green: 50 })).rejects.toThrow(
      WeightsNotWrittenError,
    );
  });
});

describe('shift lock', () => {
  const arn = executionArn('to-green-2');

  it('is taken when free and refused while another execution holds it', async () => {
    await acquireShiftLock(engine().ddb, OPS_TABLE, { executionArn: arn, to: 'green', now: NOW });
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toMatchObject({
      executionArn: arn,
      to: 'green',
      acquiredAt: NOW.toISOString(),
      expiresAt: NOW.getTime() / 1000 + 6 * 3600,
    });
    const other = executionArn('to-blue-3');
    const error = await acquireShiftLock(engine().ddb, OPS_TABLE, {
      executionArn: other,
      to: 'blue',
      now: NOW,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShiftInProgressError);
    expect((error as ShiftInProgressError).executionArn).toBe(arn);
    expect((error as Error).message).toContain(`in progress: ${arn} (since ${NOW.toISOString()})`);
  });

  it('is kept by the same execution (a retried task) and taken over once expired', async () => {
    await reset({ items: [lockItem({ executionArn: arn })] });
    await expect(
      acquireShiftLock(engine().ddb, OPS_TABLE, { executionArn: arn, to: 'green', now: NOW }),
    ).resolves.toMatchObject({ executionArn: arn });
    // Re-taken at NOW: it expires 6 h after NOW.
    const later = new Date(NOW.getTime() + 6 * 3600_000 + 1000);
    const other = executionArn('to-blue-3');
    await acquireShiftLock(engine().ddb, OPS_TABLE, { executionArn: other, to: 'blue', now: later });
    expect((await stored('TRAFFIC', 'SHIFT_LOCK'))?.executionArn).toBe(other);
  });

  it('is released only by its holder', async () => {
    await reset({ items: [lockItem({ executionArn: arn })] });
    await expect(releaseShiftLock(engine().ddb, OPS_TABLE, executionArn('x'))).resolves.toBe(false);
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeDefined();
    await expect(releaseShiftLock(engine().ddb, OPS_TABLE, arn)).resolves.toBe(true);
    expect(await stored('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
  });
});

describe('configuration and causes', () => {
  it("reads the traffic Lambdas' environment", () => {
    // The shift cannot name the state machine that invokes it (a cycle in the template).
    expect(trafficConfigFromEnv(ENV)).toEqual({
      traffic: { ...CONFIG, shiftStateMachineArn: undefined },
      alarms: ALARMS,
      automation: automationSettings(CONFIG.opsTable),
    });
  });

  it('names every bad variable', () => {
    expect(() => trafficConfigFromEnv({ ...ENV, ALARMS_JSON: '{"p0":', LISTENER_ARN: 'listener' })).toThrow(
      /LISTENER_ARN: must be an ARN; ALARMS_JSON: must be valid JSON/,
    );
  });

  it('reads a Lambda error cause', () => {
    expect(
      describeCause(
        'WeightsPartiallyWrittenError',
        JSON.stringify({ errorType: 'WeightsPartiallyWrittenError', errorMessage: 'only partly', trace: [] }),
      ),
    ).toBe('WeightsPartiallyWrittenError: only partly');
    expect(describeCause('ShiftRolledBack', 'Alarms firing: ["a"]')).toBe(
      'ShiftRolledBack: Alarms firing: ["a"]',
    );
  });
});
