/**
 * The traffic shift state machine as synthesized for prod, run in the local interpreter with
 * every task bound to the real traffic-shift handler (handleEvent): its ops table is the
 * local engine, the listener, parameter, alarms and topic a small world of their own.
 */
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../core/ops-table/items';
import type { Weights } from '../../core/traffic';
import { handleEvent } from '../../lambdas/traffic-shift/handler';
import { awsError, observability } from '../helpers/aws';
import { createOpsTable, type LocalOpsTable } from '../helpers/dynalite';
import { sharedSynth } from '../helpers/synth';
import { checkDeclaredCalls } from '../iam/declared-calls';
import {
  bindTasks,
  engineDynamoDbClient,
  executionArn,
  lambdaTask,
  type ProdMachines,
  prodMachines,
  start,
  tableItems,
  unstubbed,
} from './harness';
import { type TrafficWorld, trafficClients, trafficWorld } from './traffic-world';

// The handler's ops-table calls through the state machine's paths are its declared ones too.
checkDeclaredCalls('traffic-shift');

const NAME = 'fa-ai-system-traffic-shift';
const GREEN_ERRORS = 'fa-ai-system-prod-green-error-rate';

let prod: ProdMachines;
let engine: Awaited<ReturnType<typeof engineDynamoDbClient>>;
let table: LocalOpsTable;
let world: TrafficWorld;
let invocations: Array<Record<string, unknown>>;

/** The actions the handler was invoked with, in order. */
const actions = () => invocations.map((i) => i.action);

beforeAll(async () => {
  prod = prodMachines(await sharedSynth());
  engine = await engineDynamoDbClient();
});

beforeEach(async () => {
  // The Lambda's environment names the deployed table: the local one has its name.
  table = await createOpsTable(prod.opsTableName);
  invocations = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await table.drop();
});

/** Runs a shift from `weights` with `input`; the world can be arranged first. */
async function shift(weights: Weights, input: Record<string, unknown>, arrange?: (w: TrafficWorld) => void) {
  world = trafficWorld(prod.shiftFunction.env, weights);
  arrange?.(world);
  const obs = observability('traffic-shift');
  const clients = {
    ...trafficClients(world, prod.shiftFunction.env),
    ddb: unstubbed(DynamoDBDocumentClient.from(table.client, OPS_TABLE_TRANSLATE_CONFIG)),
  };
  const lambda = lambdaTask((event) => {
    invocations.push(structuredClone(event as Record<string, unknown>));
    return handleEvent(event, {
      clients,
      env: prod.shiftFunction.env,
      observability: { logger: obs.logger, metrics: obs.metrics },
    });
  });
  const tasks = bindTasks(prod.shift, { [prod.shiftFunction.arn]: lambda });
  const outcome = await start(prod.shift, input, { tasks, stateMachineName: NAME }).result;
  const items = await tableItems(engine, prod.opsTableName);
  const item = (pk: string, sk: string) => items.find((i) => i.pk === pk && i.sk === sk);
  return { ...outcome, item, audit: items.filter((i) => i.pk === 'AUDIT').map((i) => i.action) };
}

