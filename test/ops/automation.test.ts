/**
 * `ops automation pause|resume|status` on the real DynamoDB engine: the pause item and its
 * audit, `--yes` outside a terminal, the confirmation inside one, and the refusals (exit 2).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { checkSentAgainst } from '../iam/declared-calls';
import { awsCalls, itemsOf, opsTable, resetCli, runOps } from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PAUSE = ['automation', 'pause', '--env', 'prod', '--reason', 'release 4.2 freeze'];

beforeEach(async () => {
  await resetCli();
});

describe('automation pause', () => {
  it('pauses until a duration from now, audited (--yes outside a terminal)', async () => {
    const run = await runOps([...PAUSE, '--until', '2h', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('PAUSED until 2026-11-25T06:12:35.000Z');
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toMatchObject({
      reason: 'release 4.2 freeze',
      until: '2026-11-25T06:12:35.000Z',
      by: 'alice',
      at: '2026-11-25T04:12:35.000Z',
    });
    expect(await itemsOf('AUDIT')).toEqual([
      expect.objectContaining({
        action: 'automation-pause',
        actor: 'alice',
        reason: 'release 4.2 freeze',
        source: 'cli',
      }),
    ]);
  });

  it('takes an ISO time with its zone', async () => {
    const run = await runOps([...PAUSE, '--until', '2026-11-26T18:00:00+01:00', '--yes']);
    expect(run.code).toBe(0);
    expect((await opsTable().item('AUTOMATION', 'PAUSE'))?.until).toBe('2026-11-26T17:00:00.000Z');
  });

  it('refuses outside a terminal without --yes, saying what it would do, changing nothing', async () => {
    const run = await runOps([...PAUSE, '--until', '2h']);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('This pauses every automated action of prod');
    expect(run.stderr).toContain('stdin is not a terminal; pass --yes');
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toBeUndefined();
    expect(await itemsOf('AUDIT')).toEqual([]);
  });

  it('asks in a terminal, and does nothing when not confirmed', async () => {
    const asked: string[] = [];
    const declined = await runOps([...PAUSE, '--until', '2h'], {
      prompt: async (q) => {
        asked.push(q);
        return 'n';
      },
    });
    expect(declined.code).toBe(2);
    expect(asked[0]).toContain('Proceed? [y/N]');
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toBeUndefined();
    const accepted = await runOps([...PAUSE, '--until', '2h'], { prompt: async () => 'y' });
    expect(accepted.code).toBe(0);
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toBeDefined();
  });

  it.each([
    [['--until', '2h', '--yes', '--for', '2h'], "Unknown option '--for'"],
    [['--until', 'tomorrow', '--yes'], '--until tomorrow: expected an ISO time with its zone'],
    [
      ['--until', '2026-11-26T18:00:00', '--yes'],
      '--until 2026-11-26T18:00:00: expected an ISO time with its zone',
    ],
    [['--until', '8d', '--yes'], '--until 8d: 2026-12-03T04:12:35.000Z is more than 7 days ahead'],
    [
      ['--until', '2026-11-25T04:00:00Z', '--yes'],
      '--until 2026-11-25T04:00:00Z: 2026-11-25T04:00:00.000Z is not in the future',
    ],
    [['--until', '0m', '--yes'], 'is not in the future'],
  ])('refuses %j (exit 2) naming the option, changing nothing', async (extra, message) => {
    const run = await runOps([...PAUSE, ...extra]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toBeUndefined();
  });

  it('refuses a pause without --reason or --until, naming it, calling nothing', async () => {
    const noReason = await runOps(['automation', 'pause', '--env', 'prod', '--until', '2h', '--yes']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('automation pause needs --reason "..."');
    const noUntil = await runOps(['automation', 'pause', '--env', 'prod', '--reason', 'x', '--yes']);
    expect(noUntil.code).toBe(2);
    expect(noUntil.stderr).toContain('automation pause needs --until <time|duration>');
    expect(awsCalls()).toBe(0);
  });
});

describe('automation resume', () => {
  it('ends the pause, audited', async () => {
    await runOps([...PAUSE, '--until', '2h', '--yes']);
    const run = await runOps(['automation', 'resume', '--env', 'prod', '--reason', 'freeze lifted', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('RESUMED by alice: freeze lifted');
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toBeUndefined();
    // Both at the test's one instant: their order is the random id's.
    expect((await itemsOf('AUDIT')).map((a) => a.action).sort()).toEqual([
      'automation-pause',
      'automation-resume',
    ]);
  });

  it('requires --yes outside a terminal', async () => {
    await runOps([...PAUSE, '--until', '2h', '--yes']);
    const run = await runOps(['automation', 'resume', '--env', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('stdin is not a terminal; pass --yes');
    expect(await opsTable().item('AUTOMATION', 'PAUSE')).toBeDefined();
  });

  it('has nothing to resume when the pause expired, and writes nothing', async () => {
    await opsTable().seed({
      pk: 'AUTOMATION',
      sk: 'PAUSE',
      reason: 'old',
      until: '2026-11-25T04:00:00.000Z',
      by: 'bob',
      at: '2026-11-25T02:00:00.000Z',
    });
    const run = await runOps(['automation', 'resume', '--env', 'prod', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('not paused: nothing to resume');
    expect(await itemsOf('AUDIT')).toEqual([]);
  });
});

describe('automation status', () => {
  it('prints the pause and the last actions with their verification', async () => {
    await opsTable().seed(
      {
        pk: 'AUTOMATION',
        sk: 'PAUSE',
        reason: 'incident 4711',
        until: '2026-11-25T06:00:00.000Z',
        by: 'bob',
        at: '2026-11-25T04:00:00.000Z',
      },
      {
        pk: 'AUTOMATION_ACTION',
        sk: '2026-11-25T03:00:00.000Z#a1',
        action: 'scale-out',
        trigger: 'fa-ai-system-prod-blue-cpu-high',
        severity: 'P2',
        source: 'remediation',
        did: 'Scaled out.',
        actedAt: '2026-11-25T03:00:00.000Z',
        verifyAt: '2026-11-25T03:10:00.000Z',
        verification: {
          outcome: 'ok',
          at: '2026-11-25T03:10:01.000Z',
          saw: ['OK: alarm is OK'],
          notice: 'none',
        },
      },
      {
        pk: 'AUTOMATION_ACTION',
        sk: '2026-11-25T03:30:00.000Z#a2',
        action: 'traffic-rollback',
        trigger: 'fa-ai-system-prod-p0',
        severity: 'P0',
        source: 'traffic-rollback',
        did: 'Rolled back.',
        actedAt: '2026-11-25T03:30:00.000Z',
        verifyAt: '2026-11-25T03:40:00.000Z',
        verification: {
          outcome: 'failed',
          at: '2026-11-25T03:40:02.000Z',
          saw: ['MISSING: alarm fa-ai-system-prod-p0 is still ALARM'],
          escalatedTo: 'P0',
          notice: 'sent',
        },
      },
      {
        pk: 'AUTOMATION_ACTION',
        sk: '2026-11-25T04:10:00.000Z#a3',
        action: 'force-new-deployment',
        trigger: 'fa-ai-system-prod-log-db-pool-exhausted',
        severity: 'P1',
        source: 'remediation',
        did: 'Forced a new deployment.',
        actedAt: '2026-11-25T04:10:00.000Z',
        verifyAt: '2026-11-25T04:20:00.000Z',
      },
    );
    const run = await runOps(['automation', 'status', '--env', 'prod']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'PAUSED: paused by bob at 2026-11-25T04:00:00.000Z until 2026-11-25T06:00:00.000Z: incident 4711',
    );
    const rows = run.stdout.split('\n').filter((l) => l.includes('2026-11-25 0'));
    expect(rows[0]).toContain('force-new-deployment');
    expect(rows[0]).toContain('pending (at 2026-11-25 04:20:00Z)');
    expect(rows[1]).toContain('FAILED, escalated to P0: MISSING: alarm fa-ai-system-prod-p0 is still ALARM');
    expect(rows[2]).toContain('ok (2026-11-25 03:10:01Z)');
  });

  it('says when nothing was ever paused or done', async () => {
    const run = await runOps(['automation', 'status', '--env', 'prod', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ paused: false, pause: null, actions: [] });
  });
});
