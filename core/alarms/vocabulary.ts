/**
 * The words the alarm catalogue and its facts are written in: severities, automated responses,
 * colours. Apart from the catalogue so that a Lambda parsing the facts bundles only these.
 */

/** The runbook's severity levels; each has its own alert topic. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What the automation does when an alarm enters ALARM: nothing (it paged its severity), a new
 * deployment of the live colour (remediation), a scale-out of the alarm's colour when it is live
 * (remediation), or a rollback of a recent traffic shift (traffic-rollback).
 */
export const ALARM_RESPONSES = ['none', 'new-deployment', 'scale-out', 'traffic-rollback'] as const;
export type AlarmResponse = (typeof ALARM_RESPONSES)[number];

export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];
