/**
 * Discovery: everything the ops CLI acts on comes from one output of the service stack,
 * `OpsManifest` (a JSON document the CDK app emits), read with one DescribeStacks call.
 */

import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
// A namespace import, as everywhere else in the repository.
import * as z from 'zod';
import { budgetGuardContract } from '../../core/contracts/budget-guard';
import { topicArnsRule } from '../../core/contracts/common';
import { healthThresholdsRule } from '../../core/contracts/health-check';
import { SPEND_BUDGETS } from '../../core/spend/budgets';
import type { TrafficConfig } from '../../core/traffic';
import { OpsError } from './errors';

/** The stack output holding the manifest. */
export const MANIFEST_OUTPUT_KEY = 'OpsManifest';

/**
 * A second output with the manifest's `database` and `backup` sections (`ops db`, `ops backup`):
 * the first stays under 4 KB, and the same DescribeStacks returns both.
 */
export const DATABASE_MANIFEST_OUTPUT_KEY = 'OpsManifestDatabase';

const name = z.string().min(1);
const arn = z.string().startsWith('arn:', 'must be an ARN');
const percent = z.number().int().min(0).max(100);

const manifestSchema = z.object({
  environment: name,
  region: name,
  clusterName: name,
  services: z.object({ blue: name, green: name }),
  listenerArn: arn,
  loadBalancerFullName: z.string().regex(/^app\/[^/]+\/[^/]+$/, 'must be app/<name>/<id>'),
  targetGroups: z.object({
    blue: z.object({ arn, fullName: z.string().regex(/^targetgroup\/[^/]+\/[^/]+$/) }),
    green: z.object({ arn, fullName: z.string().regex(/^targetgroup\/[^/]+\/[^/]+$/) }),
  }),
  weightsParameter: z.string().startsWith('/'),
  configuredWeights: z.object({ blue: percent, green: percent }),
  opsTable: name,
  shiftStateMachineArn: arn,
  alarms: z.object({ p0: name, blue: z.array(name), green: z.array(name) }),
  topics: topicArnsRule,
  batch: z.object({
    stateMachineArn: arn,
    scheduleName: name,
    scheduleGroup: name,
    scheduleStateParameter: z.string().startsWith('/'),
    taskFamily: name,
    killSwitchBudgetName: name,
    killThresholdPercent: budgetGuardContract.fields.killThresholdPercent.value,
  }),
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  /** The health check Lambda's thresholds (its contract's values), so that `health` applies the very same. */
  healthThresholds: healthThresholdsRule,
  /**
   * Optional (older stacks lack it): how the spend guard reads the spend, so that `batch enable`
   * refuses by the very numbers the guard acts on.
   */
  spend: z
    .object({
      budgets: z.array(
        z.object({
          id: z.enum(SPEND_BUDGETS),
          limitUsd: z.number().positive(),
          awsBudgetName: name,
        }),
      ),
      killSwitchPercent: z.number().positive(),
      maxCallCostUsd: z.number().positive(),
      awsSettleHours: z.number().nonnegative(),
    })
    .optional(),
  /**
   * `db` and `backup` (from the DATABASE_MANIFEST_OUTPUT_KEY output): optional, so that a stack
   * deployed before them still serves the rest.
   */
  database: z
    .object({ instanceIdentifier: name, inspectFunction: name, maintenanceFunction: name })
    .optional(),
  backup: z
    .object({
      bucket: name,
      prefix: z.string().regex(/^[a-z]+\/$/, 'must be a folder such as db/'),
      keyArn: arn,
      taskFamily: name,
      containers: z.object({ dump: name, upload: name }),
      subnets: z.array(name).min(1),
      securityGroup: name,
      logGroup: name,
    })
    .optional(),
  /**
   * Optional (stacks deployed before `ops diagnose`): what diagnose reads besides the above,
   * the log groups, the alarms' prefix, the database and the cache with the thresholds of their
   * alarms. The alarms' severities are the catalogue's (core/alarms), which the CLI imports.
   */
  diagnose: z
    .object({
      logGroups: z.object({ blue: name, green: name }),
      alarmPrefix: name,
      database: z.object({
        instanceId: name,
        maxConnections: z.number().int().positive(),
        connectionsThreshold: z.number().int().positive(),
      }),
      cache: z.object({ replicationGroupId: name, memoryMaxPercent: z.number().positive().max(100) }),
    })
    .optional(),
});

