import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig, parseEnvironmentConfig } from '../lib/config';
import { ENVIRONMENTS } from '../lib/config/environments';
import { type Synthesized, sharedSynth, synthesizeApp, withoutAssetHashes } from './helpers/synth';

// Behaviour that depends on config values the committed environments do not use. One synth
// holds every variant: prod with other weights, staging with RDS Proxy on. cdk-nag runs on
// it (an unacknowledged finding throws here); CloudFormation Validate is left to the shared
// synth, where it covers every committed environment.
let baseline: Synthesized;
let variant: Synthesized;

beforeAll(async () => {
  baseline = await sharedSynth();
  expect(loadEnvironmentConfig('prod').traffic.blueWeight).toBe(100);
  expect(loadEnvironmentConfig('staging').database.proxy).toBe(false);
  variant = synthesizeApp(
    [
      parseEnvironmentConfig('prod', { ...ENVIRONMENTS.prod, traffic: { blueWeight: 50, greenWeight: 50 } }),
      parseEnvironmentConfig('staging', {
        ...ENVIRONMENTS.staging,
        database: { ...ENVIRONMENTS.staging.database, proxy: true },
        cache: { ...ENVIRONMENTS.staging.cache, replicas: 1, multiAz: true },
      }),
    ],
    { cloudFormationValidate: false },
  );
});

// The promise: live weights (written by a shift or rollback) are not undone by the next
// deploy. The listener's weights must therefore come from the SSM parameter alone, so a
// deploy with any config weights renders the same listener.
describe('traffic weights have one source of truth', () => {
  it('renders the same service resources and parameters whatever weights config holds', () => {
    // Outputs may mention config's seed (the ops manifest does); resources must not.
    const deployed = (s: Synthesized) => {
      const { Resources, Parameters } = s.templateJson('prod', 'service');
      return withoutAssetHashes({ Resources, Parameters });
    };
    expect(deployed(variant)).toEqual(deployed(baseline));
  });

  it('uses config weights only as the seed of a parameter that does not exist yet', () => {
    const seedOf = (s: Synthesized) => {
      const resources = s.templateJson('prod', 'stateful').Resources as Record<string, any>;
      const seed = Object.values(resources).find((r) => r.Type === 'Custom::AWS');
      return JSON.parse(seed.Properties.Create).parameters;
    };
    expect(seedOf(baseline)).toMatchObject({ Value: '100,0', Overwrite: false });
    expect(seedOf(variant)).toMatchObject({ Value: '50,50', Overwrite: false });
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

describe('cache failover as a config choice', () => {
  it('runs a replica with Multi-AZ automatic failover when config asks for it', () => {
    variant.template('staging', 'stateful').hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
  });
});

describe('RDS Proxy as a config choice', () => {
  it('puts a TLS-only proxy with the generated credentials in front of the instance', () => {
    const template = variant.template('staging', 'stateful');
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'DISABLED' })],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 90 }),
    });
  });

  it('points the containers at the proxy endpoint instead of the instance', () => {
    const definitions = Object.values(
      variant.templateJson('staging', 'service').Resources as Record<string, any>,
    )
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .filter((r) => /-(blue|green)-/.test(r.Properties.Family))
      .map((r) =>
        r.Properties.ContainerDefinitions[0].Environment.find((e: { Name: string }) => e.Name === 'DB_HOST'),
      );
    expect(definitions).toHaveLength(2);
    for (const dbHost of definitions) expect(JSON.stringify(dbHost.Value)).toMatch(/Proxy[A-Z0-9]*Endpoint/);
  });

  it('has no proxy where config leaves it off', () => {
    baseline.template('staging', 'stateful').resourceCountIs('AWS::RDS::DBProxy', 0);
  });
});
