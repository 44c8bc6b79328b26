import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientFactory } from '../../core/aws-clients';
import { opsTableDocumentClient } from '../../core/ops-table/client';

// Its own file, as core/ops-table/client.ts.

/**
 * The clients core/automation acts with: the ops table (an action's record, the pause and
 * repeat guards), the schedules that verify an action, the topics that report it.
 */
export interface AutomationClients {
  readonly ddb: DynamoDBDocumentClient;
  readonly scheduler: SchedulerClient;
  readonly sns: SNSClient;
}

/** The clients of {@link AutomationClients}, of the Lambdas whose actions are automated. */
export function automationClients(aws: AwsClientFactory): AutomationClients {
  return {
    ddb: opsTableDocumentClient(aws),
    scheduler: aws.client(SchedulerClient),
    sns: aws.client(SNSClient),
  };
}
