import { beforeAll, describe, expect, it } from 'vitest';
import { sharedSynth } from '../helpers/synth';
import { type Definition, type ProdMachines, prodMachines } from './harness';

let prod: ProdMachines;

beforeAll(async () => {
  prod = prodMachines(await sharedSynth());
});

/** Every intrinsic function call of a definition: the values of `*.$` keys that call States.*. */
function intrinsics(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) intrinsics(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const isPath = key.endsWith('.$') || key === 'CausePath' || key === 'ErrorPath';
      if (isPath && typeof v === 'string' && v.startsWith('States.')) out.push(v);
      else intrinsics(v, out);
    }
  }
  return out;
}

/**
 * The reserved characters `{ } ' \` left unescaped in the string literals of an intrinsic
 * call; `{}` is allowed as the placeholder of States.Format's template.
 */
function unescapedReserved(call: string): string[] {
  const found: string[] = [];
  let i = 0;
  while (i < call.length) {
    if (call[i] !== "'") {
      i++;
      continue;
    }
    const isFormatTemplate = call.slice(0, i).endsWith('States.Format(');
    let j = i + 1;
    for (; j < call.length && call[j] !== "'"; j++) {
      const c = call[j];
      if (c === '\\') j++;
      else if (isFormatTemplate && c === '{' && call[j + 1] === '}') j++;
      else if (c === '{' || c === '}') found.push(`${c} at ${j}`);
    }
    i = j + 1;
  }
  return found;
}

describe('intrinsic functions of the synthesized state machines', () => {
  it('finds the intrinsic calls of both machines', () => {
    expect(intrinsics(prod.batch).length).toBeGreaterThan(0);
    expect(intrinsics(prod.shift).length).toBeGreaterThan(0);
  });

  it.each(['batch', 'shift'] as const)(
    '%s escapes { } in every string literal of an intrinsic call',
    (name) => {
      const definition: Definition = prod[name];
      const offending = intrinsics(definition)
        .map((call) => ({ call, unescaped: unescapedReserved(call) }))
        .filter((c) => c.unescaped.length > 0);
      expect(offending).toEqual([]);
    },
  );

  it('flags the literal the shift defaults used to be', () => {
    expect(unescapedReserved(`States.StringToJson('{"steps":[10]}')`)).toEqual(['{ at 21', '} at 34']);
  });
});
