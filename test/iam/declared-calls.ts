/**
 * What a handler test sent, checked against its function's declaration: a command whose IAM
 * action (or DynamoDB partition) the declaration lacks fails the test file, so a new call cannot
 * ship without its grant. Run from test/setup.ts after each file.
 */

import { afterAll, beforeAll, expect } from 'vitest';
import { AUTOMATION_ACTING_CALLS, AUTOMATION_RECORDING_CALLS } from '../../core/automation/calls';
import type { CallDeclaration } from '../../core/calls';
import { AUTOMATION_VERIFY_CALLS } from '../../lambdas/automation-verify/calls';
import { BUDGET_GUARD_CALLS } from '../../lambdas/budget-guard/calls';
import { DB_INSPECT_CALLS } from '../../lambdas/db-inspect/calls';
import { DB_MAINTENANCE_CALLS } from '../../lambdas/db-maintenance/calls';
import { DB_MIGRATE_CALLS } from '../../lambdas/db-migrate/calls';
import { HEALTH_CHECK_CALLS } from '../../lambdas/health-check/calls';
import { REMEDIATION_CALLS } from '../../lambdas/remediation/calls';
import { SPEND_GUARD_CALLS } from '../../lambdas/spend-guard/calls';
import { SPEND_RECONCILE_CALLS } from '../../lambdas/spend-reconcile/calls';
import { TRAFFIC_ROLLBACK_CALLS } from '../../lambdas/traffic-rollback/calls';
import { TRAFFIC_SHIFT_CALLS } from '../../lambdas/traffic-shift/calls';
import { type SentCommand, takeSentCommands } from '../helpers/aws-mock';

/** Each Lambda's declaration, by its folder under lambdas/. */
export const DECLARATIONS: Readonly<Record<string, CallDeclaration>> = {
  'budget-guard': { ...BUDGET_GUARD_CALLS, ...AUTOMATION_ACTING_CALLS },
  'db-inspect': DB_INSPECT_CALLS,
  'db-maintenance': DB_MAINTENANCE_CALLS,
  'db-migrate': DB_MIGRATE_CALLS,
  'health-check': HEALTH_CHECK_CALLS,
  remediation: { ...REMEDIATION_CALLS, ...AUTOMATION_ACTING_CALLS },
  'spend-guard': { ...SPEND_GUARD_CALLS, ...AUTOMATION_ACTING_CALLS },
  'spend-reconcile': SPEND_RECONCILE_CALLS,
  'traffic-rollback': { ...TRAFFIC_ROLLBACK_CALLS, ...AUTOMATION_ACTING_CALLS },
  'automation-verify': AUTOMATION_VERIFY_CALLS,
  'traffic-shift': { ...TRAFFIC_SHIFT_CALLS, ...AUTOMATION_RECORDING_CALLS },
};

/**
 * The Lambda a handler test exercises: test/lambdas/<name>/handler.test.ts (logic tests also
 * cover what the ops CLI calls; the fault matrix sends faults, not a caller's calls).
 */
export function lambdaOfTestFile(file: string): string | undefined {
  const match = file.match(
    /\/test\/(?:lambdas\/([a-z-]+)\/handler\.test\.ts|fault-matrix\/([a-z-]+)\.test\.ts)$/,
  );
  const name = match?.[1] ?? match?.[2];
  return name && name in DECLARATIONS ? name : undefined;
}

const SERVICE_OF_CLIENT: Readonly<Record<string, string>> = {
  SchedulerClient: 'scheduler',
  SFNClient: 'states',
  ECSClient: 'ecs',
  SNSClient: 'sns',
  SSMClient: 'ssm',
  CloudWatchClient: 'cloudwatch',
  CloudWatchLogsClient: 'logs',
  RDSClient: 'rds',
  ElastiCacheClient: 'elasticache',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  SecretsManagerClient: 'secretsmanager',
  CloudFormationClient: 'cloudformation',
  BudgetsClient: 'budgets',
  DynamoDBClient: 'dynamodb',
  DynamoDBDocumentClient: 'dynamodb',
  LambdaClient: 'lambda',
  S3Client: 's3',
  CostExplorerClient: 'ce',
};

