/**
 * The weekly batch state machine as synthesized for prod, run in the local interpreter:
 * the run record on the local ops table, P2 messages recorded, and a fake batch task that
 * succeeds, fails or runs long on a virtual clock. The clock plays Step Functions' timers:
 * the task state's TimeoutSeconds (per attempt), the retry backoff, and the execution's
 * TimeoutSeconds, which ends the execution without running another state.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpsTable, type LocalOpsTable } from '../helpers/dynalite';
import { sharedSynth } from '../helpers/synth';
import {
  bindTasks,
  type Definition,
  dynamoDbTasks,
  EXECUTION_NAME,
  engineDynamoDbClient,
  executionArn,
  type Outcome,
  type ProdMachines,
  type Published,
  prodMachines,
  STATE_ENTERED_TIME,
  snsRecorder,
  start,
  statesTimeout,
  TaskError,
  tableItems,
} from './harness';

const NAME = 'fa-ai-system-weekly-batch';
type Attempt =
  | { readonly outcome: 'succeeds' | 'fails'; readonly minutes: number }
  | { readonly outcome: 'runs long' };

/** One run of the batch task, as the fake saw it. */
interface TaskRun {
  readonly startedAtMinute: number;
  readonly stoppedAtMinute: number;
  readonly stoppedBy: 'exit 0' | 'exit 1' | 'the state timeout' | 'the execution timeout';
  readonly environment: Record<string, string>;
}

/**
 * The ecs:runTask.sync integration: each attempt follows the plan, on a clock counted in
 * minutes since the execution started.
 */
class FakeBatchTask {
  readonly runs: TaskRun[] = [];
  clock = 0;
  executionTimedOut = false;
  private stopExecution: () => void = () => undefined;

  constructor(
    private readonly plan: readonly Attempt[],
    private readonly definition: Definition,
    private readonly timeout: Error,
  ) {}

  onExecutionTimeout(stop: () => void): void {
    this.stopExecution = stop;
  }

  readonly runTask = async (input: any) => {
    if (this.executionTimedOut) throw new TaskError('States.Runtime', 'the execution has ended');
    const state = this.definition.States.RunBatch;
    const attempt = this.runs.length;
    const planned = this.plan[attempt];
    if (!planned) throw new Error(`attempt ${attempt + 1} was not planned`);
    if (attempt > 0) {
      const retrier = state.Retry[0];
      const backoff = retrier.IntervalSeconds * retrier.BackoffRate ** (attempt - 1);
      this.clock += Math.min(backoff, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) / 60;
    }
    const started = this.clock;
    const limit = state.TimeoutSeconds / 60;
    const wants = planned.outcome === 'runs long' ? Number.POSITIVE_INFINITY : planned.minutes;
    const end = Math.min(started + wants, started + limit);
    const environment = Object.fromEntries(
      input.Overrides.ContainerOverrides[0].Environment.map((e: { Name: string; Value: string }) => [
        e.Name,
        e.Value,
      ]),
    );
    const record = (stoppedAtMinute: number, stoppedBy: TaskRun['stoppedBy']) =>
      this.runs.push({ startedAtMinute: started, stoppedAtMinute, stoppedBy, environment });
    const deadline =
      this.definition.TimeoutSeconds === undefined ? Infinity : this.definition.TimeoutSeconds / 60;
    if (deadline < end) {
      // Step Functions stops the task and ends the execution: no Catch, no further state.
      this.clock = deadline;
      record(deadline, 'the execution timeout');
      this.executionTimedOut = true;
      this.stopExecution();
      throw new TaskError('States.Runtime', 'the execution timed out');
    }
    this.clock = end;
    if (wants >= limit) {
      record(end, 'the state timeout');
      throw this.timeout;
    }
    const exitCode = planned.outcome === 'succeeds' ? 0 : 1;
    record(end, exitCode === 0 ? 'exit 0' : 'exit 1');
    const task = {
      TaskArn: `arn:aws:ecs:us-east-1:222222222222:task/fa-ai-system-cluster/${attempt + 1}`,
      LastStatus: 'STOPPED',
      StopCode: 'EssentialContainerExited',
      Containers: [{ Name: 'batch', ExitCode: exitCode }],
    };
    if (exitCode !== 0) throw new TaskError('States.TaskFailed', JSON.stringify(task));
    return task;
  };
}

let prod: ProdMachines;
let table: LocalOpsTable;
let engine: Awaited<ReturnType<typeof engineDynamoDbClient>>;
let sns: ReturnType<typeof snsRecorder>;

beforeAll(async () => {
  prod = prodMachines(await sharedSynth());
  engine = await engineDynamoDbClient();
});

beforeEach(async () => {
  table = await createOpsTable(prod.opsTableName);
  sns = snsRecorder();
});

afterEach(async () => {
  await table.drop();
});

