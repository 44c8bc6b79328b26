import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../lib/config';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;

beforeAll(async () => {
  synth = await sharedSynth();
});

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;
const resourcesOf = (env: string, tier: 'stateful' | 'service') =>
  synth.templateJson(env as never, tier).Resources as Resources;

function adminKeySecrets(env: string) {
  return Object.entries(resourcesOf(env, 'stateful')).filter(
    ([, r]) => r.Type === 'AWS::SecretsManager::Secret' && /admin-key$/.test(String(r.Properties?.Name)),
  );
}

function reconcileFunction(env: string) {
  const found = Object.entries(resourcesOf(env, 'service')).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'spend-reconcile',
  );
  if (!found) throw new Error(`no spend-reconcile function in ${env}`);
  return { id: found[0], props: found[1].Properties as Record<string, any> };
}

/** Every statement of the service stack's policies, with the policy's roles. */
function statements(env: string) {
  return Object.values(resourcesOf(env, 'service'))
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) =>
      ((r.Properties?.PolicyDocument.Statement ?? []) as any[]).map((s) => ({
        ...s,
        roles: JSON.stringify(r.Properties?.Roles),
      })),
    );
}

describe.each(ENVIRONMENT_NAMES)('the spend reconciliation of %s', (env) => {
  it('has one admin key secret per provider in the stateful stack, without a value in the template', () => {
    const secrets = adminKeySecrets(env);
    expect(secrets.map(([, r]) => r.Properties?.Name).sort()).toEqual([
      `fa-ai-system/${env}/anthropic-admin-key`,
      `fa-ai-system/${env}/openai-admin-key`,
    ]);
    for (const [, r] of secrets) {
      expect(r.Properties?.SecretString).toBeUndefined();
      // Secrets Manager generates a placeholder at creation; the template carries none.
      expect(r.Properties?.GenerateSecretString).toEqual({});
      expect(r.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] });
    }
  });

  it('holds no key material anywhere in its templates', () => {
    const text = JSON.stringify([synth.templateJson(env, 'stateful'), synth.templateJson(env, 'service')]);
    expect(text).not.toMatch(/sk-(ant-)?admin[-A-Za-z0-9_]{6,}/);
    expect(text).not.toMatch(/sk-(ant-api|proj)[-A-Za-z0-9_]{6,}/);
  });

  it('runs the function outside the VPC: it reaches the providers without a NAT', () => {
    const { props } = reconcileFunction(env);
    expect(props.VpcConfig).toBeUndefined();
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Timeout).toBe(120);
  });

  it('gives the function its thresholds from config', () => {
    const vars = reconcileFunction(env).props.Environment.Variables;
    expect(vars).toMatchObject({
      ENVIRONMENT: env,
      MAX_DISCREPANCY_PERCENT: '5',
      MIN_DISCREPANCY_USD: '1',
      SETTLE_HOURS: '6',
      ANTHROPIC_WORKSPACE_IDS: '[]',
      OPENAI_PROJECT_IDS: '[]',
    });
  });

  it('runs daily at 06:00 in the time zone, with the scheduled time as its input', () => {
    const { id } = reconcileFunction(env);
    const schedules = Object.values(resourcesOf(env, 'service')).filter(
      (r) =>
        r.Type === 'AWS::Scheduler::Schedule' && JSON.stringify(r.Properties?.Target.Arn).includes(`"${id}"`),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'America/New_York',
      State: 'ENABLED',
      Target: {
        Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 21_600, MaximumRetryAttempts: 2 },
      },
    });
  });

  it('lets the function read the two admin keys, through Secrets Manager only, and CloudWatch metrics', () => {
    const role = JSON.stringify({ Ref: reconcileFunction(env).props.Role['Fn::GetAtt'][0] });
    const mine = statements(env).filter((s) => s.roles.includes(role));
    const actions = mine.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual([
      'cloudwatch:GetMetricData',
      'kms:Decrypt',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const secretRead = mine.find((s) => s.Action === 'secretsmanager:GetSecretValue');
    expect(JSON.stringify(secretRead.Resource)).toMatch(
      /ProviderAdminKeysAnthropic.*ProviderAdminKeysOpenAi/,
    );
    expect(JSON.stringify(secretRead.Resource)).not.toMatch(/ApiKeys|Database|CacheAuthToken/);
    const decrypt = mine.find((s) => s.Action === 'kms:Decrypt');
    expect(decrypt.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
    });
  });

  it('lets no other role of the service stack read an admin key', () => {
    const role = JSON.stringify({ Ref: reconcileFunction(env).props.Role['Fn::GetAtt'][0] });
    const readers = statements(env).filter(
      (s) => JSON.stringify(s.Resource ?? '').includes('ProviderAdminKeys') && !s.roles.includes(role),
    );
    expect(readers).toEqual([]);
  });
});
