/**
 * Runs a handler's tests against the bundle the synth deploys or against its TypeScript source.
 * The bundle's classes are not the source's, so errors are compared by what the deployed code
 * shows the world: their name and the names of their class chain.
 */
import { beforeAll, describe, expect } from 'vitest';
import type { HandlerName } from '../fault-matrix/matrix';
import { requireBundle } from './bundles';

export const TARGETS = ['source', 'bundle'] as const;
export type Target = (typeof TARGETS)[number];

/**
 * The targets that run: the bundle, which is what deploys; running the source as well doubled
 * the database cells' cost for nothing the bundle does not show (the handlers' own tests in
 * test/lambdas run the source). FAULT_MATRIX_TARGETS=source (or source,bundle) runs the
 * source, whose stack traces are readable, when debugging a cell.
 */
export function selectedTargets(value = process.env.FAULT_MATRIX_TARGETS ?? 'bundle'): Target[] {
  const names = value.split(',').map((t) => t.trim());
  const unknown = names.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) {
    throw new Error(`FAULT_MATRIX_TARGETS: unknown ${unknown.join(', ')} (expected ${TARGETS.join(', ')})`);
  }
  return names as Target[];
}

/** The target whose tests are running (files run their tests one at a time). */
let running: Target = 'source';

/** A handler module under test, switched per target by the `describe` it registers. */
export interface UnderTest<M> {
  /** The module of the target whose tests are running. */
  readonly module: M;
  /** `describe(title, body)` once per selected target, the module switched in a `beforeAll`. */
  describe(title: string, body: () => void): void;
}

export function underTest<M>(name: HandlerName, source: M): UnderTest<M> {
  let module = source;
  return {
    get module() {
      return module;
    },
    describe(title, body) {
      for (const target of selectedTargets()) {
        describe(`${title} (${target})`, () => {
          beforeAll(() => {
            module = target === 'source' ? source : requireBundle<M>(name);
            running = target;
          });
          body();
        });
      }
    },
  };
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The names of `prototype`'s classes, from its own up to Error. */
function classChain(prototype: object | null): string[] {
  const names: string[] = [];
  for (let p = prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    names.push((p as { constructor: { name: string } }).constructor.name);
  }
  return names;
}

expect.extend({
  /**
   * `received` is an instance of `expected` as the world sees it: its `name` is its own class's
   * name, and `expected`'s class chain (InvalidInputError < AutomationError < Error) is the
   * tail of its own (InvalidWeightsError < InvalidInputError < ...). Against the source it must
   * also be an instance of `expected`.
   */
  toBeErrorOf(received: unknown, expected: ErrorClass) {
    const chain = received instanceof Error ? classChain(Object.getPrototypeOf(received)) : [];
    const want = classChain(expected.prototype);
    const name = received instanceof Error ? received.name : undefined;
    const pass =
      name === chain[0] &&
      this.equals(chain.slice(chain.length - want.length), want) &&
      (running === 'bundle' || received instanceof expected);
    return {
      pass,
      message: () =>
        `expected ${this.utils.printReceived(received)} (name ${String(name)}, classes ${chain.join(' < ')})` +
        ` ${this.isNot ? 'not ' : ''}to be a ${expected.name} (classes ${want.join(' < ')}) of the ${running}`,
    };
  },
});

interface ErrorMatchers<R = unknown> {
  /** `received` is an error of class `expected` by name and class chain (test/bundles/under-test.ts). */
  toBeErrorOf(expected: ErrorClass): R;
}

declare module 'vitest' {
  interface Matchers<T = any> extends ErrorMatchers<T> {}
}
