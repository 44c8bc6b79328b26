import type { EnvironmentName } from '../../lib/config';
import { stackName } from '../../lib/naming';
import { createResolver, type TemplateJson } from '../helpers/cfn-resolve';
import type { Deployment } from './requests';

/** The account an environment deploys into: its configured one, or a fake one when it has none. */
export const FAKE_ACCOUNT = '123456789012';

/** The live values of the SSM-typed stack parameters, as the first deploy seeds them. */
const PARAMETER_VALUES = {
  TrafficWeightsParameter: ['100', '0'],
  BatchScheduleStateParameter: 'ENABLED',
  BootstrapVersion: '30',
};

/** One environment's two templates, resolved into `account`. */
export function deploymentOf(
  envName: EnvironmentName,
  templateOf: (tier: 'stateful' | 'service') => TemplateJson,
  account: string,
  region: string,
): Deployment {
  const templates = {
    [stackName(envName, 'stateful')]: templateOf('stateful'),
    [stackName(envName, 'service')]: templateOf('service'),
  };
  return {
    envName,
    templates,
    resolver: createResolver({ templates, account, region, parameterValues: PARAMETER_VALUES }),
  };
}
