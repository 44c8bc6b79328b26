import { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handleEvent } from '../../lambdas/health-check/handler';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lib/config';
import { sharedSynth } from '../helpers/synth';
import { clients, healthyWorld, mocks, serve } from '../lambdas/health-check/fixtures';
import { datapointsOf, observe } from '../lambdas/health-check/handler-harness';
import { deployedEnvironment } from './deployed-env';

// An alarm on a metric is silent unless it names the metric's every dimension exactly. The
// heartbeat alarm's dimensions are written in the construct, the heartbeat's in the handler:
// this runs the handler with each environment's deployed configuration and compares the two.
interface Deployed {
  readonly env: Record<string, string>;
  readonly alarmDimensions: Record<string, unknown>;
}
const deployed = new Map<EnvironmentName, Deployed>();

beforeAll(async () => {
  const synth = await sharedSynth();
  for (const envName of ENVIRONMENT_NAMES) {
    const environment = deployedEnvironment(synth, envName);
    const fn = environment.functions.find((f) => f.env.POWERTOOLS_SERVICE_NAME === 'health-check');
    const template = environment.templates[environment.stackName] as { Resources: Record<string, any> };
    const alarm = Object.values(template.Resources).find(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        String(r.Properties.AlarmName).endsWith('-health-check-heartbeat'),
    );
    if (fn === undefined || alarm === undefined)
      throw new Error(`${envName}: no health check or heartbeat alarm`);
    deployed.set(envName, {
      env: fn.env,
      alarmDimensions: Object.fromEntries(
        (alarm.Properties.Dimensions as Array<{ Name: string; Value: unknown }>).map((d) => [
          d.Name,
          d.Value,
        ]),
      ),
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the health check heartbeat alarm', () => {
  it.each(ENVIRONMENT_NAMES)(
    '%s: watches exactly the dimensions the deployed handler emits',
    async (envName) => {
      const { env, alarmDimensions } = deployed.get(envName) as Deployed;
      serve(healthyWorld());
      const observed = observe();

      // The world does not know the deployed services: the checks fail, the report goes out, and
      // the heartbeat follows it.
      await handleEvent(
        { check: 'light' },
        { clients: clients(), env, observability: observed, now: () => new Date() },
      );

      expect(mocks.sns.commandCalls(PublishCommand).length).toBeGreaterThan(0);
      const heartbeat = datapointsOf(observed.emf).find((p) => p.name === 'Heartbeat');
      expect(heartbeat?.dims).toEqual(alarmDimensions);
    },
  );
});
