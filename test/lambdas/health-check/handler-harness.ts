/**
 * What the health-check handler tests share: the Powertools output they read back and the
 * handler's dependencies around the fake world of ./fixtures.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { CheckName, CheckResult, HealthReport } from '../../../core/health/report';
import type { HandlerDeps } from '../../../lambdas/health-check/handler';
import { clients, ENV, healthyWorld, mocks, NOW, serve, type World } from './fixtures';

/** A test's logger and metrics, and the EMF documents the metrics wrote to stdout. */
export interface Observed {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly emf: Array<Record<string, unknown>>;
}

/** Captures stdout's EMF documents until `vi.restoreAllMocks()`. */
export function observe(): Observed {
  const emf: Array<Record<string, unknown>> = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.includes('"_aws"')) emf.push(JSON.parse(line));
    }
    return true;
  });
  return {
    logger: new Logger({ serviceName: 'health-check', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test/Automation', serviceName: 'health-check' }),
    emf,
  };
}

export function handlerDeps(observed: Observed, overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: clients(),
    env: ENV,
    now: () => NOW,
    observability: { logger: observed.logger, metrics: observed.metrics },
    ...overrides,
  };
}

export function statuses(report: HealthReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

export function check(report: HealthReport, name: CheckName): CheckResult {
  const found = report.checks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no ${name} check in the report`);
  return found;
}

/** The one Publish call's input. */
export function published(): PublishCommandInput {
  const calls = mocks.sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]?.args[0].input;
  if (input === undefined) throw new Error('no Publish call');
  return input;
}

/** Every EMF datapoint as { name, value, dimensions } (dimension values of the document). */
export function datapointsOf(
  emf: ReadonlyArray<Record<string, unknown>>,
): Array<{ name: string; value: unknown; dims: Record<string, unknown> }> {
  return emf.flatMap((doc) => {
    const aws = doc._aws as {
      CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
    };
    return aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((m) => ({
        name: m.Name,
        value: doc[m.Name],
        dims: Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, doc[d]])),
      })),
    );
  });
}

/**
 * Registers the hooks of a handler test file: each test gets a healthy world served by the
 * fakes and fresh observability, handed to `use`; the spies are restored after it.
 */
export function eachTestWorld(use: (world: World, observed: Observed) => void): void {
  beforeEach(() => {
    const world = healthyWorld();
    serve(world);
    use(world, observe());
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
}
