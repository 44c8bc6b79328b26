/** What the shared traffic tests share: times, requests and the engine's reset and write count. */
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { engine, mocks, resetEngine, SILENT, type WorldSetup } from '../../lambdas/traffic-shift/harness';

export const NOW = new Date('2026-11-25T04:10:00.000Z');
export const OPTIONS = { logger: SILENT };
export const AUTO = {
  actor: 'traffic-rollback',
  reason: 'P0 alarm fa-ai-system-prod-p0 in ALARM',
  source: 'traffic-rollback',
  now: NOW,
  requireRecentShiftWithin: 60,
  cooldownMinutes: 30,
} as const;
export const CLI = { actor: 'alice', reason: 'manual rollback', source: 'cli', now: NOW } as const;

/** Writes to the mocked services, plus 1 for each table item changed, added or removed. */
export async function writes(): Promise<number> {
  const text = (items: unknown[]) => new Set(items.map((i) => JSON.stringify(i)));
  const before = text(seeded);
  const after = text(await engine().items());
  const changedItems =
    [...after].filter((i) => !before.has(i)).length + [...before].filter((i) => !after.has(i)).length;
  return (
    mocks.elbv2.commandCalls(ModifyListenerCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    changedItems
  );
}

/** The seeded items, to tell whether a call changed the table. */
let seeded: Array<Record<string, unknown>> = [];

export async function reset(setup: WorldSetup = {}): Promise<void> {
  await resetEngine(setup);
  seeded = await engine().items();
}
