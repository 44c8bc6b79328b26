import {
  BudgetsClient,
  DescribeBudgetCommand,
  type DescribeBudgetCommandInput,
} from '@aws-sdk/client-budgets';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  CreateScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, vi } from 'vitest';
import { budgetGuardContract } from '../../../core/contracts/budget-guard';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../../core/ops-table/items';
import type { HandlerDeps } from '../../../lambdas/budget-guard/handler';
import type {
  BatchControlClients,
  BudgetGuardConfig,
  ReenableSpendCheck,
} from '../../../lambdas/budget-guard/logic';
import { automationSettings, scheduleCreated } from '../../helpers/automation';
import { awsError, metricValue, RoundTripTracker } from '../../helpers/aws';
import { mockClient, mockInstance } from '../../helpers/aws-mock';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';
import { SpendWorld } from '../../helpers/spend-world';
import { ACCOUNT_ID, BUDGET_NAME, REGION } from './fixtures';

export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:fa-ai-system-prod-weekly-batch`;
export const ALERT_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p1`;

/** What the logic functions take: the stack's values without the account (see {@link ENV}). */
export const CONFIG: BudgetGuardConfig = {
  environment: 'prod',
  killSwitchBudgetName: BUDGET_NAME,
  killThresholdPercent: 100,
  opsTableName: 'fa-ai-system-prod-ops',
  batchScheduleName: 'fa-ai-system-prod-weekly-batch',
  batchScheduleGroup: 'default',
  batchScheduleStateParameter: '/fa-ai-system/prod/batch/schedule-state',
  batchStateMachineArn: STATE_MACHINE_ARN,
  ecsCluster: 'fa-ai-system-prod',
  batchTaskFamily: 'fa-ai-system-prod-batch',
  alertTopicArn: ALERT_TOPIC_ARN,
};

/** The function's environment as the stack sets it (the contract's serializer). */
export const ENV: Readonly<Record<string, string>> = {
  ...budgetGuardContract.serialize({
    ...CONFIG,
    budgetAccountId: ACCOUNT_ID,
    automation: automationSettings(CONFIG.opsTableName),
  }),
  // Present in every Lambda environment; must be ignored.
  AWS_REGION: REGION,
};

/** The schedule's definition as GetSchedule returns it (every field UpdateSchedule takes set). */
export const SCHEDULE: Omit<GetScheduleCommandOutput, '$metadata'> = {
  Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/default/fa-ai-system-prod-weekly-batch`,
  Name: 'fa-ai-system-prod-weekly-batch',
  GroupName: 'default',
  ScheduleExpression: 'cron(0 3 ? * SUN *)',
  ScheduleExpressionTimezone: 'Asia/Tokyo',
  Description: 'Weekly batch: analyses every stock',
  State: 'ENABLED',
  StartDate: new Date('2026-01-04T00:00:00.000Z'),
  EndDate: new Date('2030-12-31T00:00:00.000Z'),
  KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/0b6a1e52-3f0e-4d8c-9d1b-5f0f6f3a9c11`,
  FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 30 },
  ActionAfterCompletion: 'NONE',
  Target: {
    Arn: STATE_MACHINE_ARN,
    RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/fa-ai-system-prod-batch-schedule`,
    Input: '{"trigger":"schedule"}',
    RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
    DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-batch-schedule-dlq` },
  },
  CreationDate: new Date('2026-01-01T09:00:00.000Z'),
  LastModificationDate: new Date('2026-10-01T09:00:00.000Z'),
};

/** The definition UpdateSchedule must receive: GetSchedule's minus its read-only fields. */
export function expectedScheduleUpdate(state: 'ENABLED' | 'DISABLED') {
  const { Arn: _arn, CreationDate: _created, LastModificationDate: _modified, ...definition } = SCHEDULE;
  return { ...definition, State: state };
}

export function executionArn(i: number): string {
  return `arn:aws:states:${REGION}:${ACCOUNT_ID}:execution:fa-ai-system-prod-weekly-batch:weekly-2026-11-22-${i}`;
}

export function taskArn(i: number): string {
  return `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task/fa-ai-system-prod/${String(i).padStart(32, 'a')}`;
}

