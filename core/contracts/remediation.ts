/** The remediation Lambda's configuration (lambdas/remediation, lib/constructs/remediation.ts). */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { ALARM_FACTS_VARIABLE, alarmFactsDocumentSchema } from '../alarms/facts';
import { automationVariable } from './automation';
import { COLOURS, topicArnsRule, wholeNumber } from './common';
import { defineContract, json, nonBlank, ssmParameterName, text, type ValuesOf } from './contract';

/** The automatic remediations. */
export const REMEDIATION_ACTIONS = ['force-new-deployment', 'scale-out'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** The bounds of the remediation settings; lib/config's `remediation` and `service` use them. */
export const REMEDIATION_RULES = {
  /** At most this many of an action per clock hour (UTC), across all alarms. */
  maxPerHour: wholeNumber(1, 20),
  /** Tasks added per scale-out. */
  step: wholeNumber(1, 10),
  /** A colour's largest task count (its auto scaling maximum): a scale-out never goes past it. */
  maxTaskCount: z.number().int('must be a whole number').min(1, 'must be at least 1'),
} as const;

const byColour = <T extends z.ZodType>(rule: T) =>
  z.strictObject(Object.fromEntries(COLOURS.map((c) => [c, rule])) as Record<(typeof COLOURS)[number], T>);

// Strict objects: a misspelt key (e.g. "dryrun") must fail loudly, not be dropped.
const settingsRule = z.strictObject({
  /** True: report what WOULD be done, change nothing. */
  dryRun: z.boolean(),
  actions: z.strictObject({
    'force-new-deployment': z.strictObject({
      enabled: z.boolean(),
      maxPerHour: REMEDIATION_RULES.maxPerHour,
    }),
    'scale-out': z.strictObject({
      enabled: z.boolean(),
      maxPerHour: REMEDIATION_RULES.maxPerHour,
      step: REMEDIATION_RULES.step,
    }),
  }),
});

/** The switches and limits of the remediations (the REMEDIATION variable). */
export type RemediationSettings = z.output<typeof settingsRule>;

export const remediationContract = defineContract('remediation', {
  /** e.g. 'prod'; shown in messages and audit items. */
  environment: text('ENVIRONMENT'),
  ecsCluster: text('ECS_CLUSTER'),
  /** Each colour's ECS service name. */
  services: json('SERVICES', byColour(nonBlank)),
  /** Each colour's largest task count. */
  maxCounts: json('MAX_COUNTS', byColour(REMEDIATION_RULES.maxTaskCount)),
  /** The SSM parameter "<blue>,<green>": the source of truth of the weights. */
  weightsParameter: text('WEIGHTS_PARAMETER', ssmParameterName),
  opsTableName: text('OPS_TABLE_NAME'),
  topicArns: json('TOPIC_ARNS', topicArnsRule),
  remediation: json('REMEDIATION', settingsRule),
  /**
   * Each alarm's severity and response, by its exact name, from the alarm catalogue
   * (core/alarms/facts.ts): names and descriptions are never parsed for them.
   */
  alarmFacts: json(ALARM_FACTS_VARIABLE, alarmFactsDocumentSchema),
  /** The pause, repeat guard and verification of its actions. */
  automation: automationVariable,
});

/** What the remediation Lambda acts on and whom it tells. */
export type RemediationValues = ValuesOf<typeof remediationContract>;
