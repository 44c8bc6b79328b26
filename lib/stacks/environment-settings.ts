import { RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from '../config';
import { envScopedName } from '../naming';

/** What both stacks of an environment derive the same way from its config. */
export interface EnvironmentSettings {
  /** Deletion protection, snapshots and RETAIN on the data (config `protection.retainData`). */
  readonly retainData: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** The runbook's name of a resource, environment-suffixed outside prod. */
  readonly name: (base: string) => string;
}

export function environmentSettings(config: EnvironmentConfig): EnvironmentSettings {
  const retainData = config.protection.retainData;
  return {
    retainData,
    removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: config.service.logRetentionDays as logs.RetentionDays,
    name: (base) => envScopedName(config.envName, base),
  };
}
