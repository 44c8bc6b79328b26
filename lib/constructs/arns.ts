import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * ARN of an SSM parameter by its name. Names of hierarchical parameters start with "/", which
 * the ARN does not repeat (arn:…:parameter/a/b for /a/b).
 */
export function ssmParameterArn(scope: IConstruct, parameterName: string): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: parameterName.replace(/^\//, ''),
  });
}
