import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Properties of {@link ApiKeySecrets}. */
export interface ApiKeySecretsProps {
  /** Prefix of the secret names, e.g. fa-ai-system/prod. */
  readonly namePrefix: string;
  readonly encryptionKey: kms.IKey;
  readonly retainData: boolean;
}

/**
 * The model providers' API keys (Anthropic, OpenAI). The template never holds a value: the
 * secrets are created with a random placeholder and the real keys are set out of band, as
 * the runbook's key rotation procedure ("Rotate keys in AWS Secrets Manager") expects.
 */
export class ApiKeySecrets extends Construct {
  public readonly anthropic: secretsmanager.Secret;
  public readonly openai: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ApiKeySecretsProps) {
    super(scope, id);
    const make = (secretId: string, provider: string, slug: string) => {
      const secret = new secretsmanager.Secret(this, secretId, {
        secretName: `${props.namePrefix}/${slug}`,
        description: `${provider} API key of the FA AI System. Set out of band: aws secretsmanager put-secret-value`,
        encryptionKey: props.encryptionKey,
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `The ${provider} key is issued by ${provider}, not generated here: rotation happens in the provider's console and is then put into this secret by the runbook's key rotation procedure.`,
      });
      return secret;
    };
    this.anthropic = make('AnthropicApiKey', 'Anthropic', 'anthropic-api-key');
    this.openai = make('OpenAiApiKey', 'OpenAI', 'openai-api-key');
  }
}
