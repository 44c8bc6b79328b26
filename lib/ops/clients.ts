/** The AWS clients of the ops CLI (standard credential chain) and its other dependencies. */

import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientFactory, ONE_ATTEMPT } from '../../core/aws-clients';
import { opsTableDocumentClient } from '../../core/ops-table/client';

/** Every client a command may use. */
export interface OpsClients {
  readonly cloudformation: CloudFormationClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  /** A document client translating with OPS_TABLE_TRANSLATE_CONFIG. */
  readonly ddb: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly scheduler: SchedulerClient;
  readonly sns: SNSClient;
  readonly logs: CloudWatchLogsClient;
  /** `diagnose`, and `backup snapshot` and `list`. */
  readonly rds: RDSClient;
  readonly elasticache: ElastiCacheClient;
  /** Budgets is served from us-east-1 whatever the region. */
  readonly budgets: BudgetsClient;
  /** `db`: invokes the inspection and maintenance Lambdas synchronously. */
  readonly lambda: LambdaClient;
  /** Lambda, one attempt per call: for invocations that must not be sent twice. */
  readonly lambdaOnce: LambdaClient;
  /** `backup dump` and `list`: the backups bucket. */
  readonly s3: S3Client;
  /** `cost`: AWS spend by service (Cost Explorer is served from us-east-1). */
  readonly costExplorer: CostExplorerClient;
}

/** Where text goes (process.stdout and process.stderr fit). */
export interface TextSink {
  write(text: string): unknown;
}

/** What {@link runCli} needs from the outside; tests inject all of it. */
export interface CliDeps {
  /** The clients of a region. */
  readonly clients: (region: string) => OpsClients;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Who runs the CLI, for audit entries and the shift's requestedBy. @default the OS user name */
  readonly actor?: () => string;
  /** Environment variables (AWS_REGION). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds between two polls of a running shift. @default 5000 */
  readonly pollIntervalMs?: number;
  /**
   * Asks the person at the terminal and returns the answer; absent when stdin is not a
   * terminal (a command that changes something then needs --yes). @default a readline prompt on a TTY
   */
  readonly prompt?: (question: string) => Promise<string>;
}

/**
 * Clients of `region` with the Lambdas' retry policy (core/aws-clients.ts), without
 * their per-attempt timeouts: a person at the terminal waits for a slow answer.
 */
export function createClients(region: string): OpsClients {
  const aws = awsClientFactory({ region });
  return {
    cloudformation: aws.client(CloudFormationClient),
    elbv2: aws.client(ElasticLoadBalancingV2Client),
    ssm: aws.client(SSMClient),
    ddb: opsTableDocumentClient(aws),
    sfn: aws.client(SFNClient),
    ecs: aws.client(ECSClient),
    cloudwatch: aws.client(CloudWatchClient),
    scheduler: aws.client(SchedulerClient),
    sns: aws.client(SNSClient),
    logs: aws.client(CloudWatchLogsClient),
    rds: aws.client(RDSClient),
    elasticache: aws.client(ElastiCacheClient),
    budgets: aws.client(BudgetsClient, { region: 'us-east-1' }),
    // A synchronous invocation of the maintenance runs for up to 15 minutes: the SDK's
    // request timeout is off by default, and its TCP keep-alive keeps the idle socket open.
    lambda: aws.client(LambdaClient),
    // One attempt: a maintenance run is not idempotent within its timeout, and a retry after a
    // lost connection or a throttled invocation would start a second run beside the first.
    lambdaOnce: awsClientFactory({ region, policy: ONE_ATTEMPT }).client(LambdaClient),
    s3: aws.client(S3Client),
    costExplorer: aws.client(CostExplorerClient, { region: 'us-east-1' }),
  };
}

/** A y/N question on the terminal (the prompt on stderr, so that --json output stays clean). */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** The OS user running the CLI ("unknown" if the platform cannot tell). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** The real dependencies: AWS, the terminal, the clock. */
export function defaultDeps(): CliDeps {
  return {
    clients: createClients,
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    actor: osUser,
    env: process.env,
    prompt: process.stdin.isTTY ? ask : undefined,
  };
}