/** Runs the batch with the task following `plan`; TIMED_OUT when the execution timeout ended it. */
async function runBatch(plan: readonly Attempt[], definition: Definition = prod.batch) {
  const task = new FakeBatchTask(plan, definition, await statesTimeout());
  const dynamo = dynamoDbTasks(engine, { deployed: prod.opsTableName, local: table.tableName });
  const tasks = bindTasks(definition, {
    'arn:aws:states:::dynamodb:putItem': dynamo.putItem,
    'arn:aws:states:::dynamodb:updateItem': dynamo.updateItem,
    'arn:aws:states:::sns:publish': sns.publish,
    'arn:aws:states:::ecs:runTask.sync': task.runTask,
  });
  const execution = start(definition, { trigger: 'schedule' }, { tasks, stateMachineName: NAME });
  task.onExecutionTimeout(execution.abort);
  const outcome: Outcome = await execution.result;
  const status = outcome.status === 'ABORTED' && task.executionTimedOut ? 'TIMED_OUT' : outcome.status;
  const records = (await tableItems(engine, table.tableName)).filter((i) => i.pk === 'BATCH_RUN');
  return { ...outcome, status, task, records, published: sns.published as Published[] };
}

describe('weekly batch state machine (prod, as synthesized)', () => {
  it('records the run RUNNING, runs the task with its record key, and records SUCCEEDED', async () => {
    const run = await runBatch([{ outcome: 'succeeds', minutes: 150 }]);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.records).toEqual([
      {
        pk: 'BATCH_RUN',
        sk: expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT.*#${EXECUTION_NAME}$`)),
        status: 'SUCCEEDED',
        startedAt: expect.any(String),
        endedAt: STATE_ENTERED_TIME,
        trigger: 'schedule',
        executionArn: executionArn(NAME),
      },
    ]);
    expect(run.task.runs[0]?.environment).toEqual({
      BATCH_RUN_ID: EXECUTION_NAME,
      BATCH_RUN_SK: run.records[0]?.sk,
    });
    expect(run.published).toEqual([]);
  });

  it('retries a failed task once and records SUCCEEDED when the retry succeeds', async () => {
    const run = await runBatch([
      { outcome: 'fails', minutes: 20 },
      { outcome: 'succeeds', minutes: 150 },
    ]);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.task.runs.map((r) => r.startedAtMinute)).toEqual([0, 25]);
    expect(run.records.map((r) => r.status)).toEqual(['SUCCEEDED']);
  });

  it('records FAILED, tells P2 and fails when the retry fails too (Catch States.ALL)', async () => {
    const run = await runBatch([
      { outcome: 'fails', minutes: 20 },
      { outcome: 'fails', minutes: 30 },
    ]);
    expect(run).toMatchObject({ status: 'FAILED', error: 'BatchFailed' });
    expect(run.records.map((r) => r.status)).toEqual(['FAILED']);
    expect(run.published).toEqual([
      {
        TopicArn: 'arn:aws:sns:us-east-1:222222222222:fa-ai-system-prod-alerts-p2',
        Subject: 'FA AI batch failed',
        Message: expect.objectContaining({ error: 'States.TaskFailed', execution: executionArn(NAME) }),
      },
    ]);
  });

  it('stops a run at 4 hours, does not retry it, records TIMED_OUT and tells P2 (Catch States.Timeout)', async () => {
    const run = await runBatch([{ outcome: 'runs long' }]);
    expect(run).toMatchObject({ status: 'FAILED', error: 'BatchTimedOut' });
    expect(run.task.runs).toEqual([
      expect.objectContaining({ stoppedAtMinute: 240, stoppedBy: 'the state timeout' }),
    ]);
    expect(run.records.map((r) => r.status)).toEqual(['TIMED_OUT']);
    expect(run.published.map((p) => p.Subject)).toEqual(['FA AI batch stopped: past its time limit']);
  });

  it.each([
    ['fails at once', 1],
    ['fails just before its 4 hours', 239],
  ])(
    'a retry that runs past 4 hours after a first attempt that %s is stopped and recorded TIMED_OUT, never left RUNNING',
    async (_, minutes) => {
      const run = await runBatch([{ outcome: 'fails', minutes }, { outcome: 'runs long' }]);
      expect(run.task.runs[1]).toMatchObject({
        stoppedAtMinute: minutes + 5 + 240,
        stoppedBy: 'the state timeout',
      });
      expect(run.records.map((r) => r.status)).toEqual(['TIMED_OUT']);
      expect(run.published.map((p) => p.Subject)).toEqual(['FA AI batch stopped: past its time limit']);
    },
  );

  it('ends every run record SUCCEEDED, FAILED or TIMED_OUT whatever the attempts do', async () => {
    const plans: Attempt[][] = [];
    const attempts: Attempt[] = [
      { outcome: 'succeeds', minutes: 239 },
      { outcome: 'fails', minutes: 239 },
      { outcome: 'runs long' },
    ];
    for (const first of attempts) for (const second of attempts) plans.push([first, second]);
    const statuses = [];
    for (const plan of plans) {
      const run = await runBatch(plan);
      statuses.push(run.records.map((r) => r.status).join());
      await table.drop();
      table = await createOpsTable(prod.opsTableName);
    }
    expect(statuses.filter((s) => !['SUCCEEDED', 'FAILED', 'TIMED_OUT'].includes(s))).toEqual([]);
  });
});
