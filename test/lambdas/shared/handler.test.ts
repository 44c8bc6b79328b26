import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import type { AwsClientFactory } from '../../../core/aws-clients';
import { InvalidInputError } from '../../../core/errors';
import { defineLambda, type LambdaDeps, type Observability } from '../../../lambdas/shared/handler';
import { metricValue, observability } from '../../helpers/aws';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Stands for an SDK client: what the factory was asked for. */
class FakeClient {
  constructor(readonly config: unknown) {}
}

interface TestDeps {
  readonly clients: { readonly fake: FakeClient };
  readonly remainingMs?: number;
  readonly observability?: Observability;
}

function lambdaContext(remainingMs: number): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}

describe('defineLambda', () => {
  it('builds the clients once, at definition, and gives every deployed invocation those and its context', async () => {
    observability('test');
    const built = vi.fn((aws: AwsClientFactory) => ({ fake: aws.client(FakeClient) }));
    const seen: TestDeps[] = [];
    const lambda = defineLambda({
      service: 'test',
      clients: built,
      deps: (clients, context): TestDeps => ({ clients, remainingMs: context?.getRemainingTimeInMillis() }),
      failure: () => ({ metrics: [], message: 'failed' }),
      run: async (_event, deps: TestDeps) => {
        seen.push(deps);
        return 'done';
      },
    });
    expect(built).toHaveBeenCalledTimes(1);

    await expect(lambda.handler({}, lambdaContext(1_000))).resolves.toBe('done');
    await expect(lambda.handler({}, lambdaContext(2_000))).resolves.toBe('done');

    expect(built).toHaveBeenCalledTimes(1);
    expect(seen.map((d) => d.remainingMs)).toEqual([1_000, 2_000]);
    expect(seen[0]?.clients).toBe(seen[1]?.clients);
    expect(seen[0]?.clients).toEqual({ fake: expect.any(FakeClient) });
  });

  it('gives a deployed invocation { clients, env: process.env } when the definition says nothing else', async () => {
    observability('test');
    let given: LambdaDeps<string> | undefined;
    const lambda = defineLambda({
      service: 'test',
      clients: () => 'the clients',
      failure: () => ({ metrics: [], message: 'failed' }),
      run: async (_event, deps: LambdaDeps<string>) => {
        given = deps;
      },
    });
    await lambda.handler({});
    expect(given?.clients).toBe('the clients');
    expect(given?.env).toBe(process.env);
  });

  it('checks the event against its schema before running: InvalidInputError, counted as a failure', async () => {
    const obs = observability('test');
    const run = vi.fn(async (event: { n: number }, _deps: { observability?: Observability }) => event.n * 2);
    const lambda = defineLambda({
      service: 'test',
      event: { schema: z.object({ n: z.number() }), invalid: 'Not a number event' },
      clients: () => undefined,
      deps: () => ({}),
      failure: (error) => ({
        metrics: [error instanceof InvalidInputError ? 'Invalid' : 'Failed'],
        message: 'failed',
      }),
      run,
    });
    const deps = { observability: { logger: obs.logger, metrics: obs.metrics } };

    const error = await lambda.handleEvent({ n: 'one' }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/^Not a number event: n: /);
    expect(run).not.toHaveBeenCalled();
    expect(metricValue(obs.emf, 'Invalid')).toBe(1);

    await expect(lambda.handleEvent({ n: 21 }, deps)).resolves.toBe(42);
    expect(run).toHaveBeenCalledWith({ n: 21 }, deps, deps.observability);
  });
});
