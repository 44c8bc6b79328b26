import { describe, expect, it } from 'vitest';
import { ALARM_IDS, type AlarmId } from '../../../core/alarms/catalogue';
import type { AlarmFact } from '../../../core/alarms/facts';
import { InvalidInputError } from '../../../core/errors';
import { configFromEnv } from '../../../lambdas/remediation/config';
import { remediationFor, scaleOutTarget } from '../../../lambdas/remediation/logic';
import { liveColourOf, plannedAction, TRAFFIC_ROLLBACK_REASON } from '../../../lambdas/remediation/mapping';
import { ALARM_PREFIX, CONFIG, ENV, env, REMEDIATION, remediation, SERVICES } from './harness';

/** The fact of catalogue alarm `id`, as the Lambda receives it. */
function fact(id: AlarmId): AlarmFact {
  const found = CONFIG.alarmFacts.byName(`${ALARM_PREFIX}${id}`);
  if (found === undefined) throw new Error(`no fact for ${id}`);
  return found;
}

describe('remediationFor', () => {
  it.each(['log-db-pool-exhausted', 'db-connections-high'] as const)(
    '%s forces a new deployment of the live colour, whichever it is',
    (alarmId) => {
      expect(remediationFor(fact(alarmId), 'blue', CONFIG)).toEqual({
        act: true,
        action: 'force-new-deployment',
        colour: 'blue',
        service: SERVICES.blue,
      });
      expect(remediationFor(fact(alarmId), 'green', CONFIG)).toEqual({
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
    expect(remediationFor(fact(alarmId), colour, CONFIG)).toEqual({
      act: true,
      action: 'scale-out',
      colour,
      service: SERVICES[colour],
      step: 1,
      maxCount: 10,
    });
    const live = colour === 'blue' ? 'green' : 'blue';
    expect(remediationFor(fact(alarmId), live, CONFIG)).toEqual({
      act: false,
      action: 'scale-out',
      skip: 'idle-colour',
      colour,
      reason: `${colour} is the idle colour (${live} is live): scaling it out would not relieve the live traffic`,
    });
  });

  it('leaves P0 to the traffic-rollback Lambda', () => {
    expect(remediationFor(fact('p0'), 'blue', CONFIG)).toEqual({
      act: false,
      action: undefined,
      reason: TRAFFIC_ROLLBACK_REASON,
    });
    expect(TRAFFIC_ROLLBACK_REASON).toBe(
      'P0 after a recent shift is rolled back by the traffic-rollback Lambda (rollbackToLastKnownGood)',
    );
  });

  it('has nothing for alarms whose response is none, and says what they paged', () => {
    expect(remediationFor(fact('log-fact-check-failed'), 'blue', CONFIG)).toEqual({
      act: false,
      action: undefined,
      reason: 'no automatic remediation for log-fact-check-failed; the alarm already paged P3',
    });
  });

  it("remediates exactly the catalogue's new-deployment and scale-out alarms", () => {
    const remediated = ALARM_IDS.filter((id) => plannedAction(fact(id)) !== undefined);
    expect(remediated.sort()).toEqual(
      [
        'blue-cpu-high',
        'blue-memory-high',
        'db-connections-high',
        'green-cpu-high',
        'green-memory-high',
        'log-db-pool-exhausted',
      ].sort(),
    );
  });

  it('acts on the response the facts give, not on the alarm id', () => {
    const cache: AlarmFact = { ...fact('cache-memory-high'), response: 'new-deployment' };
    expect(remediationFor(cache, 'green', CONFIG)).toMatchObject({
      act: true,
      action: 'force-new-deployment',
    });
    const pool: AlarmFact = { ...fact('log-db-pool-exhausted'), response: 'none' };
    expect(remediationFor(pool, 'green', CONFIG).act).toBe(false);
  });

  it('skips a disabled action before looking at the colour, and a split without a live colour', () => {
    const off = configFromEnv(env(remediation((r) => (r.actions['scale-out'].enabled = false))));
    expect(remediationFor(fact('blue-cpu-high'), 'blue', off)).toMatchObject({
      act: false,
      skip: 'disabled',
      reason: 'scale-out is disabled in config',
    });
    expect(remediationFor(fact('db-connections-high'), 'blue', off).act).toBe(true);
    expect(remediationFor(fact('db-connections-high'), undefined, CONFIG)).toMatchObject({
      act: false,
      skip: 'no-live-colour',
    });
  });

  it('uses the configured step', () => {
    const big = configFromEnv(env(remediation((r) => (r.actions['scale-out'].step = 3))));
    expect(remediationFor(fact('green-cpu-high'), 'green', big)).toMatchObject({ act: true, step: 3 });
  });
});

describe('helpers', () => {
  it('scaleOutTarget adds the step, never past the max', () => {
    expect(scaleOutTarget(2, 1, 10)).toBe(3);
    expect(scaleOutTarget(9, 3, 10)).toBe(10);
    expect(scaleOutTarget(10, 1, 10)).toBeUndefined();
    expect(scaleOutTarget(12, 1, 10)).toBeUndefined();
  });

  it('liveColourOf takes the larger weight; a tie has none', () => {
    expect(liveColourOf({ blue: 90, green: 10 })).toBe('blue');
    expect(liveColourOf({ blue: 0, green: 100 })).toBe('green');
    expect(liveColourOf({ blue: 50, green: 50 })).toBeUndefined();
  });
});

describe('configFromEnv', () => {
  it('reads the stack environment', () => {
    const { alarmFacts, automation, ...rest } = CONFIG;
    expect(rest).toEqual({
      environment: 'prod',
      ecsCluster: 'fa-ai-system-prod',
      services: SERVICES,
      maxCounts: { blue: 10, green: 10 },
      weightsParameter: '/fa-ai-system/prod/traffic/weights',
      opsTableName: 'fa-ai-system-prod-ops',
      topicArns: JSON.parse(ENV.TOPIC_ARNS as string),
      remediation: REMEDIATION,
    });
    expect(alarmFacts.namePrefix).toBe(ALARM_PREFIX);
    expect(automation.opsTableName).toBe('fa-ai-system-prod-ops');
    expect(alarmFacts.all).toHaveLength(ALARM_IDS.length);
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

  it('refuses alarm facts it could not act on safely, naming ALARM_FACTS', () => {
    const withFacts = (alarms: unknown) => () =>
      configFromEnv({ ...ENV, ALARM_FACTS: JSON.stringify({ namePrefix: ALARM_PREFIX, alarms }) });
    // A scale-out must say which colour; a severity or a response must be one the Lambda knows.
    expect(withFacts({ 'P2 scale-out': ['blue-cpu-high'] })).toThrow(/ALARM_FACTS/);
    expect(withFacts({ 'P5 none': ['error-rate-high'] })).toThrow(/ALARM_FACTS/);
    expect(withFacts({ 'P1 reboot': ['error-rate-high'] })).toThrow(/ALARM_FACTS/);
    expect(withFacts({ 'P1 none': ['error-rate-high'], 'P2 none': ['error-rate-high'] })).toThrow(
      /listed twice/,
    );
    expect(() => configFromEnv({ ...ENV, ALARM_FACTS: '' })).toThrow(/ALARM_FACTS/);
  });

  it('refuses a misspelt switch instead of ignoring it', () => {
    const typo = { ...REMEDIATION, dryrun: true } as unknown as typeof REMEDIATION;
    expect(() => configFromEnv(env(typo))).toThrow(/REMEDIATION: Unrecognized key/);
  });
});