/** The service stack's `OpsManifest` output. */
export type OpsManifest = z.infer<typeof manifestSchema>;

/** The service stack of an environment. */
export function serviceStackName(environment: string): string {
  return `fa-ai-system-${environment}-service`;
}

/** The stack does not exist in the region. */
export class StackNotDeployedError extends OpsError {}

/** The stack has no valid manifest (deployed by an older version). */
export class ManifestError extends OpsError {}

/**
 * Reads and validates the manifest of `environment`'s service stack in the client's region.
 * StackNotDeployedError / ManifestError with a message saying what to do.
 */
export async function loadManifest(
  cloudformation: CloudFormationClient,
  environment: string,
  region: string,
): Promise<OpsManifest> {
  const stackName = serviceStackName(environment);
  let outputs: Array<{ OutputKey?: string; OutputValue?: string }>;
  try {
    const result = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = result.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    const e = error as { name?: unknown; message?: unknown };
    if (e.name === 'ValidationError' && typeof e.message === 'string' && /does not exist/.test(e.message)) {
      throw new StackNotDeployedError(
        `${stackName} is not deployed in ${region} (deploy it, or pass the right --region)`,
        { cause: error },
      );
    }
    throw error;
  }
  const output = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  return parseManifest(
    output(MANIFEST_OUTPUT_KEY),
    stackName,
    environment,
    output(DATABASE_MANIFEST_OUTPUT_KEY),
  );
}

/** The manifest in `text`; ManifestError saying what is wrong and to redeploy otherwise. */
export function parseManifest(
  text: string | undefined,
  stackName: string,
  environment: string,
  /** The DATABASE_MANIFEST_OUTPUT_KEY output, absent on a stack deployed before it. */
  databaseText?: string,
): OpsManifest {
  if (text === undefined) {
    throw new ManifestError(
      `Stack ${stackName} has no ${MANIFEST_OUTPUT_KEY} output: it was deployed by an older version; redeploy it`,
    );
  }
  let json = outputJson(text, stackName, MANIFEST_OUTPUT_KEY);
  if (databaseText !== undefined) {
    const sections = outputJson(databaseText, stackName, DATABASE_MANIFEST_OUTPUT_KEY);
    if (typeof json === 'object' && json !== null && typeof sections === 'object' && sections !== null) {
      json = { ...json, ...sections };
    }
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new ManifestError(
      `Stack ${stackName} has an invalid ${MANIFEST_OUTPUT_KEY} output (${issues}): redeploy it`,
    );
  }
  if (parsed.data.environment !== environment) {
    throw new ManifestError(
      `Stack ${stackName}'s ${MANIFEST_OUTPUT_KEY} is for environment '${parsed.data.environment}', not '${environment}'`,
    );
  }
  return parsed.data;
}

/** The JSON of one of the stack's outputs; ManifestError (redeploy) when it is not JSON. */
function outputJson(text: string, stackName: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ManifestError(`Stack ${stackName} has an invalid ${key} output (not JSON): redeploy it`);
  }
}

/** A section of the manifest that `command` needs; ManifestError (redeploy) when the stack predates it. */
export function manifestSection<K extends 'database' | 'backup'>(
  manifest: OpsManifest,
  key: K,
  command: string,
): NonNullable<OpsManifest[K]> {
  const section = manifest[key];
  if (section === undefined) {
    throw new ManifestError(
      `${command} needs the ${key} section of the ${DATABASE_MANIFEST_OUTPUT_KEY} output, which ` +
        `${serviceStackName(manifest.environment)} was deployed without: redeploy it`,
    );
  }
  return section as NonNullable<OpsManifest[K]>;
}

/** The traffic functions' configuration of the manifest. */
export function trafficConfigOf(manifest: OpsManifest): TrafficConfig {
  return {
    environment: manifest.environment,
    listenerArn: manifest.listenerArn,
    targetGroups: { blue: manifest.targetGroups.blue.arn, green: manifest.targetGroups.green.arn },
    weightsParameter: manifest.weightsParameter,
    opsTable: manifest.opsTable,
    shiftStateMachineArn: manifest.shiftStateMachineArn,
    alertTopicArn: manifest.topics.P1,
  };
}
