import { loadEnvironmentConfig } from '../../lib/config';
import { stackName } from '../../lib/naming';
import { createResolver } from '../helpers/cfn-resolve';
import { sharedSynth } from '../helpers/synth';

/**
 * The synthesized service stack of prod, its resources, and the resolved environment of the
 * function whose variables `pick` accepts: what the handler's parser really gets when deployed.
 */
export async function deployedProd(pick: (variables: Record<string, unknown>) => boolean) {
  const synth = await sharedSynth();
  const templates = {
    [stackName('prod', 'stateful')]: synth.templateJson('prod', 'stateful'),
    [stackName('prod', 'service')]: synth.templateJson('prod', 'service'),
  };
  const service = stackName('prod', 'service');
  const resolver = createResolver({
    templates: templates as never,
    account: loadEnvironmentConfig('prod').account ?? '123456789012',
    region: 'us-east-1',
    parameterValues: {
      TrafficWeightsParameter: ['100', '0'],
      BatchScheduleStateParameter: 'ENABLED',
      BootstrapVersion: '30',
    },
  });
  const resources = Object.values((templates[service] as { Resources: Record<string, any> }).Resources);
  const fn = resources.find(
    (r) => r.Type === 'AWS::Lambda::Function' && pick(r.Properties.Environment?.Variables ?? {}),
  );
  if (!fn) throw new Error('no function of the prod service stack has those variables');
  const env = resolver.resolve(service, fn.Properties.Environment.Variables) as Record<string, string>;
  const outputs = (templates[service] as { Outputs: Record<string, { Value: unknown }> }).Outputs;
  /** A stack output's value as deployed. */
  const output = (name: string) => String(resolver.resolve(service, outputs[name]?.Value));
  return { resources, env, output, stackName: service };
}
