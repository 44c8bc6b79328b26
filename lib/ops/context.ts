import type { RetryOptions } from '../../lambdas/shared/retry';
import type { OpsClients } from './clients';
import type { OpsManifest } from './manifest';
import type { Output } from './output';

/** What every command gets. */
export interface CommandContext {
  readonly manifest: OpsManifest;
  readonly region: string;
  readonly clients: OpsClients;
  readonly out: Output;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Who runs the CLI. */
  readonly actor: string;
  /** The retry policy of every AWS call (the injected sleep). */
  readonly retry: RetryOptions;
  readonly pollIntervalMs: number;
}
