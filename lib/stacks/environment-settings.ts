import { RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from '../config';
import type { FunctionLogProps } from '../constructs/app-function';
import { envScopedName } from '../naming';

/** What both stacks of an environment derive the same way from its config. */
export interface EnvironmentSettings {
  /** Deletion protection, snapshots and RETAIN on the data (config `protection.retainData`). */
  readonly retainData: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** The log settings of every Lambda of the environment (its retention and removal policy). */
  readonly functionLogs: FunctionLogProps;
  /** The runbook's name of a resource, environment-suffixed outside prod. */
  readonly name: (base: string) => string;
}

export function environmentSettings(config: EnvironmentConfig): EnvironmentSettings {
  const retainData = config.protection.retainData;
  const removalPolicy = retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  const logRetention = config.service.logRetentionDays as logs.RetentionDays;
  return {
    retainData,
    removalPolicy,
    logRetention,
    functionLogs: { logRetention, logRemovalPolicy: removalPolicy },
    name: (base) => envScopedName(config.envName, base),
  };
}
