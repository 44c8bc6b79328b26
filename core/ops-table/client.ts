import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientFactory } from '../aws-clients';
import { OPS_TABLE_TRANSLATE_CONFIG } from './items';

// A file of its own: esbuild keeps every external SDK module a bundled file imports, so a
// function that uses no ops table must not import this one.

/** A document client of the ops table, on a DynamoDB client of `aws` (whose retries it uses). */
export function opsTableDocumentClient(aws: AwsClientFactory): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(aws.client(DynamoDBClient), OPS_TABLE_TRANSLATE_CONFIG);
}
