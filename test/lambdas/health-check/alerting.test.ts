import { describe, expect, it } from 'vitest';
import type { CheckResult, HealthReport } from '../../../core/health/report';
import { decideLight, type LightAlert, problemOf } from '../../../lambdas/health-check/alerting';
import { NOW } from './fixtures';

const pass = (name: CheckResult['name']): CheckResult => ({
  name,
  status: 'PASS',
  figure: '',
  threshold: '',
});
const fail = (name: CheckResult['name'], severity: 'P0' | 'P1' | 'P2'): CheckResult => ({
  ...pass(name),
  status: 'FAIL',
  severity,
});
const unknown = (name: CheckResult['name']): CheckResult => ({ ...pass(name), status: 'UNKNOWN' });

function light(...checks: CheckResult[]): HealthReport {
  const overall = checks.some((c) => c.status === 'FAIL')
    ? 'UNHEALTHY'
    : checks.some((c) => c.status === 'UNKNOWN')
      ? 'UNKNOWN'
      : 'HEALTHY';
  return { kind: 'light', at: NOW.toISOString(), overall, checks };
}

const minutesAgo = (n: number) => new Date(NOW.getTime() - n * 60_000).toISOString();
const alert = (overrides: Partial<LightAlert> = {}): LightAlert => ({
  problem: 'errorRate=FAIL',
  severity: 'P2',
  since: minutesAgo(30),
  notifiedAt: minutesAgo(30),
  expiresAt: 0,
  ...overrides,
});
const stored = (value: LightAlert | undefined) => ({ ok: true as const, value });
const slowErrors = light(pass('services'), fail('errorRate', 'P2'));

describe('problemOf', () => {
  it('names the checks that did not pass with their status, in report order', () => {
    expect(problemOf(light(unknown('targets'), pass('services'), fail('errorRate', 'P1')))).toBe(
      'targets=UNKNOWN,errorRate=FAIL',
    );
    expect(problemOf(light(pass('services')))).toBe('');
  });
});

describe('decideLight', () => {
  it('is silent when healthy and nothing was out, and says RECOVERED when something was', () => {
    expect(decideLight(light(pass('services')), stored(undefined), NOW, 60)).toEqual({ action: 'silent' });
    expect(decideLight(light(pass('services')), stored(alert()), NOW, 60)).toEqual({
      action: 'recover',
      alert: alert(),
    });
  });

  it('does not claim a recovery it cannot know of: healthy with the item unreadable is silent', () => {
    expect(decideLight(light(pass('services')), { ok: false, error: 'AccessDenied' }, NOW, 60)).toEqual({
      action: 'silent',
    });
  });

  it('holds the same problem until the interval has passed, then reminds', () => {
    expect(decideLight(slowErrors, stored(alert()), NOW, 60)).toMatchObject({ action: 'hold' });
    expect(decideLight(slowErrors, stored(alert({ notifiedAt: minutesAgo(60) })), NOW, 60)).toMatchObject({
      action: 'notify',
      reason: 'reminder',
      since: minutesAgo(30),
    });
  });

  it('treats an unreadable notice time as due: in doubt it pages', () => {
    expect(decideLight(slowErrors, stored(alert({ notifiedAt: 'yesterday' })), NOW, 60)).toMatchObject({
      action: 'notify',
      reason: 'reminder',
    });
  });

  it('sends a change of checks or of severity at once, as a new problem from now', () => {
    const more = light(unknown('targets'), fail('errorRate', 'P2'));
    expect(decideLight(more, stored(alert()), NOW, 60)).toMatchObject({
      action: 'notify',
      reason: 'changed',
      problem: 'targets=UNKNOWN,errorRate=FAIL',
      since: NOW.toISOString(),
    });
    const worse = light(fail('errorRate', 'P1'));
    expect(decideLight(worse, stored(alert()), NOW, 60)).toMatchObject({ reason: 'changed', severity: 'P1' });
  });

  it('sends when the item could not be read, and reports UNKNOWN-only problems at P2', () => {
    expect(decideLight(light(unknown('targets')), { ok: false, error: 'Throttled' }, NOW, 60)).toMatchObject({
      action: 'notify',
      reason: 'state-unreadable',
      severity: 'P2',
      problem: 'targets=UNKNOWN',
    });
  });
});
