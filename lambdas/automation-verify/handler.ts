import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { verificationRequestSchema } from '../../core/automation/checks';
import { lambdaClientFactory } from '../../core/aws-clients';
import { automationVerifyContract } from '../../core/contracts/automation';
import { describeIssues, InvalidInputError } from '../../core/errors';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import { type LambdaDeps, lambdaEntryPoint, observeInvocation } from '../shared/handler';
import { createObservability, MetricUnit } from '../shared/observability';
import { type VerifyClients, type VerifyResult, verifyAction } from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<VerifyClients>;

const defaultObservability = createObservability('automation-verify');

/**
 * Handles one verification request (the schedule's input). Throws InvalidInputError for
 * anything else (nothing done) and rethrows failures so that the retries and the dead-letter
 * queue see them.
 *
 * Metrics: AutomationVerified (dimension `outcome`: ok, failed, duplicate),
 * AutomationVerifyFailed, InvalidVerificationRequest.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<VerifyResult> {
  const observability = deps.observability ?? defaultObservability;
  const { logger, metrics } = observability;
  return observeInvocation(
    observability,
    {
      failure: (error) => ({
        metrics: [
          error instanceof InvalidInputError ? 'InvalidVerificationRequest' : 'AutomationVerifyFailed',
        ],
        message: 'Verification failed',
      }),
    },
    async () => {
      const parsed = verificationRequestSchema.safeParse(event);
      if (!parsed.success) {
        throw new InvalidInputError(
          `Not a verification request, NOTHING verified: ${describeIssues(parsed.error.issues)}`,
        );
      }
      const settings = automationVerifyContract.parse(deps.env).automation;
      const result = await verifyAction(deps.clients, settings, parsed.data, {
        now: deps.now,
        logger,
      });
      const single = metrics.singleMetric();
      single.addDimension('outcome', result.outcome);
      single.addMetric('AutomationVerified', MetricUnit.Count, 1);
      return result;
    },
  );
}

// Module scope: reused across warm invocations. Retries are the SDK's (core/aws-clients.ts),
// each attempt bounded by its timeouts, each retry logged.
const aws = lambdaClientFactory({ logger: defaultObservability.logger });
const clients: VerifyClients = {
  cloudwatch: aws.client(CloudWatchClient),
  ecs: aws.client(ECSClient),
  elbv2: aws.client(ElasticLoadBalancingV2Client),
  ssm: aws.client(SSMClient),
  scheduler: aws.client(SchedulerClient),
  sfn: aws.client(SFNClient),
  sns: aws.client(SNSClient),
  ddb: DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG),
};

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event) =>
  handleEvent(event, { clients, env: process.env }),
);
