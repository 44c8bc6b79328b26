/**
 * The spend guard's world: every AWS client mocked on its own instance (so that no other
 * harness's class mocks answer it), CloudWatch and Budgets answered by a simulated spend
 * timeline (test/helpers/spend-world.ts), the ops table on the local DynamoDB engine, and a clock
 * the tests move.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  CreateScheduleCommand,
  GetScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, vi } from 'vitest';
import { type SpendGuardValues, serialize } from '../../../core/contracts/spend-guard';
import type { HandlerDeps } from '../../../lambdas/spend-guard/handler';
import type { SpendGuardClients } from '../../../lambdas/spend-guard/logic';
import { runSpendGuard } from '../../../lambdas/spend-guard/logic';
import { automationSettings, scheduleCreated } from '../../helpers/automation';
import { awsError, metricValue, observability as sharedObservability } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockInstance } from '../../helpers/aws-mock';
import { createOpsTable, type LocalOpsTable } from '../../helpers/dynalite';
import { SpendWorld } from '../../helpers/spend-world';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '222222222222';
const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
export const TOPICS = {
  email: arn('sns', 'fa-ai-system-prod-alerts-p3'),
  chat: arn('sns', 'fa-ai-system-prod-alerts-p2'),
  page: arn('sns', 'fa-ai-system-prod-alerts-p1'),
} as const;
export const STATE_MACHINE_ARN = arn('states', 'stateMachine:fa-ai-system-prod-weekly-batch');

/** The prod spend guard as the stack configures it (lib/config defaults). */
export const CONFIG: SpendGuardValues = {
  environment: 'prod',
  accountId: ACCOUNT_ID,
  opsTableName: 'fa-ai-system-prod-ops',
  topics: TOPICS,
  batch: {
    scheduleName: 'fa-ai-system-prod-weekly-batch',
    scheduleGroup: 'default',
    scheduleStateParameter: '/fa-ai-system/prod/batch/schedule-state',
    stateMachineArn: STATE_MACHINE_ARN,
    ecsCluster: 'fa-ai-system-cluster',
    taskFamily: 'fa-ai-system-batch',
  },
  budgets: [
    { id: 'batch', limitUsd: 1200, awsBudgetName: 'fa-ai-system-prod-batch' },
    { id: 'interactive', limitUsd: 600, awsBudgetName: 'fa-ai-system-prod-interactive' },
    { id: 'infrastructure', limitUsd: 200, awsBudgetName: 'fa-ai-system-prod-infrastructure' },
    { id: 'total', limitUsd: 2000, awsBudgetName: 'fa-ai-system-prod-monthly' },
  ],
  killSwitchPercent: 100,
  killSwitchBudgets: ['batch', 'interactive', 'infrastructure', 'total'],
  forecastMinDays: 7,
  maxCallCostUsd: 10,
  awsSettleHours: 12,
  lateDataMinutes: 30,
  unknownRenotifyMinutes: 60,
  silenceWindowMinutes: 30,
  // The kill switch's pause, repeat guard and verification (core/automation).
  automation: automationSettings('fa-ai-system-prod-ops'),
};

