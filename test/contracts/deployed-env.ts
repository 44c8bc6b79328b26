import { ENVIRONMENT_NAMES, type EnvironmentName, loadEnvironmentConfig } from '../../lib/config';
import { stackName } from '../../lib/naming';
import { createResolver } from '../helpers/cfn-resolve';
import type { Synthesized, Tier } from '../helpers/synth';
import { FAKE_ACCOUNT } from '../iam/deployment';

/** One Lambda function of a synthesized stack, with its environment resolved as deployed. */
export interface DeployedFunction {
  readonly envName: EnvironmentName;
  readonly stackName: string;
  readonly logicalId: string;
  /** Its environment variables as the handler gets them (every intrinsic resolved). */
  readonly env: Record<string, string>;
}

/** The synthesized stacks of an environment, resolved into its account (a fake one for dev). */
export function deployedEnvironment(synth: Synthesized, envName: EnvironmentName) {
  const tiers: readonly Tier[] = ['stateful', 'service'];
  const templates = Object.fromEntries(
    tiers.map((tier) => [stackName(envName, tier), synth.templateJson(envName, tier)]),
  );
  const resolver = createResolver({
    templates: templates as never,
    account: loadEnvironmentConfig(envName).account ?? FAKE_ACCOUNT,
    region: 'us-east-1',
    parameterValues: {
      TrafficWeightsParameter: ['100', '0'],
      BatchScheduleStateParameter: 'ENABLED',
      BootstrapVersion: '30',
    },
  });
  const functions: DeployedFunction[] = Object.entries(templates).flatMap(([stack, template]) =>
    Object.entries((template as { Resources: Record<string, any> }).Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([logicalId, r]) => ({
        envName,
        stackName: stack,
        logicalId,
        env: resolver.resolve(stack, r.Properties.Environment?.Variables ?? {}) as Record<string, string>,
      })),
  );
  const service = stackName(envName, 'service');
  const outputs = (templates[service] as { Outputs: Record<string, { Value: unknown }> }).Outputs;
  return {
    functions,
    templates,
    stackName: service,
    /** A service stack output's value as deployed. */
    output: (name: string) => String(resolver.resolve(service, outputs[name]?.Value)),
  };
}

/** Every Lambda function of every synthesized environment. */
export function everyDeployedFunction(synth: Synthesized): DeployedFunction[] {
  return ENVIRONMENT_NAMES.flatMap((e) => deployedEnvironment(synth, e).functions);
}

/**
 * The synthesized service stack of prod, its resources, and the resolved environment of the
 * function whose variables `pick` accepts: what the handler's parser really gets when deployed.
 */
export function deployedProd(synth: Synthesized, pick: (variables: Record<string, unknown>) => boolean) {
  const deployed = deployedEnvironment(synth, 'prod');
  const fn = deployed.functions.find((f) => f.stackName === deployed.stackName && pick(f.env));
  if (!fn) throw new Error('no function of the prod service stack has those variables');
  const template = deployed.templates[deployed.stackName] as { Resources: Record<string, any> };
  return {
    resources: Object.values(template.Resources),
    env: fn.env,
    output: deployed.output,
    stackName: deployed.stackName,
  };
}
