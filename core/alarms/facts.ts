/**
 * The catalogue facts the automation acts on, as one environment variable (ALARM_FACTS): each
 * alarm's severity and automated response (and the colour a scale-out scales), by id, with the
 * environment's name prefix. The stack serializes it from the catalogue; the remediation and
 * traffic-rollback Lambdas parse it with the schema below and look an event's alarm up by its
 * exact name. An alarm they do not find is unknown: they do nothing and tell a human.
 *
 * Compact on purpose (tuples, not objects): a Lambda's variables share 4 KB, and this one lists
 * every alarm.
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

const severity = z.enum(SEVERITIES);

/** The JSON document of ALARM_FACTS: `{"namePrefix": "...", "alarms": {"<id>": [severity, response, colour?]}}`. */
export const alarmFactsDocumentSchema = z
  .strictObject({
    namePrefix: z.string().trim().min(1),
    alarms: z.record(
      z.string().min(1),
      z.union([
        z.tuple([severity, z.enum(ALARM_RESPONSES).exclude(['scale-out'])]),
        z.tuple([severity, z.literal('scale-out'), z.enum(COLOURS)]),
      ]),
    ),
  })
  .transform((doc): AlarmFacts => alarmFacts(doc.namePrefix, doc.alarms));

export type AlarmFactsDocument = z.input<typeof alarmFactsDocumentSchema>;

function alarmFacts(
  namePrefix: string,
  alarms: Readonly<Record<string, readonly [Severity, AlarmResponse, Colour?]>>,
): AlarmFacts {
  const all = Object.entries(alarms).map(([id, [severity, response, colour]]): AlarmFact => {
    const fact = { id, name: `${namePrefix}${id}`, severity, response };
    return colour === undefined ? fact : { ...fact, colour };
  });
  // A Map, not an object: an alarm named "...constructor" must not find a prototype member.
  const byName = new Map(all.map((fact) => [fact.name, fact]));
  return { namePrefix, all, byName: (alarmName) => byName.get(alarmName) };
}

/**
 * The ALARM_FACTS document of an environment whose alarms are named `<namePrefix><id>`, from
 * the catalogue's `entries` (the catalogue is passed in, not imported, so that the Lambdas
 * parsing the facts do not bundle it).
 */
export function alarmFactsDocument(
  namePrefix: string,
  entries: ReadonlyArray<readonly [string, AlarmEntry]>,
): AlarmFactsDocument {
  const alarms: AlarmFactsDocument['alarms'] = {};
  for (const [id, entry] of entries) {
    if (entry.response === 'scale-out') {
      if (entry.colour === undefined) throw new Error(`alarm ${id}: a scale-out needs the colour to scale`);
      alarms[id] = [entry.severity, 'scale-out', entry.colour];
    } else {
      alarms[id] = [entry.severity, entry.response];
    }
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
