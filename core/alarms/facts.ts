/**
 * The catalogue facts the automation acts on, as one environment variable (ALARM_FACTS): each
 * alarm's severity and automated response (and the colour a scale-out scales), by id, with the
 * environment's name prefix. The stack serializes it from the catalogue; the remediation and
 * traffic-rollback Lambdas parse it with the schema below and look an event's alarm up by its
 * exact name. An alarm they do not find is unknown: they do nothing and tell a human.
 *
 * Compact on purpose (ids grouped by their facts): a Lambda's variables share 4 KB, and this one
 * lists every alarm.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import type { AlarmEntry } from './catalogue';
import {
  ALARM_RESPONSES,
  type AlarmResponse,
  COLOURS,
  type Colour,
  SEVERITIES,
  type Severity,
} from './vocabulary';

/** The environment variable that carries the facts. */
export const ALARM_FACTS_VARIABLE = 'ALARM_FACTS';

/**
 * What the automation does with an alarm it does not know (named with the environment's prefix,
 * missing from the facts): nothing, and it tells this severity's topic, in doubt paging.
 */
export const UNKNOWN_ALARM_SEVERITY: Severity = 'P1';

/** What the automation knows of one alarm. */
export interface AlarmFact {
  readonly id: string;
  /** `<namePrefix><id>`: what its state-change events carry. */
  readonly name: string;
  readonly severity: Severity;
  readonly response: AlarmResponse;
  /** Set for a scale-out: the colour to scale (when it is the live one). */
  readonly colour?: Colour;
}

/** The parsed facts: an exact lookup by alarm name. */
export interface AlarmFacts {
  /** The environment's alarm name prefix, e.g. fa-ai-system-prod-. */
  readonly namePrefix: string;
  /** The alarm named exactly `alarmName`; undefined when the catalogue has none. */
  byName(alarmName: string): AlarmFact | undefined;
  readonly all: readonly AlarmFact[];
}

/** A group's key: `<severity> <response>`, and the colour after a scale-out. */
function groupKey(severity: Severity, response: AlarmResponse, colour?: Colour): string {
  return colour === undefined ? `${severity} ${response}` : `${severity} ${response} ${colour}`;
}

/** What a group key says, or undefined when it is not one the automation can act on. */
function parseGroupKey(key: string): readonly [Severity, AlarmResponse, Colour?] | undefined {
  const [severity, response, colour, ...rest] = key.split(' ');
  const known = <T extends string>(values: readonly T[], v: string | undefined): v is T =>
    v !== undefined && (values as readonly string[]).includes(v);
  if (rest.length > 0 || !known(SEVERITIES, severity) || !known(ALARM_RESPONSES, response)) return undefined;
  if (response === 'scale-out') return known(COLOURS, colour) ? [severity, response, colour] : undefined;
  return colour === undefined ? [severity, response] : undefined;
}

/**
 * The JSON document of ALARM_FACTS: `{"namePrefix": "...", "alarms": {"<severity> <response>[
 * <colour>]": ["<id>", ...]}}`, the ids grouped by what they share: a Lambda's variables share
 * 4 KB, and a tuple per alarm repeated the same few facts fifty times.
 */
export const alarmFactsDocumentSchema = z
  .strictObject({
    namePrefix: z.string().trim().min(1),
    alarms: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    for (const [key, ids] of Object.entries(doc.alarms)) {
      if (parseGroupKey(key) === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['alarms', key],
          message: 'must be "<P0-P3> <response>", with the colour after scale-out',
        });
      }
      for (const id of ids) {
        if (seen.has(id))
          ctx.addIssue({ code: 'custom', path: ['alarms', key], message: `alarm ${id} is listed twice` });
        seen.add(id);
      }
    }
  })
  .transform((doc): AlarmFacts => {
    const all = Object.entries(doc.alarms).flatMap(([key, ids]) => {
      const [severity, response, colour] = parseGroupKey(key) as readonly [Severity, AlarmResponse, Colour?];
      return ids.map((id): AlarmFact => {
        const fact = { id, name: `${doc.namePrefix}${id}`, severity, response };
        return colour === undefined ? fact : { ...fact, colour };
      });
    });
    // A Map, not an object: an alarm named "...constructor" must not find a prototype member.
    const byName = new Map(all.map((fact) => [fact.name, fact]));
    return { namePrefix: doc.namePrefix, all, byName: (alarmName) => byName.get(alarmName) };
  });

export type AlarmFactsDocument = z.input<typeof alarmFactsDocumentSchema>;

/**
 * The ALARM_FACTS document of an environment whose alarms are named `<namePrefix><id>`, from
 * the catalogue's `entries` (the catalogue is passed in, not imported, so that the Lambdas
 * parsing the facts do not bundle it).
 */
export function alarmFactsDocument(
  namePrefix: string,
  entries: ReadonlyArray<readonly [string, AlarmEntry]>,
): AlarmFactsDocument {
  const alarms: Record<string, string[]> = {};
  for (const [id, entry] of entries) {
    if (entry.response === 'scale-out' && entry.colour === undefined) {
      throw new Error(`alarm ${id}: a scale-out needs the colour to scale`);
    }
    const key = groupKey(
      entry.severity,
      entry.response,
      entry.response === 'scale-out' ? entry.colour : undefined,
    );
    alarms[key] = [...(alarms[key] ?? []), id];
  }
  return { namePrefix, alarms };
}

/** The value of ALARM_FACTS. */
export function serializeAlarmFacts(
  namePrefix: string,
  entries: ReadonlyArray<readonly [string, AlarmEntry]>,
): string {
  return JSON.stringify(alarmFactsDocument(namePrefix, entries));
}
