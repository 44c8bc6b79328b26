import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../core/contracts';
import { ENVIRONMENT_NAMES } from '../../lib/config';
import { baseEnvironment } from '../../lib/constructs/app-function';
import { PROJECT_ROOT } from '../../lib/lambda-bundling';
import { sharedSynth } from '../helpers/synth';
import { type DeployedFunction, everyDeployedFunction } from './deployed-env';

// Every Lambda function of every synthesized environment, its environment resolved as deployed,
// goes through its handler's parser: the contract the construct serialized it with. A function
// of ours without a contract, or one that is neither ours nor CDK's, fails here.

/**
 * Functions CDK itself adds to the templates, by logical id (the construct path's, plus CDK's
 * hash): not ours, no environment of ours. Anything else without a contract fails.
 */
const CDK_PROVIDED: ReadonlyArray<{ readonly logicalId: RegExp; readonly what: string }> = [
  {
    logicalId: /^CustomS3AutoDeleteObjectsCustomResourceProviderHandler[0-9A-F]{8}$/,
    what: "CDK's provider of autoDeleteObjects (the buckets of environments that do not retain data)",
  },
  {
    logicalId: /^CustomVpcRestrictDefaultSGCustomResourceProviderHandler[0-9A-F]{8}$/,
    what: "CDK's provider of restrictDefaultSecurityGroup (the VPC)",
  },
  {
    logicalId: /^AWS679f53fac002430cb0da5b7982bd2287[0-9A-F]{8}$/,
    what: "CDK's AwsCustomResource singleton (seeded SSM parameters, the services' initial task counts)",
  },
  {
    logicalId: /^DatabaseMigrationsProviderframeworkonEvent[0-9A-F]{8}$/,
    what: "CDK's Provider framework of the schema migrations' custom resource",
  },
];

/** The Lambda folders (lambdas/<name>/handler.ts). */
const LAMBDA_FOLDERS = readdirSync(join(PROJECT_ROOT, 'lambdas'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'shared')
  .map((d) => d.name)
  .sort();

let functions: DeployedFunction[];

beforeAll(async () => {
  functions = everyDeployedFunction(await sharedSynth());
});

/** Ours: AppFunction names the folder in POWERTOOLS_SERVICE_NAME. */
const functionName = (f: DeployedFunction) => f.env.POWERTOOLS_SERVICE_NAME;

describe('the function contracts', () => {
  it('cover every Lambda folder, and no other', () => {
    expect(Object.keys(CONTRACTS).sort()).toEqual(LAMBDA_FOLDERS);
  });

  it('leave no synthesized function without a contract: each is ours with one, or CDK’s own', () => {
    const problems = functions.flatMap((f) => {
      const name = functionName(f);
      if (name !== undefined) {
        return CONTRACTS[name]
          ? []
          : [`${f.stackName} ${f.logicalId}: lambdas/${name} has no contract in core/contracts/index.ts`];
      }
      return CDK_PROVIDED.some((c) => c.logicalId.test(f.logicalId))
        ? []
        : [
            `${f.stackName} ${f.logicalId}: neither an AppFunction with a contract nor a known CDK-provided function`,
          ];
    });
    expect(problems).toEqual([]);
  });

  it('list every CDK-provided function that is still synthesized', () => {
    const unused = CDK_PROVIDED.filter((c) => !functions.some((f) => c.logicalId.test(f.logicalId))).map(
      (c) => c.what,
    );
    expect(unused).toEqual([]);
  });
});

describe.each(ENVIRONMENT_NAMES)('%s: every function', (envName) => {
  const deployed = (name: string) => {
    const found = functions.filter((f) => f.envName === envName && functionName(f) === name);
    expect(found.map((f) => f.logicalId)).toHaveLength(1);
    return found[0] as DeployedFunction;
  };

  it.each(Object.keys(CONTRACTS).sort())(
    "%s: its deployed environment parses with its handler's contract",
    (name) => {
      const contract = CONTRACTS[name];
      expect(() => contract?.parse(deployed(name).env)).not.toThrow();
    },
  );

  it.each(Object.keys(CONTRACTS).sort())('%s: gets no variable its contract does not define', (name) => {
    const known = new Set([...(CONTRACTS[name]?.variables ?? []), ...Object.keys(baseEnvironment(name))]);
    expect(Object.keys(deployed(name).env).filter((v) => !known.has(v))).toEqual([]);
  });
});
