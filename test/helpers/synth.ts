import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addEnvironment } from '../../lib/app';
import {
  ENVIRONMENT_NAMES,
  type EnvironmentConfig,
  type EnvironmentName,
  loadEnvironmentConfig,
} from '../../lib/config';
import { stackName } from '../../lib/naming';

export type Tier = 'stateful' | 'service';

/** The validation report a synth writes (cdk-nag, CloudFormation Validate, annotations). */
export interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly conclusion?: string;
    readonly violations: ReadonlyArray<Violation>;
    readonly suppressedViolations?: ReadonlyArray<Violation & { readonly reason?: string }>;
  }>;
}
interface Violation {
  readonly ruleName: string;
  readonly severity?: string;
  readonly description?: string;
  readonly violatingConstructs?: ReadonlyArray<{ readonly constructPath: string }>;
}

/** A rule acknowledged on a construct with `Validations.of(c).acknowledge()`. */
export interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgement in the construct tree (the assembly does not record them). */
export function collectAcknowledgements(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

/** A synthesized cloud assembly of this app, read without synthesizing again. */
export class Synthesized {
  private readonly templates = new Map<string, Template>();

  constructor(
    readonly assembly: CloudAssembly,
    readonly acknowledgements: readonly Acknowledgement[],
  ) {}

  templateJson(envName: EnvironmentName, tier: Tier): Record<string, any> {
    return this.assembly.getStackByName(stackName(envName, tier)).template;
  }

  template(envName: EnvironmentName, tier: Tier): Template {
    const key = stackName(envName, tier);
    let template = this.templates.get(key);
    if (!template) {
      template = Template.fromJSON(this.templateJson(envName, tier));
      this.templates.set(key, template);
    }
    return template;
  }

  validationReport(): ValidationReport {
    try {
      return JSON.parse(readFileSync(join(this.assembly.directory, 'validation-report.json'), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pluginReports: [] };
      throw error;
    }
  }
}

/**
 * Synthesizes an app as `cdk synth` builds it (cdk-nag attached) into a temp directory.
 * Tests of a config variant pass their own configs, and may leave out CloudFormation
 * Validate: its rule engine costs seconds per synth, and the suite's shared synth runs it
 * over every environment already.
 */
export function synthesizeApp(
  configs: readonly EnvironmentConfig[] = ENVIRONMENT_NAMES.map((name) => loadEnvironmentConfig(name)),
  options: { readonly cloudFormationValidate?: boolean; readonly outdir?: string } = {},
): Synthesized {
  const app = new App({
    outdir: options.outdir ?? mkdtempSync(join(tmpdir(), 'fa-ai-cdk-')),
    builtinCloudFormationValidation: options.cloudFormationValidate ?? true,
  });
  for (const config of configs) addEnvironment(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return new Synthesized(assembly, collectAcknowledgements(app));
}

let shared: Promise<Synthesized> | undefined;

/** How long a test file waits for the shared synth (the hook timeout is 120 s). */
const SHARED_SYNTH_WAIT_MS = 110_000;

async function waitForSharedSynth(): Promise<Synthesized> {
  // Imported here: the synth process loads this module too, outside vitest.
  const { inject } = await import('vitest');
  const dir = inject('sharedSynthDir');
  const deadline = Date.now() + SHARED_SYNTH_WAIT_MS;
  for (;;) {
    if (existsSync(join(dir, 'result.json'))) {
      const { acknowledgements } = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
      return new Synthesized(new CloudAssembly(join(dir, 'assembly')), acknowledgements);
    }
    if (existsSync(join(dir, 'failed.json'))) {
      const { message } = JSON.parse(readFileSync(join(dir, 'failed.json'), 'utf8'));
      throw new Error(`the shared synth failed (its stack is in the output above): ${message}`);
    }
    if (existsSync(join(dir, 'exit.json'))) {
      throw new Error(`the shared synth process died: ${readFileSync(join(dir, 'exit.json'), 'utf8')}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`the shared synth did not finish within ${SHARED_SYNTH_WAIT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The suite's one synth of every environment, made in the background by
 * test/global-setup.ts; test files await it in beforeAll.
 */
export function sharedSynth(): Promise<Synthesized> {
  shared ??= waitForSharedSynth();
  return shared;
}

/** A template with asset hashes replaced, for comparing templates across synths. */
export function withoutAssetHashes(template: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset-hash>$1'));
}
