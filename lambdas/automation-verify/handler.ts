import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { verificationRequestSchema } from '../../core/automation/checks';
import { automationVerifyContract } from '../../core/contracts/automation';
import { InvalidInputError } from '../../core/errors';
import { automationClients } from '../shared/automation-clients';
import { defineLambda, type LambdaDeps } from '../shared/handler';
import { countWithDimensions } from '../shared/observability';
import { type VerifyClients, type VerifyResult, verifyAction } from './logic';

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export type HandlerDeps = LambdaDeps<VerifyClients>;

const lambda = defineLambda({
  service: 'automation-verify',
  event: { schema: verificationRequestSchema, invalid: 'Not a verification request, NOTHING verified' },
  clients: (aws): VerifyClients => ({
    ...automationClients(aws),
    cloudwatch: aws.client(CloudWatchClient),
    ecs: aws.client(ECSClient),
    elbv2: aws.client(ElasticLoadBalancingV2Client),
    ssm: aws.client(SSMClient),
    sfn: aws.client(SFNClient),
  }),
  failure: (error) => ({
    metrics: [error instanceof InvalidInputError ? 'InvalidVerificationRequest' : 'AutomationVerifyFailed'],
    message: 'Verification failed',
  }),
  run: async (request, deps: HandlerDeps, { logger, metrics }): Promise<VerifyResult> => {
    const settings = automationVerifyContract.parse(deps.env).automation;
    const result = await verifyAction(deps.clients, settings, request, { now: deps.now, logger });
    countWithDimensions(metrics, 'AutomationVerified', { outcome: result.outcome });
    return result;
  },
});

/**
 * Handles one verification request (the schedule's input). Throws InvalidInputError for
 * anything else (nothing done) and rethrows failures so that the retries and the dead-letter
 * queue see them.
 *
 * Metrics: AutomationVerified (dimension `outcome`: ok, failed, duplicate),
 * AutomationVerifyFailed, InvalidVerificationRequest.
 */
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambda.handler;
