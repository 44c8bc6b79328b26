/** What the remediation handler's test files share: deps, what was sent, and the per-test reset. */

import 'aws-sdk-client-mock-vitest/extend';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { type HandlerDeps, handleEvent } from '../../../lambdas/remediation/handler';
import { RemediationFailedError } from '../../../lambdas/remediation/logic';
import {
  alarmEvent,
  ENV,
  env,
  mocks,
  NOW,
  type OpsTableModel,
  observability,
  remediation,
  resetMocks,
  clients as testClients,
} from './harness';

/** The observability and ops table of the running test (reset before each). */
export const state = {} as { obs: ReturnType<typeof observability>; table: OpsTableModel };

export function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: testClients,
    env: ENV,
    now: () => NOW,
    leaseMs: 65_000,
    observability: { logger: state.obs.logger, metrics: state.obs.metrics },
    ...overrides,
  };
}

export const DRY_RUN_ENV = env(remediation((r) => (r.dryRun = true)));
export const FND_OFF_ENV = env(remediation((r) => (r.actions['force-new-deployment'].enabled = false)));

export function published(): Array<{ Subject?: string; Message?: string; TopicArn?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

export function audits(): Array<Record<string, unknown>> {
  return [...state.table.items.values()].filter((i) => i.pk === 'AUDIT');
}

export function updateServiceInputs() {
  return mocks.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
}

/** Writes other than the audit trail: the marker, the counter, the service. */
export function mutatingCalls(): number {
  const puts = mocks.ddb.commandCalls(PutCommand).filter((c) => c.args[0].input.Item?.pk !== 'AUDIT');
  return (
    puts.length +
    mocks.ddb.commandCalls(UpdateCommand).length +
    mocks.ecs.commandCalls(UpdateServiceCommand).length
  );
}

export function awsCalls(): number {
  return [mocks.ddb, mocks.ecs, mocks.ssm, mocks.sns].reduce((n, m) => n + m.calls().length, 0);
}

/** The alarm's event throws RemediationFailedError before any change, reported and audited. */
export async function expectFailedBeforeAnyChange(alarmId: string, reported: string): Promise<void> {
  await expect(handleEvent(alarmEvent(alarmId), deps())).rejects.toThrow(RemediationFailedError);
  expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  expect(published()[0]?.Message).toContain(reported);
  expect(audits()[0]?.outcome).toBe('failed');
}

/** Registers the per-test reset and checks; call once at the top of each test file. */
export function useHandlerTests(): void {
  beforeEach(() => {
    state.table = resetMocks();
    state.obs = observability();
  });

  afterEach(() => {
    // Whatever was published fits SNS's subject limit.
    for (const p of published()) expect(p.Subject?.length ?? 0).toBeLessThanOrEqual(100);
    vi.restoreAllMocks();
  });
}
