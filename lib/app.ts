import { type App, Tags } from 'aws-cdk-lib';
import type { EnvironmentConfig } from './config';
import { stackName } from './naming';
import { ServiceStack } from './stacks/service-stack';
import { StatefulStack } from './stacks/stateful-stack';

/** The stacks of one environment. */
export interface EnvironmentStacks {
  readonly config: EnvironmentConfig;
  readonly stateful: StatefulStack;
  readonly service: ServiceStack;
}

/**
 * Adds one environment's stacks to the app: stateful first, then the service tier that
 * reads from it. Stack ids equal stack names, so `cdk deploy fa-ai-system-prod-*` works.
 */
export function addEnvironment(app: App, config: EnvironmentConfig): EnvironmentStacks {
  const env = { account: config.account, region: config.region };
  const common = { env, terminationProtection: config.protection.terminationProtection };
  // Budgets split spend by the Component tag (runbook: batch / interactive / infrastructure).
  const tags = (component: string) => ({ ...config.tags, Component: component });

  const statefulName = stackName(config.envName, 'stateful');
  const stateful = new StatefulStack(app, statefulName, {
    ...common,
    stackName: statefulName,
    description: `FA AI System (${config.envName}): network, database, cache, secrets, backups, image repository, traffic weights`,
    tags: tags('infrastructure'),
    config,
  });

  const serviceName = stackName(config.envName, 'service');
  const service = new ServiceStack(app, serviceName, {
    ...common,
    stackName: serviceName,
    description: `FA AI System (${config.envName}): ECS blue/green services behind a weighted ALB, weekly batch, alerts, budget guard`,
    // No Component at stack level: the service stack holds two components, and a stack tag
    // would be applied to every resource whatever the resource's own tag says.
    tags: { ...config.tags },
    config,
    stateful,
  });

  // Stack tags reach every taggable resource at deploy; tagging resources too keeps the
  // tags visible in templates and diffs.
  for (const stack of [stateful, service]) {
    for (const [key, value] of Object.entries(stack.tags.tagValues())) Tags.of(stack).add(key, value);
  }
  // The weekly batch is the batch budget's ($1,200): its task, state machine, schedule and logs.
  Tags.of(service).add('Component', 'interactive');
  Tags.of(service.batch).add('Component', 'batch', { priority: 200 });
  // Database inspection and dumps belong with the database: infrastructure's budget.
  Tags.of(service.dbInspect).add('Component', 'infrastructure', { priority: 200 });
  Tags.of(service.dbBackup).add('Component', 'infrastructure', { priority: 200 });

  return { config, stateful, service };
}
