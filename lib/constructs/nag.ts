import { type CfnElement, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * An ARN as cdk-nag prints it in an `AwsSolutions-IAM5[Resource::...]` finding id: literal
 * region/account where the stack is pinned, `<AWS::AccountId>` where not, and
 * `<LogicalId.Attribute>` for an attribute of a resource. Acknowledgements must repeat the
 * finding id exactly, so they are built from the same parts as the policy.
 */
export function nagArn(
  scope: IConstruct,
  service: string,
  resource: string,
  ref?: { readonly element: IConstruct; readonly attribute: string },
  suffix = '',
): string {
  const stack = Stack.of(scope);
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const target = ref
    ? `<${stack.getLogicalId(ref.element.node.defaultChild as CfnElement)}${ref.attribute ? `.${ref.attribute}` : ''}>`
    : '';
  return `arn:aws:${service}:${region}:${account}:${resource}${target}${suffix}`;
}

/**
 * The cdk-nag finding id of a role with the AWS managed service-role policy `policyName`
 * (`AwsSolutions-IAM4`), e.g. AWSLambdaBasicExecutionRole.
 */
export function nagManagedPolicy(policyName: string): string {
  return `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policyName}]`;
}

/**
 * A string as cdk-nag prints it in a finding id: itself when literal, else its resolved
 * `Fn::Join` with pseudo parameters as `<AWS::AccountId>` (the form of names built from
 * account and region, e.g. the backups bucket's in an environment without an account).
 */
export function nagText(scope: IConstruct, value: string): string {
  if (!Token.isUnresolved(value)) return value;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const p = part as { Ref?: unknown; 'Fn::Join'?: [string, unknown[]] };
    if (typeof p.Ref === 'string' && p.Ref.startsWith('AWS::')) return `<${p.Ref}>`;
    if (p['Fn::Join']) return p['Fn::Join'][1].map(render).join(p['Fn::Join'][0]);
    throw new Error(`nagText: cannot render ${JSON.stringify(part)}`);
  };
  return render(Stack.of(scope).resolve(value));
}
