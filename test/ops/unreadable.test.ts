/**
 * A reading command with a source it cannot read: the rest is shown, the source is UNKNOWN and
 * listed last, and the exit code says the picture is incomplete.
 */
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { awsError } from '../helpers/aws';
import { checkSentAgainst } from '../iam/declared-calls';
import { cliMocks, resetCli, runOps, SCHEDULE_STATE_PARAMETER } from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['--env', 'prod'];

beforeEach(async () => {
  await resetCli({ otherParameters: { [SCHEDULE_STATE_PARAMETER]: 'ENABLED' } });
});

describe('batch status', () => {
  it('what it cannot read is UNKNOWN and listed last (exit 1); no runs is said plainly', async () => {
    cliMocks.scheduler
      .on(GetScheduleCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized', 403));
    const run = await runOps(['batch', 'status', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/schedule\s+default\/fa-ai-system-prod-weekly-batch\s+UNKNOWN/);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(-5, -2)).toEqual(['Last 5 runs:', '  none recorded', '']);
    expect(lines.slice(-2)).toEqual([
      'Could not read:',
      expect.stringMatching(/^- schedule: .*not authorized/),
    ]);
    expect(JSON.parse((await runOps(['batch', 'status', ...PROD, '--json'])).stdout)).toMatchObject({
      schedule: { state: null },
      runs: [],
      errors: [expect.stringMatching(/^schedule: /)],
    });
  });
});
