import 'aws-sdk-client-mock-vitest/extend';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { SpendWorld } from '../helpers/spend-world';
import { checkSentAgainst } from '../iam/declared-calls';
import {
  ALARMS,
  awsError,
  BLUE_TG,
  executionArn,
  lastShiftItem,
  lockItem,
  SHIFT_STATE_MACHINE_ARN,
  world,
} from '../lambdas/traffic-shift/harness';
import {
  awsCalls,
  BATCH_STATE_MACHINE_ARN,
  cliClients,
  cliMocks,
  itemsOf,
  MANIFEST,
  opsTable,
  resetCli,
  runOps,
  SCHEDULE_STATE_PARAMETER,
  service,
  stack,
  target,
} from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['--env', 'prod'];

beforeEach(async () => {
  await resetCli();
});

describe('weights', () => {
  it('shows live, stored and configured weights, the drift and what to do, and the last shift', async () => {
    await resetCli({ listener: { blue: 100, green: 0 }, parameter: '90,10', items: [lastShiftItem()] });
    const run = await runOps(['weights', ...PROD]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/live\s+blue 100 \/ green 0\s+the listener/);
    expect(run.stdout).toMatch(
      /stored\s+blue 90 \/ green 10\s+\/fa-ai-system\/prod\/traffic\/weights: the source of truth/,
    );
    expect(run.stdout).toMatch(/configured\s+blue 100 \/ green 0/);
    expect(run.stdout).toContain(
      'DRIFT: live blue 100 / green 0, stored (source of truth) blue 90 / green 10.',
    );
    expect(run.stdout).toContain('The next deploy resets the listener to the STORED weights.');
    expect(run.stdout).toContain('npm run ops -- rollback');
    expect(run.stdout).toContain('Last shift: to green, completed at 2026-11-25 04:00:00Z (13 min ago)');
    expect(cliMocks.cloudformation).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
    expect(cliMocks.cloudformation).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'fa-ai-system-prod-service',
    });
  });

  it('prints machine-readable results with --json', async () => {
    await resetCli({ listener: { blue: 100, green: 0 }, parameter: '90,10' });
    const run = await runOps(['weights', ...PROD, '--json']);
    expect(run.code).toBe(0);
    const data = JSON.parse(run.stdout);
    expect(data).toMatchObject({
      live: { blue: 100, green: 0 },
      stored: { blue: 90, green: 10 },
      configured: { blue: 100, green: 0 },
      drift: { live: { blue: 100, green: 0 }, stored: { blue: 90, green: 10 } },
      lastShift: null,
    });
  });

  it('says there is no drift when listener and parameter agree', async () => {
    const run = await runOps(['weights', ...PROD]);
    expect(run.stdout).toContain('No drift');
    expect(run.stdout).not.toContain('DRIFT');
  });
});

