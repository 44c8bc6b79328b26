/**
 * The OpsManifest output as CloudFormation resolves it, read by the ops CLI's own parser: what
 * the CLI finds after a deploy, not the template's text.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, type EnvironmentName, loadEnvironmentConfig } from '../../lib/config';
import {
  DATABASE_MANIFEST_OUTPUT_KEY,
  MANIFEST_OUTPUT_KEY,
  type OpsManifest,
  parseManifest,
  serviceStackName,
} from '../../lib/ops/manifest';
import { sharedSynth } from '../helpers/synth';
import { deploymentOf, FAKE_ACCOUNT } from '../iam/deployment';

const manifests = new Map<EnvironmentName, { text: string; databaseText: string; manifest: OpsManifest }>();

beforeAll(async () => {
  const synth = await sharedSynth();
  for (const envName of ENVIRONMENT_NAMES) {
    const config = loadEnvironmentConfig(envName);
    const deployment = deploymentOf(
      envName,
      (tier) => synth.templateJson(envName, tier) as never,
      config.account ?? FAKE_ACCOUNT,
      config.region,
    );
    const stack = serviceStackName(envName);
    const outputs = deployment.templates[stack]?.Outputs ?? {};
    const text = String(deployment.resolver.resolve(stack, outputs[MANIFEST_OUTPUT_KEY]?.Value));
    const databaseText = String(
      deployment.resolver.resolve(stack, outputs[DATABASE_MANIFEST_OUTPUT_KEY]?.Value),
    );
    manifests.set(envName, {
      text,
      databaseText,
      manifest: parseManifest(text, stack, envName, databaseText),
    });
  }
});

const of = (envName: EnvironmentName) =>
  manifests.get(envName) as { text: string; databaseText: string; manifest: OpsManifest };

describe.each(ENVIRONMENT_NAMES)('the OpsManifest of %s', (envName) => {
  const suffix = envName === 'prod' ? '' : `-${envName}`;

  it('names the log groups, database and cache that ops diagnose reads', () => {
    expect(of(envName).manifest.diagnose).toMatchObject({
      logGroups: { blue: `/ecs/fa-ai-system-blue${suffix}`, green: `/ecs/fa-ai-system-green${suffix}` },
      alarmPrefix: `fa-ai-system-${envName}-`,
      database: { instanceId: `fa-ai-system-db${suffix}` },
      cache: { replicationGroupId: expect.stringMatching(/^fa-ai-system-cache/) },
    });
  });

  it("carries the alarms' thresholds and severities from config and the alarm catalogue", () => {
    const config = loadEnvironmentConfig(envName);
    const diagnose = of(envName).manifest.diagnose;
    const max = diagnose?.database.maxConnections ?? 0;
    expect(diagnose?.database.connectionsThreshold).toBe(
      Math.floor((max * config.observability.dbConnectionsMaxPercent) / 100),
    );
    expect(diagnose?.cache.memoryMaxPercent).toBe(config.observability.cacheMemoryMaxPercent);
  });

  it('names the instance, the inspection and maintenance Lambdas, and the dump task that ops db and ops backup use', () => {
    const config = loadEnvironmentConfig(envName);
    const { database, backup } = of(envName).manifest;
    expect(database).toEqual({
      instanceIdentifier: `fa-ai-system-db${suffix}`,
      inspectFunction: expect.any(String),
      maintenanceFunction: expect.any(String),
    });
    expect(database?.inspectFunction).not.toBe(database?.maintenanceFunction);
    expect(backup).toEqual({
      bucket: `fa-ai-backups-${envName}-${config.account ?? FAKE_ACCOUNT}-${config.region}`,
      prefix: 'db/',
      keyArn: expect.stringMatching(/^arn:aws:kms:/),
      taskFamily: `fa-ai-system-db-backup${suffix}`,
      containers: { dump: 'pg-dump', upload: 'upload' },
      subnets: expect.any(Array),
      securityGroup: expect.any(String),
      logGroup: `/ecs/fa-ai-system-db-backup${suffix}`,
    });
    // One private subnet with egress per zone: the task pulls public images through the NAT.
    expect(backup?.subnets).toHaveLength(config.network.maxAzs);
  });

  // No documented limit on an output's value was found; 4 KB (CloudFormation's limit on a
  // parameter value and on a custom resource's response) is kept as the margin.
  it('stays a small output (resolved JSON under 4 KB)', () => {
    expect(of(envName).text.length).toBeLessThan(4096);
    expect(of(envName).databaseText.length).toBeLessThan(4096);
  });
});
