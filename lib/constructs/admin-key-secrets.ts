import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LLM_PROVIDERS, type LlmProvider } from '../../core/spend/metric';
import type { ResourceGrant } from './calls';

/** Properties of {@link AdminKeySecrets}. */
export interface AdminKeySecretsProps {
  /** Prefix of the secret names, e.g. fa-ai-system/prod. */
  readonly namePrefix: string;
  readonly encryptionKey: kms.IKey;
  readonly retainData: boolean;
}

const PROVIDER_NAMES: Readonly<Record<LlmProvider, string>> = { anthropic: 'Anthropic', openai: 'OpenAI' };
const KEY_KINDS: Readonly<Record<LlmProvider, string>> = {
  anthropic: 'an Admin API key (sk-ant-admin...) from Console > Settings > Admin keys',
  openai: 'an admin key (sk-admin-...) from the organization settings',
};

/**
 * The providers' ADMIN keys, which read the organization's cost reports for the daily
 * reconciliation (SpendReconciliation). Not the application's API keys (ApiKeySecrets): an admin
 * key administers the whole organization, so only the reconciliation Lambda may read these.
 *
 * The template holds no key material: each secret is created with a value Secrets Manager
 * generates (CDK's default, never in the template), which the reconciliation refuses as "not
 * an admin key" until an operator puts the real one:
 * `aws secretsmanager put-secret-value --secret-id fa-ai-system/<env>/anthropic-admin-key --secret-string sk-ant-admin...`.
 * In the stateful stack, so that recreating the service stack never loses a key.
 */
export class AdminKeySecrets extends Construct {
  public readonly secrets: Readonly<Record<LlmProvider, secretsmanager.Secret>>;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AdminKeySecretsProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const make = (provider: LlmProvider, constructId: string) => {
      const name = PROVIDER_NAMES[provider];
      const secret = new secretsmanager.Secret(this, constructId, {
        secretName: `${props.namePrefix}/${provider}-admin-key`,
        description:
          `${name} ADMIN key for the daily cost reconciliation of the FA AI System: ${KEY_KINDS[provider]}. ` +
          'Set out of band: aws secretsmanager put-secret-value',
        encryptionKey: props.encryptionKey,
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `The ${name} admin key is issued by ${name}, not generated here: it is rotated in the provider's console and then put into this secret.`,
      });
      return secret;
    };
    this.secrets = { anthropic: make('anthropic', 'Anthropic'), openai: make('openai', 'OpenAi') };
  }

  /** The ARN of each provider's secret. */
  get secretArns(): Readonly<Record<LlmProvider, string>> {
    return Object.fromEntries(LLM_PROVIDERS.map((p) => [p, this.secrets[p].secretArn])) as Record<
      LlmProvider,
      string
    >;
  }

  /** What reading the keys needs: the secrets, and their key through Secrets Manager only. */
  readGrant(): ResourceGrant {
    return {
      resources: LLM_PROVIDERS.map((p) => this.secrets[p].secretArn),
      companions: [
        {
          actions: ['kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        },
      ],
    };
  }
}
