import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../lib/config';
import { type Synthesized, sharedSynth } from './helpers/synth';

let synth: Synthesized;

beforeAll(async () => {
  synth = await sharedSynth();
});

const plugin = (name: string) => synth.validationReport().pluginReports.find((p) => p.pluginName === name);
const findings = (
  violations: ReadonlyArray<{
    ruleName: string;
    violatingConstructs?: ReadonlyArray<{ constructPath: string }>;
  }>,
) =>
  violations.flatMap((v) => (v.violatingConstructs ?? []).map((c) => `${v.ruleName} at ${c.constructPath}`));

describe('validation of every environment', () => {
  it('leaves zero unacknowledged cdk-nag findings (cdk-nag reports only what is not acknowledged)', () => {
    expect(findings(plugin('AwsSolutions')?.violations ?? [])).toEqual([]);
  });

  it('ran the built-in CloudFormation Validate and it reports zero errors', () => {
    const cfn = plugin('CloudFormation Validate');
    expect(cfn?.conclusion).toBe('success');
    expect(
      findings((cfn?.violations ?? []).filter((v) => v.severity === 'error' || v.severity === 'fatal')),
    ).toEqual([]);
  });

  it('leaves no plugin failing (annotations such as missing availability-zone context included)', () => {
    const failing = synth
      .validationReport()
      .pluginReports.filter((p) => p.conclusion === 'failure')
      .map((p) => p.pluginName);
    expect(failing).toEqual([]);
  });

  it.each(ENVIRONMENT_NAMES)(
    'acknowledges cdk-nag rules in %s on specific resources only, each with a reason',
    (env) => {
      const acknowledged = synth.acknowledgements.filter(
        (a) => a.id.startsWith('Annotation::AwsSolutions-') && a.path.startsWith(`fa-ai-system-${env}-`),
      );
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const ack of acknowledged) {
        expect(ack.path, `${ack.id} is acknowledged on a whole stack`).toMatch(/^[^/]+\/.+/);
        expect(
          ack.reason.length,
          `${ack.id} at ${ack.path} needs a reason a reviewer accepts`,
        ).toBeGreaterThan(60);
      }
    },
  );

  it('would fail the synth on an unacknowledged finding (the checks are live, not decorative)', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Probe');
    new s3.Bucket(stack, 'Bucket', { enforceSSL: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});