describe('traffic shift state machine (prod, as synthesized)', () => {
  it('fills in the default steps, bake and requester when the input names only the colour', async () => {
    await shift({ blue: 0, green: 100 }, { to: 'green' });
    expect(invocations[0]).toEqual({
      action: 'begin',
      executionArn: executionArn(NAME),
      to: 'green',
      steps: [10, 50, 100],
      bakeSeconds: 300,
      requestedBy: 'unknown',
    });
  });

  it('shifts to green in the default steps, baking each, and records the shift completed', async () => {
    const run = await shift({ blue: 100, green: 0 }, { to: 'green', bakeSeconds: 30, requestedBy: 'alice' });
    expect(run.status).toBe('SUCCEEDED');
    expect(world.listenerWrites).toEqual([
      { blue: 90, green: 10 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ]);
    expect(world.parameter).toBe('0,100');
    expect(run.item('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      status: 'completed',
      final: { blue: 0, green: 100 },
      requestedBy: 'alice',
      executionArn: executionArn(NAME),
    });
    expect(run.item('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
  });

  it('checks the alarms before each step and every 30 s while it bakes', async () => {
    await shift({ blue: 100, green: 0 }, { to: 'green', bakeSeconds: 90 });
    expect(actions().filter((a) => a === 'checkAlarms')).toHaveLength(3 * (1 + 90 / 30));
  });

  it('does nothing when the target colour already has all the traffic', async () => {
    const run = await shift({ blue: 0, green: 100 }, { to: 'green' });
    expect(run.status).toBe('SUCCEEDED');
    expect(actions()).toEqual(['begin']);
    expect(world.listenerWrites).toEqual([]);
  });

  it('rolls back to the pre-shift weights when an alarm fires while a step bakes', async () => {
    const run = await shift({ blue: 70, green: 30 }, { to: 'green', bakeSeconds: 60 }, (w) => {
      w.afterListenerWrite = (_, n) => {
        if (n === 1) w.alarms.set(GREEN_ERRORS, 'ALARM');
      };
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'ShiftRolledBack' });
    expect(run.cause).toBe(`Alarms firing: ["${GREEN_ERRORS}"]`);
    expect(world.listenerWrites).toEqual([
      { blue: 50, green: 50 },
      { blue: 70, green: 30 },
    ]);
    expect(world.listener).toEqual({ blue: 70, green: 30 });
    expect(world.parameter).toBe('70,30');
    expect(run.item('TRAFFIC', 'LAST_SHIFT')).toMatchObject({ status: 'rolled-back' });
    expect(run.item('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
  });

  it('rolls back without a step when the gate finds an alarm before the first step', async () => {
    const run = await shift({ blue: 100, green: 0 }, { to: 'green' }, (w) => {
      w.alarms.set(GREEN_ERRORS, 'ALARM');
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'ShiftRolledBack' });
    expect(actions()).toEqual(['begin', 'checkAlarms', 'rollback']);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
  });

  it('rolls back to the pre-shift weights when setting a step fails', async () => {
    const run = await shift({ blue: 100, green: 0 }, { to: 'green', bakeSeconds: 30 }, (w) => {
      w.beforeListenerWrite = (_, n) => {
        if (n === 2) throw awsError('AccessDenied', 'not authorized to perform ModifyListener');
      };
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'ShiftRolledBack' });
    expect(actions().slice(-2)).toEqual(['setWeights', 'rollback']);
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(world.parameter).toBe('100,0');
  });

  it('aborts, keeping the weights and freeing the lock, when the shift was rolled back by hand before it finished', async () => {
    const run = await shift({ blue: 100, green: 0 }, { to: 'green', bakeSeconds: 30 }, (w) => {
      w.afterListenerWrite = async (_, n) => {
        if (n !== 3) return;
        // What `ops rollback` leaves on the shift record meanwhile.
        await unstubbed(DynamoDBDocumentClient.from(engine)).send(
          new UpdateCommand({
            TableName: prod.opsTableName,
            Key: { pk: 'TRAFFIC', sk: 'LAST_SHIFT' },
            UpdateExpression: 'SET #status = :rolledBack',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':rolledBack': 'rolled-back' },
          }),
        );
      };
    });
    expect(run).toMatchObject({ status: 'FAILED', error: 'ShiftAborted' });
    expect(actions().slice(-2)).toEqual(['finish', 'abort']);
    expect(run.audit).toContain('traffic-shift-abort');
    expect(run.item('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
  });

  it('refuses to start while another shift holds the lock, changing no weights', async () => {
    const other = `arn:aws:states:us-east-1:222222222222:execution:${NAME}:earlier`;
    await unstubbed(DynamoDBDocumentClient.from(engine)).send(
      new UpdateCommand({
        TableName: prod.opsTableName,
        Key: { pk: 'TRAFFIC', sk: 'SHIFT_LOCK' },
        UpdateExpression: 'SET executionArn = :arn, acquiredAt = :at, expiresAt = :exp',
        ExpressionAttributeValues: {
          ':arn': other,
          ':at': new Date().toISOString(),
          ':exp': Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    const run = await shift({ blue: 100, green: 0 }, { to: 'green' });
    expect(run).toMatchObject({ status: 'FAILED', error: 'ShiftInProgressError' });
    expect(world.listenerWrites).toEqual([]);
  });
});