/** Commands whose IAM action is not their name. */
const ACTION_OF_COMMAND: Readonly<Record<string, string>> = {
  'dynamodb:Get': 'dynamodb:GetItem',
  'dynamodb:Put': 'dynamodb:PutItem',
  'dynamodb:Update': 'dynamodb:UpdateItem',
  'dynamodb:Delete': 'dynamodb:DeleteItem',
  'dynamodb:BatchGet': 'dynamodb:BatchGetItem',
  'dynamodb:BatchWrite': 'dynamodb:BatchWriteItem',
  'budgets:DescribeBudget': 'budgets:ViewBudget',
  'budgets:DescribeBudgetPerformanceHistory': 'budgets:ViewBudget',
  'lambda:Invoke': 'lambda:InvokeFunction',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadObject': 's3:GetObject',
};

const plain = (v: unknown): unknown =>
  v !== null && typeof v === 'object' && 'S' in (v as Record<string, unknown>) ? (v as { S: unknown }).S : v;

/** The IAM actions a sent command is authorized as, each with the partition it touches. */
export function authorizedAs(sent: SentCommand): Array<{ action: string; partition?: string }> {
  const service = SERVICE_OF_CLIENT[sent.client];
  if (!service) throw new Error(`no IAM service known for ${sent.client}`);
  const name = sent.command.replace(/Command$/, '');
  const input = sent.input as Record<string, any>;
  if (service === 'dynamodb' && /^TransactWrite/.test(name)) {
    // A transaction is authorized as each of its items' actions.
    return (input.TransactItems ?? []).flatMap((item: Record<string, any>) =>
      Object.entries(item).map(([kind, op]) => ({
        action: `dynamodb:${kind === 'ConditionCheck' ? 'ConditionCheckItem' : `${kind}Item`}`,
        partition: String(plain((op.Key ?? op.Item)?.pk)),
      })),
    );
  }
  const action = ACTION_OF_COMMAND[`${service}:${name}`] ?? `${service}:${name}`;
  if (service !== 'dynamodb') return [{ action }];
  const pk = plain((input.Key ?? input.Item)?.pk) ?? plain(input.ExpressionAttributeValues?.[':pk']);
  return [{ action, partition: pk === undefined ? undefined : String(pk) }];
}

/** Each sent command the declaration does not cover, described. */
export function undeclaredCalls(declaration: CallDeclaration, sent: readonly SentCommand[]): string[] {
  const specs = Object.values(declaration);
  const out = new Set<string>();
  for (const s of sent) {
    for (const { action, partition } of authorizedAs(s)) {
      const granting = specs.filter((spec) => spec.actions.includes(action));
      if (granting.length === 0) out.add(`${s.command} (${action}) is not declared`);
      else if (
        action.startsWith('dynamodb:') &&
        !granting.some((spec) => partition !== undefined && spec.partitions?.includes(partition))
      ) {
        out.add(`${s.command} (${action}) on partition ${partition ?? '(unknown)'} is not declared`);
      }
    }
  }
  return [...out];
}

/**
 * Registers, in the calling test file, a check that every command its tests send is in the
 * declaration of `lambda`: the file fails naming each undeclared call.
 */
export function checkDeclaredCalls(lambda: keyof typeof DECLARATIONS & string): void {
  checkSentAgainst(DECLARATIONS[lambda] ?? {}, `lambdas/${lambda}/calls.ts`);
}

/** The same check against any declaration, e.g. the ops CLI's (`where` names its file). */
export function checkSentAgainst(declaration: CallDeclaration, where: string): void {
  beforeAll(() => {
    takeSentCommands();
  });
  afterAll(() => {
    expect(undeclaredCalls(declaration, takeSentCommands()), `calls missing from ${where}`).toEqual([]);
  });
}