/**
 * The DynamoDB of {@link clients}, for calls that must fail before they reach the table: every
 * command is rejected (tests that reach the table use {@link world}, no test answers DynamoDB by
 * hand). The instance is mocked, never the class, so that the local engine's clients in the same
 * worker are not answered by this stub.
 */
const offlineDdb = DynamoDBDocumentClient.from(
  testClient(DynamoDBClient, { region: REGION }),
  OPS_TABLE_TRANSLATE_CONFIG,
);
// Its own send, so that this instance's stub and another harness's stub of the class's
// prototype never wrap the same function.
Object.defineProperty(offlineDdb, 'send', {
  value: (Object.getPrototypeOf(DynamoDBDocumentClient.prototype) as { send: unknown }).send,
  writable: true,
  configurable: true,
});

/**
 * CloudWatch, mocked on this instance (not the class): other harnesses of the same file (the ops
 * CLI's) mock the class, and the two stubs must not replace each other.
 */
const cloudwatch = testClient(CloudWatchClient, { region: REGION });

export const mocks = {
  scheduler: mockClient(SchedulerClient),
  sfn: mockClient(SFNClient),
  ecs: mockClient(ECSClient),
  ssm: mockClient(SSMClient),
  sns: mockClient(SNSClient),
  /** Rejects every command (see {@link offlineDdb}); tests that reach the table use {@link world}. */
  ddb: mockClient(offlineDdb),
  budgets: mockClient(BudgetsClient),
  cloudwatch: mockInstance(cloudwatch),
};

/** The other services' mocked clients, and a DynamoDB that rejects every command. */
export const clients: BatchControlClients = {
  scheduler: testClient(SchedulerClient, { region: REGION }),
  sfn: testClient(SFNClient, { region: REGION }),
  ecs: testClient(ECSClient, { region: REGION }),
  ssm: testClient(SSMClient, { region: REGION }),
  sns: testClient(SNSClient, { region: REGION }),
  ddb: offlineDdb,
  budgets: testClient(BudgetsClient, { region: 'us-east-1' }),
  cloudwatch,
};

/** How re-enabling reads the spend in prod: the spend guard's settings (the stack's OpsManifest). */
export const SPEND_CHECK: ReenableSpendCheck = {
  environment: 'prod',
  accountId: ACCOUNT_ID,
  budgets: [
    { id: 'batch', limitUsd: 1200, awsBudgetName: 'fa-ai-system-prod-batch' },
    { id: 'interactive', limitUsd: 600, awsBudgetName: 'fa-ai-system-prod-interactive' },
    { id: 'infrastructure', limitUsd: 200, awsBudgetName: 'fa-ai-system-prod-infrastructure' },
    { id: 'total', limitUsd: 2000, awsBudgetName: BUDGET_NAME },
  ],
  maxCallCostUsd: 10,
  awsSettleHours: 12,
  killSwitchPercent: 100,
};

let spendWorld = new SpendWorld(new Date('2026-12-15T09:30:00.000Z'));

/**
 * The spend {@link resetMocks} answers CloudWatch and Budgets with: December 2026, LLM batch
 * $900.00 and interactive $400.12, AWS $200.00 in all: $1,500.12 of the $2,000.00 total.
 */
export function spend(): SpendWorld {
  return spendWorld;
}

/** A kill switch world: the other services mocked (happy path), the ops table on the local engine. */
export interface World {
  readonly table: LocalOpsTable;
  /** {@link clients} with the local engine's document client. */
  readonly clients: BatchControlClients;
}

/**
 * Resets the mocks as {@link resetMocks} does and creates an empty ops table named as the
 * function's environment says; its calls are tracked by `setup.tracker` too.
 */
export async function world(setup: MockSetup = {}): Promise<World> {
  resetMocks(setup);
  const table = await createOpsTable(`${ENV.OPS_TABLE_NAME}-${process.pid}-${++worlds}`);
  const tracker = setup.tracker;
  if (tracker) table.around((operation, call) => tracker.track(operation, call));
  return { table, clients: { ...clients, ddb: table.ddb } };
}

let worlds = 0;

