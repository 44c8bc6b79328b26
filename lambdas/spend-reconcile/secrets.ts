/**
 * The providers' admin keys, read from their Secrets Manager secrets at run time and kept for
 * the life of the execution environment (one read per cold start). The stack creates each
 * secret with a generated placeholder, never key material; until an operator puts the key the
 * placeholder is refused here, before anything is sent to a provider.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LlmProvider } from '../../core/spend/metric';
import { ANTHROPIC_ADMIN_KEY_PREFIX } from './anthropic';
import { AdminKeyNotSetError } from './errors';
import { OPENAI_ADMIN_KEY_PREFIX } from './openai';

/** What an admin key of each provider starts with (an ordinary API key cannot read costs). */
export const ADMIN_KEY_PREFIXES: Readonly<Record<LlmProvider, string>> = {
  anthropic: ANTHROPIC_ADMIN_KEY_PREFIX,
  openai: OPENAI_ADMIN_KEY_PREFIX,
};

/** The admin keys, cached. */
export interface AdminKeys {
  /** The provider's admin key; AdminKeyNotSetError when its secret holds none. */
  get(provider: LlmProvider): Promise<string>;
  /** Drops a cached key, e.g. after the provider refused it: the next run reads the secret again. */
  forget(provider: LlmProvider): void;
}

/** Admin keys from the secrets `secretArns` names, each read at most once until forgotten. */
export function adminKeysFrom(
  secrets: SecretsManagerClient,
  secretArns: Readonly<Record<LlmProvider, string>>,
): AdminKeys {
  const cache = new Map<LlmProvider, Promise<string>>();
  const read = async (provider: LlmProvider): Promise<string> => {
    const secretArn = secretArns[provider];
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const key = (secret.SecretString ?? '').trim();
    const prefix = ADMIN_KEY_PREFIXES[provider];
    if (!key.startsWith(prefix)) {
      // Never the value itself in the message: it may be a real key of the wrong kind.
      throw new AdminKeyNotSetError(
        `Secret ${secretArn} does not hold a ${provider} admin key (${prefix}...), so ${provider}'s bill was not ` +
          `read: put the key with aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string <key>`,
      );
    }
    return key;
  };
  return {
    get(provider) {
      let pending = cache.get(provider);
      if (!pending) {
        const reading = read(provider);
        pending = reading;
        cache.set(provider, reading);
        // A failed read is not cached: the next run tries again.
        reading.catch(() => {
          if (cache.get(provider) === reading) cache.delete(provider);
        });
      }
      return pending;
    },
    forget(provider) {
      cache.delete(provider);
    },
  };
}
