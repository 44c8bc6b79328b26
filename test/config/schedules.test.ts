import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ENVIRONMENTS,
  type EnvironmentConfigInput,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
} from '../../lib/config';

/** prod's values with one change applied. */
function prodWith(mutate: (c: EnvironmentConfigInput & Record<string, any>) => void): unknown {
  const copy = structuredClone(ENVIRONMENTS.prod) as EnvironmentConfigInput & Record<string, any>;
  mutate(copy);
  return copy;
}

function messageOf(raw: unknown): string {
  try {
    parseEnvironmentConfig('prod', raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('schedules and daylight saving', () => {
  it('defaults the weekly batch to Sunday 00:00, a local time New York has exactly once every Sunday', () => {
    expect(loadEnvironmentConfig('prod').batch.scheduleCron).toBe('cron(0 0 ? * SUN *)');
  });

  it("rejects the runbook's Sunday 02:00 in New York, naming the field and the skipped Sunday", () => {
    const message = messageOf(
      prodWith((c) => {
        c.batch = { scheduleCron: 'cron(0 2 ? * SUN *)' };
      }),
    );
    expect(message).toContain("Invalid config for environment 'prod'");
    expect(message).toMatch(
      /batch\.scheduleCron: the weekly batch: cron\(0 2 \? \* SUN \*\) must fire at a local time that exists exactly once/,
    );
    expect(message).toContain('2026-03-08 02:00 does not exist (and 27 more by 2053)');
  });

  it('rejects a batch time in the hour the fall-back Sunday repeats', () => {
    const message = messageOf(
      prodWith((c) => {
        c.batch = { scheduleCron: 'cron(30 1 ? * SUN *)' };
      }),
    );
    expect(message).toContain('batch.scheduleCron: the weekly batch:');
    expect(message).toContain('2026-11-01 01:30 repeats');
  });

  it('rejects "every 3 days" at 02:00 for the days of the month it meets the spring-forward Sunday', () => {
    const message = messageOf(
      prodWith((c) => {
        c.batch = { scheduleCron: 'cron(0 2 */3 * ? *)' };
      }),
    );
    expect(message).toContain('batch.scheduleCron:');
    expect(message).toContain('2030-03-10 02:00 does not exist');
  });

  it('accepts the runbook\'s "every 3 days" cost action at 00:00', () => {
    const raw = prodWith((c) => {
      c.batch = { scheduleCron: 'cron(0 0 */3 * ? *)' };
    });
    expect(parseEnvironmentConfig('prod', raw).batch.scheduleCron).toBe('cron(0 0 */3 * ? *)');
  });

  it('accepts Sunday 02:00 in a zone without daylight saving', () => {
    const raw = prodWith((c) => {
      c.timeZone = 'Asia/Tokyo';
      c.batch = { scheduleCron: 'cron(0 2 ? * SUN *)' };
    });
    expect(parseEnvironmentConfig('prod', raw).timeZone).toBe('Asia/Tokyo');
  });

  it('rejects a morning health check hour the spring-forward day skips, naming the field', () => {
    const message = messageOf(
      prodWith((c) => {
        c.observability = { morningCheckHour: 2 };
      }),
    );
    expect(message).toContain(
      'observability.morningCheckHour: the morning health check: cron(0 2 * * ? *) must fire',
    );
  });

  it("rejects a time zone whose clock changes skip the database maintenance's Sunday 03:00", () => {
    // Helsinki moves from 03:00 to 04:00 in March and passes 03:00-04:00 twice in October.
    const message = messageOf(
      prodWith((c) => {
        c.timeZone = 'Europe/Helsinki';
      }),
    );
    expect(message).toContain(
      'timeZone: the weekly database maintenance: cron(0 3 ? * SUN *) must fire at a local time',
    );
    expect(message).toContain('2026-03-29 03:00 does not exist');
  });

  it('reports an unknown time zone by its own rule alone', () => {
    const message = messageOf(
      prodWith((c) => {
        c.timeZone = 'Mars/Olympus_Mons';
      }),
    );
    expect(message.split('\n').slice(1)).toEqual([
      '  - timeZone: must be an IANA time zone such as America/New_York',
    ]);
  });

  it('rejects a cron Scheduler would refuse, naming the field and the rule', () => {
    const message = messageOf(
      prodWith((c) => {
        c.batch = { scheduleCron: 'cron(0 25 ? * SUN *)' };
      }),
    );
    expect(message).toContain("batch.scheduleCron: must be a valid cron: hour value '25' is not in 0-23");
  });
});
