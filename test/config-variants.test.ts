import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig, parseEnvironmentConfig } from '../../lib/config';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { type Synthesized, sharedSynth, synthesizeApp } from '../helpers/synth';

// The promise under test: live weights (written by a shift or rollback) are not undone by
// the next deploy. The listener's weights must therefore come from the SSM parameter alone,
// so a deploy with any config weights renders the same listener.
let baseline: Synthesized;
let shifted: Synthesized;

beforeAll(() => {
  baseline = sharedSynth();
  const prod = loadEnvironmentConfig('prod');
  shifted = synthesizeApp([
    parseEnvironmentConfig('prod', { ...ENVIRONMENTS.prod, traffic: { blueWeight: 50, greenWeight: 50 } }),
  ]);
  expect(prod.traffic.blueWeight).toBe(100);
});

describe('traffic weights have one source of truth', () => {
  it('renders the same service template whatever weights config holds', () => {
    expect(shifted.templateJson('prod', 'service')).toEqual(baseline.templateJson('prod', 'service'));
  });

  it('uses config weights only as the seed of a parameter that does not exist yet', () => {
    const seedOf = (s: Synthesized) => {
      const resources = s.templateJson('prod', 'stateful').Resources as Record<string, any>;
      const seed = Object.values(resources).find((r) => r.Type === 'Custom::AWS');
      return JSON.parse(seed.Properties.Create).parameters;
    };
    expect(seedOf(baseline)).toMatchObject({ Value: '100,0', Overwrite: false });
    expect(seedOf(shifted)).toMatchObject({ Value: '50,50', Overwrite: false });
  });

  it('contains no literal weight in any listener', () => {
    const resources = baseline.templateJson('prod', 'service').Resources as Record<string, any>;
    const forwards = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener')
      .flatMap((r) => r.Properties.DefaultActions)
      .filter((a) => a.Type === 'forward');
    expect(forwards.length).toBeGreaterThan(0);
    for (const action of forwards) {
      for (const group of action.ForwardConfig.TargetGroups) {
        expect(typeof group.Weight).not.toBe('number');
        expect(group.Weight).toEqual({
          'Fn::Select': [expect.any(Number), { Ref: 'TrafficWeightsParameter' }],
        });
      }
    }
  });
});