/** The schedule as GetSchedule returns it. */
export const SCHEDULE = {
  Arn: arn('scheduler', 'schedule/default/fa-ai-system-prod-weekly-batch'),
  Name: 'fa-ai-system-prod-weekly-batch',
  GroupName: 'default',
  ScheduleExpression: 'cron(0 0 ? * SUN *)',
  ScheduleExpressionTimezone: 'America/New_York',
  State: 'ENABLED' as const,
  FlexibleTimeWindow: { Mode: 'OFF' as const },
  Target: {
    Arn: STATE_MACHINE_ARN,
    RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/fa-ai-system-prod-batch-schedule`,
  },
};

export const executionArn = (i: number) =>
  arn('states', `execution:fa-ai-system-prod-weekly-batch:weekly-2026-11-22-${i}`);

const instances = {
  scheduler: testClient(SchedulerClient, { region: REGION }),
  sfn: testClient(SFNClient, { region: REGION }),
  ecs: testClient(ECSClient, { region: REGION }),
  ssm: testClient(SSMClient, { region: REGION }),
  sns: testClient(SNSClient, { region: REGION }),
  cloudwatch: testClient(CloudWatchClient, { region: REGION }),
  budgets: testClient(BudgetsClient, { region: 'us-east-1' }),
};

/** Each client's stub, on its instance. */
export const mocks = {
  scheduler: mockInstance(instances.scheduler),
  sfn: mockInstance(instances.sfn),
  ecs: mockInstance(instances.ecs),
  ssm: mockInstance(instances.ssm),
  sns: mockInstance(instances.sns),
  cloudwatch: mockInstance(instances.cloudwatch),
  budgets: mockInstance(instances.budgets),
};

/** What one test sees and moves. */
export interface World {
  readonly table: LocalOpsTable;
  readonly clients: SpendGuardClients;
  readonly config: SpendGuardValues;
  readonly env: Record<string, string>;
  readonly spend: SpendWorld;
  /** The function's clock (and the simulated CloudWatch's, unless moved apart). */
  readonly clock: { now: Date };
}

/**
 * A fresh world at `now`: every batch control succeeds, one batch execution and no task run, no
 * spend published, every AWS budget at $0.
 */
export async function world(now: Date | string, setup: { executions?: number } = {}): Promise<World> {
  for (const mock of Object.values(mocks)) mock.reset();
  // Named by the helper: its counter is the worker's, shared by every harness on the one engine.
  const table = await createOpsTable();
  const config = {
    ...CONFIG,
    opsTableName: table.tableName,
    automation: automationSettings(table.tableName),
  };
  const clock = { now: new Date(now) };
  const spend = new SpendWorld(clock.now).awsSpend({
    batch: 0,
    interactive: 0,
    infrastructure: 0,
    monthly: 0,
  });
  // The simulated CloudWatch shows what was published up to the clock.
  Object.defineProperty(spend, 'now', { get: () => clock.now, set: (v: Date) => (clock.now = v) });
  spend.install(mocks);
  const meta = { $metadata: {} };
  mocks.scheduler.on(GetScheduleCommand).resolves({ ...meta, ...SCHEDULE });
  mocks.scheduler.on(UpdateScheduleCommand).resolves({ ...meta, ScheduleArn: SCHEDULE.Arn });
  // The engagement's verification schedule (core/automation).
  mocks.scheduler.on(CreateScheduleCommand).callsFake(scheduleCreated);
  mocks.sfn.on(ListExecutionsCommand).resolves({
    ...meta,
    executions: Array.from({ length: setup.executions ?? 1 }, (_, i) => ({
      executionArn: executionArn(i),
      stateMachineArn: STATE_MACHINE_ARN,
      name: `weekly-2026-11-22-${i}`,
      status: 'RUNNING' as const,
      startDate: new Date('2026-11-22T05:00:00.000Z'),
    })),
  });
  mocks.sfn.on(StopExecutionCommand).resolves({ ...meta, stopDate: clock.now });
  mocks.ecs.on(ListTasksCommand).resolves({ ...meta, taskArns: [] });
  mocks.ecs.on(StopTaskCommand).resolves({ ...meta, task: {} });
  mocks.ssm.on(PutParameterCommand).resolves({ ...meta, Version: 2 });
  let published = 0;
  mocks.sns.on(PublishCommand).callsFake(() => ({ ...meta, MessageId: `published-${++published}` }));
  return {
    table,
    clients: { ...instances, ddb: table.ddb },
    config,
    env: serialize(config),
    spend,
    clock,
  };
}

/** What was published, in order. */
export function published(): Array<{ TopicArn?: string; Subject?: string; Message?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

/** The channel (email, chat, page) of each publish, with its subject. */
export function publishedTo(): Array<[string, string | undefined]> {
  const channel = Object.fromEntries(Object.entries(TOPICS).map(([k, v]) => [v, k]));
  return published().map((p) => [channel[p.TopicArn ?? ''] ?? String(p.TopicArn), p.Subject]);
}

/** The items of partition `pk`, in sort key order. */
export async function itemsOf(table: LocalOpsTable, pk: string): Promise<Array<Record<string, unknown>>> {
  return (await table.items()).filter((i) => i.pk === pk);
}

/** The batch controls the kill switch performed (schedule, parameter, executions, tasks). */
export function batchControls(): number {
  return (
    mocks.scheduler.commandCalls(UpdateScheduleCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    mocks.ecs.commandCalls(StopTaskCommand).length
  );
}

/** Silent Powertools logger and metrics of the spend guard, and the EMF documents they write. */
export const observability = () => sharedObservability('spend-guard');

/**
 * The handler tests' world: a fresh one (at `now`) before each test, spies restored and faults
 * cleared after it; and the handler's dependencies on it.
 */
export function handlerWorld(now: string) {
  const state: { w?: World; obs?: ReturnType<typeof observability> } = {};
  const hw = {
    get w(): World {
      return state.w as World;
    },
    get obs(): ReturnType<typeof observability> {
      return state.obs as ReturnType<typeof observability>;
    },
    deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
      return {
        clients: hw.w.clients,
        env: hw.w.env,
        now: () => hw.w.clock.now,
        newId: () => 'attempt-1',
        observability: { logger: hw.obs.logger, metrics: hw.obs.metrics },
        ...overrides,
      };
    },
  };
  beforeEach(async () => {
    state.w = await world(now);
    state.obs = observability();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    hw.w.table.clearFaults();
    await hw.w.table.drop();
  });
  return hw;
}

export { awsError, metricValue };

const scenarioLogger = new Logger({ serviceName: 'spend-guard', logLevel: 'SILENT' });
let attemptIds = 0;

/** AWS Budgets' figures of November, what the scenarios start from. */
export const NOVEMBER_AWS = { batch: 10, interactive: 50, infrastructure: 60, monthly: 130 };

/** The steps of a scenario over the world `current()` returns (each test makes its own). */
export function scenario(current: () => World) {
  return {
    /** One run at the world's clock, as the schedule starts it. */
    run(config = current().config, scheduledTime: Date = current().clock.now) {
      const w = current();
      return runSpendGuard(w.clients, config, {
        now: () => w.clock.now,
        newId: () => `attempt-${++attemptIds}`,
        logger: scenarioLogger,
        scheduledTime,
      });
    },
    /** Moves the clock by `minutes`. */
    advance(minutes: number): void {
      const w = current();
      w.clock.now = new Date(w.clock.now.getTime() + minutes * 60_000);
    },
    /** The notices about the batch budget, with their channel. */
    batchNotices(): Array<[string, string | undefined]> {
      return publishedTo().filter(([, subject]) => subject?.includes('of the batch budget'));
    },
  };
}
