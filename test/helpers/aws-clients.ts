/**
 * Clients of the code under test as the Lambdas and the CLI build theirs
 * (core/aws-clients.ts: the SDK's retry middleware and strategy, 5 attempts), with
 * the backoff shortened to 1 ms so that a test of five throttled attempts does not sleep. The
 * mocks answer from inside that middleware (test/helpers/aws-mock.ts), so a mocked throttling
 * is retried by the real strategy. The policy itself is tested in
 * test/core/aws-clients.test.ts.
 */
import {
  type AwsClientSettings,
  awsClientFactory,
  type ClientConfig,
  lambdaClientFactory,
  RETRY_POLICY,
  type RetryPolicy,
} from '../../core/aws-clients';

/** The production policy's attempts, without its waits. */
export const TEST_POLICY: RetryPolicy = { ...RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 1 };

/** A client of the production policy's attempts, without its waits. */
export function testClient<C>(Client: new (config: ClientConfig) => C, settings: AwsClientSettings = {}): C {
  return awsClientFactory({ policy: TEST_POLICY }).client(Client, settings);
}

/** A Lambda's client (per-attempt timeouts too), without the policy's waits. */
export function testLambdaClient<C>(
  Client: new (config: ClientConfig) => C,
  settings: AwsClientSettings = {},
): C {
  return lambdaClientFactory({ policy: TEST_POLICY }).client(Client, settings);
}