describe('shift', () => {
  const started = executionArn('to-green-20261125T041235Z-abcd1234');

  it('starts the state machine and watches it to SUCCEEDED (exit 0)', async () => {
    cliMocks.sfn.on(StartExecutionCommand).resolves({ executionArn: started, startDate: new Date() });
    // Each poll: the shift moves one step further.
    const steps = [
      { blue: 90, green: 10 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ];
    let poll = 0;
    cliMocks.sfn.on(DescribeExecutionCommand).callsFake(() => {
      world.listener = steps[Math.min(poll, 2)] as { blue: number; green: number };
      poll += 1;
      return {
        executionArn: started,
        stateMachineArn: SHIFT_STATE_MACHINE_ARN,
        status: poll < 3 ? 'RUNNING' : 'SUCCEEDED',
        startDate: new Date('2026-11-25T04:12:35.000Z'),
        output: poll < 3 ? undefined : JSON.stringify({ to: 'green', shift: { noop: false } }),
      };
    });

    const run = await runOps(['shift', ...PROD, '--to', 'green', '--bake', '30s', '--yes']);
    expect(run.code).toBe(0);
    const start = cliMocks.sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.stateMachineArn).toBe(SHIFT_STATE_MACHINE_ARN);
    expect(JSON.parse(start?.input ?? '{}')).toEqual({
      to: 'green',
      steps: [10, 50, 100],
      bakeSeconds: 30,
      requestedBy: 'alice',
    });
    expect(start?.name).toMatch(/^to-green-20261125T041235Z-[0-9a-f]{8}$/);
    expect(run.stdout).toContain('blue 90 / green 10 -> blue 50 / green 50 -> blue 0 / green 100');
    expect(run.stdout).toMatch(/RUNNING\s+live blue 90 \/ green 10/);
    expect(run.stdout).toMatch(/SUCCEEDED\s+live blue 0 \/ green 100/);
    expect(run.stdout).toContain('Shift to green completed: blue 0 / green 100.');
    expect(run.sleeps).toEqual([4000, 4000, 4000]);
  });

  it('exits 1 with the cause when the shift fails (an alarm mid-shift, rolled back)', async () => {
    cliMocks.sfn.on(StartExecutionCommand).resolves({ executionArn: started, startDate: new Date() });
    cliMocks.sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: started, status: 'RUNNING', startDate: new Date() })
      .callsFake(async () => {
        // What the state machine's rollback recorded by the time the execution failed.
        await opsTable().seed({
          ...lastShiftItem({ executionArn: started, status: 'rolled-back' }),
          rollbackReason: `alarms ${ALARMS.green[0]} firing`,
        });
        return {
          executionArn: started,
          status: 'FAILED',
          startDate: new Date(),
          stopDate: new Date(),
          error: 'ShiftRolledBack',
          cause: `Alarms firing: ["${ALARMS.green[0]}"]`,
        };
      });
    const run = await runOps(['shift', ...PROD, '--to', 'green', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `Shift to green FAILED: ShiftRolledBack: Alarms firing: ["${ALARMS.green[0]}"]`,
    );
    expect(run.stdout).toContain(`Recorded status: rolled-back (alarms ${ALARMS.green[0]} firing)`);
    expect(run.stdout).toContain('Live weights now: blue 100 / green 0.');
  });

  it('refuses while another shift runs (exit 2), starting nothing', async () => {
    cliMocks.sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: executionArn('to-green-earlier'),
          stateMachineArn: SHIFT_STATE_MACHINE_ARN,
          name: 'to-green-earlier',
          status: 'RUNNING',
          startDate: new Date('2026-11-25T04:00:00.000Z'),
        },
      ],
    });
    const run = await runOps(['shift', ...PROD, '--to', 'green', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`a shift is already running: ${executionArn('to-green-earlier')}`);
    expect(cliMocks.sfn).toHaveReceivedCommandWith(ListExecutionsCommand, {
      stateMachineArn: SHIFT_STATE_MACHINE_ARN,
      statusFilter: 'RUNNING',
    });
    expect(cliMocks.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('reports the lock refusal of the state machine as refused (exit 2)', async () => {
    cliMocks.sfn.on(StartExecutionCommand).resolves({ executionArn: started, startDate: new Date() });
    cliMocks.sfn.on(DescribeExecutionCommand).resolves({
      executionArn: started,
      status: 'FAILED',
      startDate: new Date(),
      error: 'ShiftInProgressError',
      cause: JSON.stringify({
        errorType: 'ShiftInProgressError',
        errorMessage: `Another traffic shift is in progress: ${executionArn('held')}`,
        trace: [],
      }),
    });
    const run = await runOps(['shift', ...PROD, '--to', 'green', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `Refused: ShiftInProgressError: Another traffic shift is in progress: ${executionArn('held')}`,
    );
  });

  it('does not start a shift to the colour that already has all the traffic', async () => {
    await resetCli({ listener: { blue: 0, green: 100 } });
    const run = await runOps(['shift', ...PROD, '--to', 'green', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Nothing to shift: green already has all the traffic');
    expect(cliMocks.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it.each([
    ['--bake', '5x', /--bake 5x: expected a number and a unit \(s, m, h\)/],
    ['--bake', '2d', /--bake 2d: expected a number and a unit/],
    ['--bake', '25h', /--bake 25h: at most 24h/],
    ['--steps', '50,10,100', /--steps 50,10,100: Invalid step 10 after 50/],
    ['--steps', '10,x', /"x" is not a whole number/],
    ['--to', 'red', /--to red: expected blue or green/],
  ])('rejects %s %s as a usage error (exit 2) before any AWS call', async (option, value, message) => {
    const argv = ['shift', ...PROD, '--to', 'green', option, value, '--yes'];
    const run = await runOps(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: npm run ops --');
    expect(awsCalls()).toBe(0);
  });
});

describe('rollback', () => {
  it('changes nothing when already rolled back (exit 0) and says why', async () => {
    await resetCli({
      listener: { blue: 100, green: 0 },
      items: [lastShiftItem({ status: 'rolled-back', rolledBackAt: '2026-11-25T04:05:00.000Z' })],
    });
    const run = await runOps(['rollback', ...PROD, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'No change: Already rolled back: listener and parameter hold the last known-good',
    );
    expect(cliMocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it('rolls back with the reason given, audited as the CLI user, stopping a running shift', async () => {
    const running = executionArn('to-green-1');
    await resetCli({
      listener: { blue: 50, green: 50 },
      items: [
        lastShiftItem({ status: 'in-progress', completedAt: undefined }),
        lockItem({ executionArn: running }),
      ],
    });
    const run = await runOps(['rollback', ...PROD, '--reason', 'checkout errors', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Rolled back: Rolled back to blue 100 / green 0 (was blue 50 / green 50)');
    expect(run.stdout).toContain(`Stopped the running shift ${running}.`);
    expect(cliMocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: running });
    expect(world.listener).toEqual({ blue: 100, green: 0 });
    expect(await opsTable().item('TRAFFIC', 'SHIFT_LOCK')).toBeUndefined();
    expect(await opsTable().item('TRAFFIC', 'LAST_SHIFT')).toMatchObject({
      status: 'rolled-back',
      rolledBackAt: '2026-11-25T04:12:35.000Z',
      rolledBackBy: 'alice',
      rollbackReason: 'checkout errors',
    });
    expect(await opsTable().item('TRAFFIC', 'ROLLBACK')).toMatchObject({
      at: '2026-11-25T04:12:35.000Z',
      by: 'alice',
      source: 'cli',
      executionArn: running,
      restored: { blue: 100, green: 0 },
    });
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ source: 'cli', actor: 'alice', reason: 'checkout errors', outcome: 'ok' }),
    ]);
  });
});

describe('status', () => {
  it('shows the services, their targets and the weights', async () => {
    cliMocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        service('blue'),
        service('green', {
          desiredCount: 2,
          runningCount: 1,
          pendingCount: 1,
          deployments: [
            {
              id: 'ecs-svc/5555555555555555555',
              status: 'PRIMARY',
              rolloutState: 'IN_PROGRESS',
              rolloutStateReason: 'ECS deployment ecs-svc/5555555555555555555 in progress.',
              taskDefinition: 'arn:aws:ecs:us-east-1:222222222222:task-definition/fa-ai-system-green:43',
              updatedAt: new Date('2026-11-25T04:10:00.000Z'),
            },
            { id: 'ecs-svc/9876543210987654321', status: 'ACTIVE', rolloutState: 'COMPLETED' },
          ],
        }),
      ],
      failures: [],
    });
    cliMocks.elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: BLUE_TG }).resolves({
      TargetHealthDescriptions: [
        target('10.0.1.23'),
        target('10.0.2.41', 'unhealthy', {
          Reason: 'Target.ResponseCodeMismatch',
          Description: 'Health checks failed with these codes: [502]',
        }),
      ],
    });
    const run = await runOps(['status', ...PROD]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /blue\s+fa-ai-system-blue-service\s+ACTIVE\s+2\/2\/0\s+COMPLETED fa-ai-system-blue:42\s+1\/2 healthy\s+100/,
    );
    expect(run.stdout).toMatch(
      /green\s+fa-ai-system-green-service\s+ACTIVE\s+1\/2\/1\s+IN_PROGRESS fa-ai-system-green:43 \(\+1 older\)\s+2\/2 healthy\s+0/,
    );
    expect(run.stdout).toContain('green deployment: ECS deployment ecs-svc/5555555555555555555 in progress.');
    expect(run.stdout).toContain(
      'blue target 10.0.2.41:8000 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])',
    );
  });
});

describe('health', () => {
  it('prints the health check report and exits 0 when HEALTHY', async () => {
    const run = await runOps(['health', ...PROD, '--kind', 'light']);
    expect(run.stdout).toContain('FA AI System light health check at 2026-11-25T04:12:35.000Z: HEALTHY');
    expect(run.code).toBe(0);
  });

  it('exits 1 when not HEALTHY', async () => {
    cliMocks.elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        target('10.0.1.23', 'unhealthy', { Reason: 'Target.Timeout', Description: 'timed out' }),
      ],
    });
    const run = await runOps(['health', ...PROD, '--kind', 'light']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/health check at .*: UNHEALTHY/);
  });
});

