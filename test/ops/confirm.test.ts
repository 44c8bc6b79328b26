import 'aws-sdk-client-mock-vitest/extend';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { world } from '../lambdas/traffic-shift/harness';
import { cliMocks, resetCli, runOps } from './harness';

// The commands that change something, run without a terminal: they say what they would do and
// refuse without --yes (lib/ops/confirm.ts), before any change.
const PROD = ['--env', 'prod'];

describe('commands that change something', () => {
  it.each([
    [['shift', ...PROD, '--to', 'green'], "This shifts prod's traffic to green in steps of 10, 50, 100%"],
    [
      ['rollback', ...PROD, '--reason', 'errors'],
      "This restores prod's weights from before the last shift now",
    ],
    [['batch', 'disable', ...PROD, '--reason', 'cost'], "This disables prod's batch"],
    [['batch', 'enable', ...PROD, '--reason', 'fixed'], "This re-enables prod's batch schedule"],
  ])(
    '%j without a terminal and without --yes: says what it would do, refuses (exit 2), changes nothing',
    async (argv, plan) => {
      await resetCli({ listener: { blue: 100, green: 0 } });
      const run = await runOps(argv);
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).toContain(plan);
      expect(run.stderr).toContain('pass --yes to confirm');
      expect(cliMocks.elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
      expect(cliMocks.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(cliMocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
      expect(cliMocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
      expect(world.listener).toEqual({ blue: 100, green: 0 });
    },
  );
});
