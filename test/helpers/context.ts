import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Gives every App in this process cdk.json's context (feature flags, availability zones),
 * as `cdk synth` does, and skips asset bundling: one real synth in CI proves bundling.
 */
export function applyTestContext(): void {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  process.env.CDK_CONTEXT_JSON = JSON.stringify({
    ...cdkJson.context,
    'aws:cdk:bundling-stacks': [],
    'aws:cdk:disable-stack-trace': true,
  });
}