/** The function's environment naming `table`. */
export function envOf(table: LocalOpsTable): Record<string, string> {
  return {
    ...ENV,
    ...budgetGuardContract.serialize({
      ...configOf(table),
      budgetAccountId: ACCOUNT_ID,
      // The pause, repeat guard and verification (core/automation).
      automation: automationSettings(table.tableName),
    }),
  };
}

/** {@link CONFIG} naming `table`. */
export function configOf(table: LocalOpsTable): BudgetGuardConfig {
  return { ...CONFIG, opsTableName: table.tableName };
}

/** The kill switch state item of `table`, or undefined. */
export function stateItem(table: LocalOpsTable) {
  return table.item('KILL_SWITCH', 'STATE');
}

/** The audit items of `table`, oldest first. */
export async function auditItems(table: LocalOpsTable) {
  return (await table.items()).filter((i) => i.pk === 'AUDIT');
}

/** An engaged kill switch state item as a finished engagement leaves it. */
export function engagedItem(overrides: Record<string, unknown> = {}) {
  return {
    pk: 'KILL_SWITCH',
    sk: 'STATE',
    engaged: true,
    complete: true,
    engagedAt: '2026-11-25T04:12:35.000Z',
    engagedBy: 'budget-guard',
    reason: 'Budget fa-ai-system-prod-monthly: actual $2,001.37 >= 100% of budgeted $2,000.00 ($2,000.00)',
    source: 'budget-guard',
    budgetName: BUDGET_NAME,
    actualAmount: 2001.37,
    budgetedAmount: 2000,
    messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    attemptId: 'attempt-1',
    ...overrides,
  };
}

/** What {@link resetMocks} sets up. */
export interface MockSetup {
  readonly executions?: number;
  readonly tasks?: number;
  readonly scheduleState?: 'ENABLED' | 'DISABLED';
  readonly tracker?: RoundTripTracker;
}

/** Resets every mock to the happy path: all calls succeed, `executions` and `tasks` running. */
export function resetMocks(setup: MockSetup = {}): void {
  for (const mock of Object.values(mocks)) mock.reset();
  const track = <I, O>(command: string, fn: (input: I) => O) =>
    setup.tracker ? setup.tracker.wrap(command, fn) : async (input: I) => fn(input);
  const meta = { $metadata: {} };
  mocks.ddb.onAnyCommand().rejects(new Error('no ops table here: reach DynamoDB through world()'));
  mocks.scheduler
    .on(GetScheduleCommand)
    .callsFake(
      track('GetSchedule', () => ({ ...meta, ...SCHEDULE, State: setup.scheduleState ?? 'ENABLED' })),
    );
  mocks.scheduler
    .on(UpdateScheduleCommand)
    .callsFake(track('UpdateSchedule', () => ({ ...meta, ScheduleArn: SCHEDULE.Arn })));
  mocks.scheduler.on(CreateScheduleCommand).callsFake(track('CreateSchedule', scheduleCreated));
  mocks.sfn.on(ListExecutionsCommand).callsFake(
    track('ListExecutions', () => ({
      ...meta,
      executions: Array.from({ length: setup.executions ?? 1 }, (_, i) => ({
        executionArn: executionArn(i),
        stateMachineArn: STATE_MACHINE_ARN,
        name: `weekly-2026-11-22-${i}`,
        status: 'RUNNING' as const,
        startDate: new Date('2026-11-22T18:00:00.000Z'),
      })),
    })),
  );
  mocks.sfn
    .on(StopExecutionCommand)
    .callsFake(track('StopExecution', () => ({ ...meta, stopDate: new Date('2026-11-25T04:12:34.000Z') })));
  mocks.ecs.on(ListTasksCommand).callsFake(
    track('ListTasks', () => ({
      ...meta,
      taskArns: Array.from({ length: setup.tasks ?? 2 }, (_, i) => taskArn(i)),
    })),
  );
  mocks.ecs.on(StopTaskCommand).callsFake(track('StopTask', () => ({ ...meta, task: {} })));
  mocks.ssm.on(PutParameterCommand).callsFake(track('PutParameter', () => ({ ...meta, Version: 7 })));
  mocks.sns.on(PublishCommand).callsFake(track('Publish', () => ({ ...meta, MessageId: 'published-1' })));
  spendWorld = new SpendWorld(new Date('2026-12-15T09:30:00.000Z'))
    .cost('2026-12-06T01:00:00.000Z', 'batch', 4.5, { calls: 10 })
    .cost('2026-12-06T01:00:00.000Z', 'batch', 895.5, { model: 'haiku', calls: 1990 })
    .cost('2026-12-10T15:00:00.000Z', 'interactive', 0.12, {
      provider: 'openai',
      model: 'embedding',
      calls: 4,
    })
    .cost('2026-12-10T15:00:00.000Z', 'interactive', 400, { calls: 1000 })
    .awsSpend({ batch: 10, interactive: 120, infrastructure: 70, monthly: 200 });
  mocks.budgets
    .on(DescribeBudgetCommand)
    .callsFake(
      track('DescribeBudget', (input: DescribeBudgetCommandInput) => spendWorld.describeBudget(input)),
    );
  mocks.cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(track('GetMetricData', (input: GetMetricDataCommandInput) => spendWorld.getMetricData(input)));
}

