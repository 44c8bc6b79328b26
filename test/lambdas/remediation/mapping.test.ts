import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../lambdas/remediation/config';
import { remediationFor, scaleOutTarget } from '../../../lambdas/remediation/logic';
import { alarmIdOf, liveColourOf, P0_REASON, remediatedAlarmIds } from '../../../lambdas/remediation/mapping';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import { CONFIG, ENV, env, REMEDIATION, remediation, SERVICES, SEVERITIES } from './harness';

describe('remediationFor', () => {
  it.each(['log-db-pool-exhausted', 'db-connections-high'])(
    '%s forces a new deployment of the live colour, whichever it is',
    (alarmId) => {
      expect(remediationFor(alarmId, 'blue', CONFIG)).toEqual({
        act: true,
        action: 'force-new-deployment',
        colour: 'blue',
        service: SERVICES.blue,
      });
      expect(remediationFor(alarmId, 'green', CONFIG)).toEqual({
        act: true,
        action: 'force-new-deployment',
        colour: 'green',
        service: SERVICES.green,
      });
    },
  );

  it.each([
    ['blue-cpu-high', 'blue'],
    ['blue-memory-high', 'blue'],
    ['green-cpu-high', 'green'],
    ['green-memory-high', 'green'],
  ] as const)('%s scales %s out by the step when it is live, and not when idle', (alarmId, colour) => {
    expect(remediationFor(alarmId, colour, CONFIG)).toEqual({
      act: true,
      action: 'scale-out',
      colour,
      service: SERVICES[colour],
      step: 1,
      maxCount: 10,
    });
    const live = colour === 'blue' ? 'green' : 'blue';
    expect(remediationFor(alarmId, live, CONFIG)).toEqual({
      act: false,
      action: 'scale-out',
      skip: 'idle-colour',
      colour,
      reason: `${colour} is the idle colour (${live} is live): scaling it out would not relieve the live traffic`,
    });
  });

  it('leaves P0 to the traffic-rollback Lambda', () => {
    expect(remediationFor('p0', 'blue', CONFIG)).toEqual({
      act: false,
      action: undefined,
      reason: P0_REASON,
    });
    expect(P0_REASON).toBe(
      'P0 after a recent shift is rolled back by the traffic-rollback Lambda (rollbackToLastKnownGood)',
    );
  });

  it('has nothing for other alarms, prototype names included', () => {
    expect(remediationFor('cache-memory-high', 'blue', CONFIG, 'P3')).toEqual({
      act: false,
      action: undefined,
      reason: 'no automatic remediation for cache-memory-high; the alarm already paged P3',
    });
    expect(remediationFor('constructor', 'blue', CONFIG).act).toBe(false);
    expect(remediatedAlarmIds()).toHaveLength(6);
  });

  it('skips a disabled action before looking at the colour, and a split without a live colour', () => {
    const off = configFromEnv(env(remediation((r) => (r.actions['scale-out'].enabled = false))));
    expect(remediationFor('blue-cpu-high', 'blue', off)).toMatchObject({
      act: false,
      skip: 'disabled',
      reason: 'scale-out is disabled in config',
    });
    expect(remediationFor('db-connections-high', 'blue', off).act).toBe(true);
    expect(remediationFor('db-connections-high', undefined, CONFIG)).toMatchObject({
      act: false,
      skip: 'no-live-colour',
    });
  });

  it('uses the configured step', () => {
    const big = configFromEnv(env(remediation((r) => (r.actions['scale-out'].step = 3))));
    expect(remediationFor('green-cpu-high', 'green', big)).toMatchObject({ act: true, step: 3 });
  });
});

describe('helpers', () => {
  it('scaleOutTarget adds the step, never past the max', () => {
    expect(scaleOutTarget(2, 1, 10)).toBe(3);
    expect(scaleOutTarget(9, 3, 10)).toBe(10);
    expect(scaleOutTarget(10, 1, 10)).toBeUndefined();
    expect(scaleOutTarget(12, 1, 10)).toBeUndefined();
  });

  it('alarmIdOf strips the prefix, and only that', () => {
    expect(alarmIdOf('fa-ai-system-prod-blue-cpu-high', 'fa-ai-system-prod-')).toBe('blue-cpu-high');
    expect(alarmIdOf('fa-ai-system-staging-blue-cpu-high', 'fa-ai-system-prod-')).toBeUndefined();
    expect(alarmIdOf('fa-ai-system-prod-', 'fa-ai-system-prod-')).toBeUndefined();
  });

  it('liveColourOf takes the larger weight; a tie has none', () => {
    expect(liveColourOf({ blue: 90, green: 10 })).toBe('blue');
    expect(liveColourOf({ blue: 0, green: 100 })).toBe('green');
    expect(liveColourOf({ blue: 50, green: 50 })).toBeUndefined();
  });
});

describe('configFromEnv', () => {
  it('reads the stack environment', () => {
    expect(CONFIG).toEqual({
      environment: 'prod',
      alarmPrefix: 'fa-ai-system-prod-',
      ecsCluster: 'fa-ai-system-prod',
      services: SERVICES,
      maxCounts: { blue: 10, green: 10 },
      weightsParameter: '/fa-ai-system/prod/traffic/weights',
      opsTableName: 'fa-ai-system-prod-ops',
      topicArns: JSON.parse(ENV.TOPIC_ARNS as string),
      remediation: REMEDIATION,
      alarmSeverities: SEVERITIES,
      automation: JSON.parse(ENV.AUTOMATION as string),
    });
  });

  it('names every bad variable', () => {
    const bad = {
      ...ENV,
      ECS_CLUSTER: ' ',
      SERVICES: '{"blue": "x"',
      MAX_COUNTS: '{"blue": 0, "green": 10}',
      TOPIC_ARNS: JSON.stringify({ P0: 'arn:a', P1: 'arn:b', P2: 'arn:c' }),
    };
    delete (bad as Record<string, unknown>).OPS_TABLE_NAME;
    expect(() => configFromEnv(bad)).toThrow(InvalidInputError);
    const message = (() => {
      try {
        configFromEnv(bad);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of ['ECS_CLUSTER', 'SERVICES: must be valid JSON', 'MAX_COUNTS.blue', 'TOPIC_ARNS.P3']) {
      expect(message).toContain(name);
    }
    expect(message).toContain('OPS_TABLE_NAME');
  });

  it('refuses a misspelt switch instead of ignoring it', () => {
    const typo = { ...REMEDIATION, dryrun: true } as unknown as typeof REMEDIATION;
    expect(() => configFromEnv(env(typo))).toThrow(/REMEDIATION: Unrecognized key/);
  });
});
