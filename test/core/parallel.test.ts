import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInParallel, settle } from '../../core/parallel';

interface Action {
  readonly name: string;
  readonly run: () => Promise<string>;
}

const resolveAfter = (ms: number, value: string): Promise<string> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms));
const failAfter = (ms: number, error: Error): Promise<string> =>
  new Promise((_, reject) => setTimeout(() => reject(error), ms));

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('runInParallel', () => {
  it('reports every action as succeeded when all succeed, with their values', async () => {
    const actions: Action[] = [
      { name: 'a', run: () => resolveAfter(5, 'A') },
      { name: 'b', run: () => resolveAfter(1, 'B') },
    ];
    const report = await runInParallel(actions, (action) => action.run());
    expect(report.failed).toEqual([]);
    expect(report.succeeded.map((s) => [s.action.name, s.value])).toEqual([
      ['a', 'A'],
      ['b', 'B'],
    ]);
  });

  it('names the actions that failed, each with its own error, and still runs the others', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const missing = Object.assign(new Error('no such task'), { name: 'InvalidParameterException' });
    let finished = false;
    const actions: Action[] = [
      { name: 'stop-1', run: () => failAfter(1, throttled) },
      {
        name: 'stop-2',
        run: async () => {
          await resolveAfter(10, '');
          finished = true;
          return 'stopped';
        },
      },
      { name: 'stop-3', run: () => failAfter(2, missing) },
    ];
    const report = await runInParallel(actions, (action) => action.run());
    expect(finished).toBe(true);
    expect(report.failed.map((f) => [f.action.name, f.error])).toEqual([
      ['stop-1', throttled],
      ['stop-3', missing],
    ]);
    expect(report.succeeded.map((s) => s.action.name)).toEqual(['stop-2']);
  });

  it('reports every action as failed when all fail, and never rejects', async () => {
    const actions = ['x', 'y', 'z'].map((name) => ({ name, run: () => failAfter(1, new Error(name)) }));
    const report = await runInParallel(actions, (action) => action.run());
    expect(report.succeeded).toEqual([]);
    expect(report.failed.map((f) => (f.error as Error).message)).toEqual(['x', 'y', 'z']);
  });

  it('keeps the outcomes in the order of the actions, not of completion', async () => {
    const actions: Action[] = [
      { name: 'slow', run: () => resolveAfter(20, 'slow') },
      { name: 'failing', run: () => failAfter(10, new Error('boom')) },
      { name: 'fast', run: () => resolveAfter(1, 'fast') },
    ];
    const report = await runInParallel(actions, (action) => action.run());
    expect(report.outcomes.map((o) => [o.action.name, o.ok])).toEqual([
      ['slow', true],
      ['failing', false],
      ['fast', true],
    ]);
  });

  it('starts every action before any ends (parallel, not one after another)', async () => {
    const started: string[] = [];
    const actions = ['a', 'b', 'c'].map((name) => ({
      name,
      run: () => {
        started.push(name);
        return resolveAfter(5, name);
      },
    }));
    const pending = runInParallel(actions, (action) => action.run());
    expect(started).toEqual(['a', 'b', 'c']);
    await pending;
  });

  it('reports an action that throws before returning a promise as failed, with no unhandled rejection', async () => {
    const error = new Error('synchronous');
    const actions = [
      {
        name: 'throws',
        run: (): Promise<string> => {
          throw error;
        },
      },
      { name: 'rejects', run: () => Promise.reject(new Error('async')) },
      { name: 'ok', run: () => Promise.resolve('fine') },
    ];
    const report = await runInParallel(actions, (action) => action.run());
    await resolveAfter(20, '');
    expect(report.failed.map((f) => [f.action.name, (f.error as Error).message])).toEqual([
      ['throws', 'synchronous'],
      ['rejects', 'async'],
    ]);
    expect(unhandled).toEqual([]);
  });

  it('reports an empty list of actions as nothing done and nothing failed', async () => {
    const report = await runInParallel([] as Action[], (action) => action.run());
    expect(report).toEqual({ outcomes: [], succeeded: [], failed: [] });
  });
});

describe('settle', () => {
  it('settles a promise into its value or its error', async () => {
    const error = new Error('no');
    await expect(settle(Promise.resolve(3))).resolves.toEqual({ ok: true, value: 3 });
    await expect(settle(Promise.reject(error))).resolves.toEqual({ ok: false, error });
  });

  it('settles a function that throws synchronously into its error', async () => {
    const error = new Error('sync');
    await expect(
      settle(() => {
        throw error;
      }),
    ).resolves.toEqual({ ok: false, error });
  });
});
