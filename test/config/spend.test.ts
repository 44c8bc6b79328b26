import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ENVIRONMENTS,
  type EnvironmentConfigInput,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
} from '../../lib/config';

function messageWith(
  reconciliation: Record<string, unknown>,
  extra: Partial<EnvironmentConfigInput> = {},
): string {
  const raw = { ...structuredClone(ENVIRONMENTS.prod), ...extra, spend: { reconciliation } };
  try {
    parseEnvironmentConfig('prod', raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('spend.reconciliation', () => {
  it('defaults to a daily 06:00 run, 5% and $1, six hours for a day to settle, the whole organizations', () => {
    expect(loadEnvironmentConfig('prod').spend.reconciliation).toEqual({
      hour: 6,
      maxDiscrepancyPercent: 5,
      minDiscrepancyUsd: 1,
      settleHours: 6,
      anthropicWorkspaceIds: [],
      openaiProjectIds: [],
    });
  });

  it('accepts workspaces and projects to reconcile a shared organization', () => {
    const raw = {
      ...structuredClone(ENVIRONMENTS.prod),
      spend: {
        reconciliation: {
          anthropicWorkspaceIds: ['wrkspc_01JwQv', 'default'],
          openaiProjectIds: ['proj_abc'],
        },
      },
    };
    expect(parseEnvironmentConfig('prod', raw).spend.reconciliation.anthropicWorkspaceIds).toEqual([
      'wrkspc_01JwQv',
      'default',
    ]);
  });

  it.each([
    [{ maxDiscrepancyPercent: 0 }, 'spend.reconciliation.maxDiscrepancyPercent: must be above 0'],
    [{ maxDiscrepancyPercent: 150 }, 'spend.reconciliation.maxDiscrepancyPercent:'],
    [{ minDiscrepancyUsd: -1 }, 'spend.reconciliation.minDiscrepancyUsd: must not be negative'],
    [{ settleHours: 1.5 }, 'spend.reconciliation.settleHours:'],
    [{ hour: 24 }, 'spend.reconciliation.hour:'],
    [
      { anthropicWorkspaceIds: ['prod-workspace'] },
      'spend.reconciliation.anthropicWorkspaceIds.0: must be a workspace id (wrkspc_...) or default',
    ],
    [
      { openaiProjectIds: ['org-123'] },
      'spend.reconciliation.openaiProjectIds.0: must be a project id (proj_...)',
    ],
  ])('rejects %j naming the field and the rule', (reconciliation, expected) => {
    expect(messageWith(reconciliation)).toContain(expected);
  });

  it('rejects an hour the spring-forward day skips in the time zone, naming the field', () => {
    const message = messageWith({ hour: 2 });
    expect(message).toContain(
      'spend.reconciliation.hour: the daily spend reconciliation: cron(0 2 * * ? *) must fire at a local time',
    );
    expect(message).toContain('2026-03-08 02:00 does not exist');
  });

  it('accepts that hour in a zone without daylight saving', () => {
    const raw = {
      ...structuredClone(ENVIRONMENTS.prod),
      timeZone: 'UTC',
      spend: { reconciliation: { hour: 2 } },
    };
    expect(parseEnvironmentConfig('prod', raw).spend.reconciliation.hour).toBe(2);
  });
});