export { awsError, metricValue, RoundTripTracker };

import { observability as sharedObservability } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';

/** Silent Powertools logger and metrics of the budget-guard Lambda, plus the EMF documents they write. */
export const observability = () => sharedObservability('budget-guard');

// --- What the handler and protocol tests share ----------------------------------------------------

/** The time and attempt id the handler tests run with. */
export const HANDLER_NOW = new Date('2026-11-25T04:12:35.000Z');
export const HANDLER_ATTEMPT_ID = '5b0e8f1c-2a7d-4c3e-9f61-0d2b7a9e4c18';

/** The state item a complete engagement by ACTUAL_100 writes. */
export const STATE_WRITTEN = {
  pk: 'KILL_SWITCH',
  sk: 'STATE',
  engaged: true,
  complete: true,
  engagedAt: HANDLER_NOW.toISOString(),
  completedAt: HANDLER_NOW.toISOString(),
  engagedBy: 'budget-guard',
  reason: `Budget ${BUDGET_NAME}: actual $2,001.37 >= 100% of budgeted $2,000.00 ($2,000.00)`,
  source: 'budget-guard',
  budgetName: BUDGET_NAME,
  actualAmount: 2001.37,
  budgetedAmount: 2000,
  messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
  attemptId: HANDLER_ATTEMPT_ID,
};

/** Calls that change something (reads and the human alert excluded). */
export function mutationsOf(table: LocalOpsTable): number {
  return (
    table.sent.filter((c) => c.operation !== 'GetItem' && c.operation !== 'Query').length +
    mocks.scheduler.commandCalls(UpdateScheduleCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    mocks.ecs.commandCalls(StopTaskCommand).length
  );
}

/** What was published to SNS, in order. */
export function publishedMessages(): Array<{ Subject?: string; Message?: string; TopicArn?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

/**
 * The handler tests' world: a fresh table and mocks before each test (faults and spies cleared
 * after), and the handler's dependencies on them.
 */
export function handlerWorld() {
  const state: { w?: World; obs?: ReturnType<typeof observability> } = {};
  const hw = {
    get w(): World {
      return state.w as World;
    },
    get table(): LocalOpsTable {
      return hw.w.table;
    },
    get obs(): ReturnType<typeof observability> {
      return state.obs as ReturnType<typeof observability>;
    },
    async reset(setup: Parameters<typeof world>[0] = {}): Promise<void> {
      if (state.w !== undefined) await state.w.table.drop();
      state.w = await world(setup);
    },
    deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
      return {
        clients: hw.w.clients,
        env: envOf(hw.table),
        now: () => HANDLER_NOW,
        newId: () => HANDLER_ATTEMPT_ID,
        observability: { logger: hw.obs.logger, metrics: hw.obs.metrics },
        ...overrides,
      };
    },
  };
  beforeEach(async () => {
    await hw.reset();
    state.obs = observability();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    hw.table.clearFaults();
  });
  return hw;
}
