import { ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientFactory } from '../../core/aws-clients';
import type { KillSwitchClients } from '../../core/kill-switch/types';
import { automationClients } from './automation-clients';

// Its own file, as core/ops-table/client.ts.

/** The clients the kill switch acts with (core/kill-switch), of the guards that engage it. */
export function killSwitchClients(aws: AwsClientFactory): KillSwitchClients {
  return {
    ...automationClients(aws),
    sfn: aws.client(SFNClient),
    ecs: aws.client(ECSClient),
    ssm: aws.client(SSMClient),
  };
}