describe('batch', () => {
  it('status: schedule, parameter, kill switch and the last runs', async () => {
    await resetCli({
      otherParameters: { [SCHEDULE_STATE_PARAMETER]: 'ENABLED' },
      items: [
        {
          pk: 'BATCH_RUN',
          sk: '2026-11-22T17:00:00.000Z#weekly-2026-11-22',
          status: 'SUCCEEDED',
          startedAt: '2026-11-22T17:00:00.000Z',
          endedAt: '2026-11-22T19:41:00.000Z',
          trigger: 'schedule',
          executionArn: `${BATCH_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:weekly-2026-11-22`,
          stocksProcessed: 3120,
        },
        {
          pk: 'KILL_SWITCH',
          sk: 'STATE',
          engaged: false,
          complete: true,
          engagedAt: '2026-11-01T03:00:00.000Z',
          engagedBy: 'budget-guard',
          reason: 'Budget fa-ai-system-prod-monthly: actual $2,001.37 >= 100% of budgeted $2,000.00',
          releasedAt: '2026-11-02T09:00:00.000Z',
          releasedBy: 'bob',
          releaseReason: 'new month',
        },
      ],
    });
    const run = await runOps(['batch', 'status', ...PROD]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/schedule\s+default\/fa-ai-system-prod-weekly-batch\s+ENABLED/);
    expect(run.stdout).toMatch(/parameter\s+\/fa-ai-system\/prod\/batch\/schedule-state\s+ENABLED/);
    expect(run.stdout).toMatch(
      /kill switch\s+fa-ai-system-prod-monthly\s+released 2026-11-02 09:00:00Z by bob/,
    );
    expect(run.stdout).toMatch(
      /2026-11-22 17:00:00Z \(2 d ago\)\s+SUCCEEDED\s+2026-11-22 19:41:00Z\s+schedule\s+3120/,
    );
  });

  it('disable: the kill switch actions, as the CLI user', async () => {
    await resetCli({ otherParameters: { [SCHEDULE_STATE_PARAMETER]: 'ENABLED' } });
    cliMocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const run = await runOps(['batch', 'disable', ...PROD, '--reason', 'runaway cost', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Batch disabled (prod) by alice: runaway cost.');
    expect(cliMocks.scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, { State: 'DISABLED' });
    expect(world.otherParameters.get(SCHEDULE_STATE_PARAMETER)).toBe('DISABLED');
    expect(await opsTable().item('KILL_SWITCH', 'STATE')).toMatchObject({
      engaged: true,
      complete: true,
      engagedBy: 'alice',
      source: 'cli',
    });
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({ action: 'batch-disable', actor: 'alice', outcome: 'ok', source: 'cli' }),
    ]);
    expect(cliMocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });

  it('enable: refused while the total spend (LLM and AWS) is at or over the threshold (exit 2), unless --force', async () => {
    await resetCli({ otherParameters: { [SCHEDULE_STATE_PARAMETER]: 'DISABLED' } });
    // November to date, as the spend guard reads it: LLM $1,950.25 + AWS $200.50 = $2,150.75.
    new SpendWorld(new Date('2026-11-25T04:12:35.000Z'))
      .cost('2026-11-22T02:00:00.000Z', 'batch', 1550.25, { calls: 2000 })
      .cost('2026-11-24T15:00:00.000Z', 'interactive', 400, { calls: 800 })
      .awsSpend({ batch: 12, interactive: 150, infrastructure: 38.5, monthly: 200.5 })
      .install(cliMocks);
    const refused = await runOps(['batch', 'enable', ...PROD, '--reason', 'fixed', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /Refused: Budget total: actual spend \$2,150.75 is still at or over the kill threshold \$2,000.00/,
    );
    expect(refused.stderr).toContain('LLM batch $1,550.25 (CloudWatch LlmCostUsd, 2,000 calls)');
    expect(refused.stderr).toContain('AWS $200.50 (AWS Budgets fa-ai-system-prod-monthly ActualSpend)');
    expect(cliMocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);

    const forced = await runOps(['batch', 'enable', ...PROD, '--reason', 'fixed', '--force', '--yes']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Batch re-enabled (prod) by alice, FORCED over budget: fixed.');
    expect(forced.stdout).toContain('Total spend: total $2,150.75 of $2,000.00 (107.5%)');
    expect(world.otherParameters.get(SCHEDULE_STATE_PARAMETER)).toBe('ENABLED');
  });

  it('enable: re-enables under the threshold, by the figures the spend guard reads', async () => {
    await resetCli({ otherParameters: { [SCHEDULE_STATE_PARAMETER]: 'DISABLED' } });
    new SpendWorld(new Date('2026-11-25T04:12:35.000Z'))
      .cost('2026-11-22T02:00:00.000Z', 'batch', 900, { calls: 1500 })
      .awsSpend({ batch: 12, interactive: 150, infrastructure: 38.5, monthly: 200.5 })
      .install(cliMocks);
    const run = await runOps(['batch', 'enable', ...PROD, '--reason', 'under budget', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Total spend: total $1,100.50 of $2,000.00 (55.0%)');
    expect(world.otherParameters.get(SCHEDULE_STATE_PARAMETER)).toBe('ENABLED');
  });

  it('enable: refused when the spend cannot be read (exit 2), naming what could not be', async () => {
    await resetCli({ otherParameters: { [SCHEDULE_STATE_PARAMETER]: 'DISABLED' } });
    const spend = new SpendWorld(new Date('2026-11-25T04:12:35.000Z'))
      .awsSpend({ batch: 12, interactive: 150, infrastructure: 38.5, monthly: 200.5 })
      .install(cliMocks);
    spend.getMetricDataError = () =>
      awsError('AccessDeniedException', 'not authorized to perform cloudwatch:GetMetricData');
    const run = await runOps(['batch', 'enable', ...PROD, '--reason', 'r', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('LLM batch unknown: GetMetricData failed: AccessDeniedException');
    expect(world.otherParameters.get(SCHEDULE_STATE_PARAMETER)).toBe('DISABLED');
  });

  it('disable needs a reason', async () => {
    const run = await runOps(['batch', 'disable', ...PROD, '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('batch disable needs --reason "..."');
  });
});

describe('remediation log', () => {
  const audit = (at: string, action: string, actor: string) => ({
    pk: 'AUDIT',
    sk: `${at}#0a1b2c3d`,
    at,
    id: '0a1b2c3d',
    action,
    actor,
    reason: `${action} because`,
    source: actor === 'alice' ? 'cli' : 'traffic-rollback',
    outcome: 'ok',
    details: {},
    environment: 'prod',
    expiresAt: 1_830_000_000,
  });

  it('lists the audit trail newest first, within --since and --limit', async () => {
    await resetCli({
      items: [
        audit('2026-11-10T09:00:00.000Z', 'batch-disable', 'alice'),
        audit('2026-11-24T09:00:00.000Z', 'traffic-rollback', 'traffic-rollback'),
        audit('2026-11-25T04:00:00.000Z', 'traffic-shift-start', 'alice'),
      ],
    });
    const run = await runOps(['remediation', 'log', ...PROD, '--since', '7d', '--limit', '20']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Audit trail: prod since 2026-11-18 04:12:35Z, newest first (at most 20)');
    expect(lines[1]).toMatch(/^\s+time\s+source\s+action\s+actor\s+outcome\s+reason$/);
    expect(lines[2]).toMatch(
      /2026-11-25 04:00:00Z\s+cli\s+traffic-shift-start\s+alice\s+ok\s+traffic-shift-start because/,
    );
    expect(lines[3]).toMatch(/2026-11-24 09:00:00Z\s+traffic-rollback\s+traffic-rollback/);
    expect(run.stdout).not.toContain('batch-disable');
  });
});

describe('errors', () => {
  it('no credentials', async () => {
    cliMocks.cloudformation.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const run = await runOps(['weights', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('No AWS credentials found: run aws sso login or set AWS_PROFILE');
  });

  it('an unknown environment lists the valid ones (exit 2), without calling AWS', async () => {
    const run = await runOps(['weights', '--env', 'qa']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--env qa: expected one of dev, staging, prod');
    expect(awsCalls()).toBe(0);
  });

  it('--env is required', async () => {
    const run = await runOps(['weights']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--env is required');
  });

  it('a stack not deployed', async () => {
    cliMocks.cloudformation
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id fa-ai-system-prod-service does not exist'));
    const run = await runOps(['status', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('fa-ai-system-prod-service is not deployed in us-east-1');
  });

  it('a stack of an older version, without the manifest', async () => {
    cliMocks.cloudformation
      .on(DescribeStacksCommand)
      .resolves(stack([{ OutputKey: 'LoadBalancerDns', OutputValue: 'x' }]));
    const run = await runOps(['weights', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Stack fa-ai-system-prod-service has no OpsManifest output');
    expect(run.stderr).toContain('redeploy');
  });

  it('an invalid manifest names the field', async () => {
    const { listenerArn: _dropped, ...broken } = MANIFEST;
    cliMocks.cloudformation
      .on(DescribeStacksCommand)
      .resolves(stack([{ OutputKey: 'OpsManifest', OutputValue: JSON.stringify(broken) }]));
    const run = await runOps(['weights', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/invalid OpsManifest output \(listenerArn: .*\): redeploy it/);
  });

  it("uses --region, else the environment's configured region", async () => {
    const regions: string[] = [];
    const clients = (region: string) => {
      regions.push(region);
      return cliClients();
    };
    await runOps(['weights', ...PROD, '--region', 'eu-west-1'], { clients });
    await runOps(['weights', ...PROD], { clients });
    expect(regions).toEqual(['eu-west-1', 'us-east-1']);
  });

  it.each([
    [['deploy', ...PROD], /Unknown command 'deploy'/],
    [['batch', 'pause', ...PROD], /Unknown batch command 'pause': expected status, disable, enable/],
    [['weights', ...PROD, '--verbose'], /Unknown option '--verbose'/],
    [['weights', ...PROD, '--to', 'green'], /Option --to does not apply to weights/],
    [[], /No command given/],
  ])('usage errors (exit 2): %j', async (argv, message) => {
    const run = await runOps(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage:');
    expect(awsCalls()).toBe(0);
  });

  it('--help prints the usage (exit 0)', async () => {
    const run = await runOps(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('shift --to <blue|green>');
  });
});
