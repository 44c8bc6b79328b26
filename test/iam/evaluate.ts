/**
 * Evaluates permission requests with a real IAM policy evaluator (@cloud-copilot/iam-simulate,
 * AGPL-3.0: a devDependency of these tests only, never bundled). For each request it gathers
 * what AWS would combine: the principal's identity policies (inline, attached AWS::IAM::Policy,
 * managed), and the resource's policy: the topic policy, queue policy, Lambda permissions or
 * KMS key policy, with their conditions.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Deployment, PermissionRequest } from './requests';

/** A policy statement as in a template (after resolution). */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** An identity policy of a principal, with where it comes from. */
export interface IdentityPolicy {
  /** `<stack>/<logicalId>` of the policy (or the role, for inline and managed ones). */
  readonly source: string;
  readonly statements: readonly Statement[];
}

/** The documents of the AWS managed policies the templates attach (as AWS publishes them). */
const AWS_MANAGED: Readonly<Record<string, readonly Statement[]>> = {
  'service-role/AWSLambdaBasicExecutionRole': [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: '*',
    },
  ],
  'service-role/AmazonRDSEnhancedMonitoringRole': [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'],
      Resource: 'arn:aws:logs:*:*:log-group:RDS*',
    },
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:GetLogEvents'],
      Resource: 'arn:aws:logs:*:*:log-group:RDS*:log-stream:*',
    },
  ],
  'service-role/AWSLambdaVPCAccessExecutionRole': [
    {
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    },
  ],
};

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Policies and resource policies of one deployment, looked up by ARN. */
export class PolicyIndex {
  private readonly identity = new Map<string, IdentityPolicy[]>();
  /** Decisions by request: many hops ask the same (e.g. every alarm uses the topics' key). */
  readonly decided = new Map<string, Promise<Decision['result']>>();
  private readonly resource = new Map<string, Statement[]>();

  constructor(private readonly d: Deployment) {
    const { resolver } = d;
    for (const [stack, t] of Object.entries(d.templates)) {
      for (const [id, r] of Object.entries(t.Resources)) {
        const p = r.Properties ?? {};
        const at = `${stack}/${id}`;
        const resolve = (v: unknown) => resolver.resolve(stack, v);
        switch (r.Type) {
          case 'AWS::IAM::Role': {
            const arn = resolver.arnOf(stack, id);
            for (const inline of asList<any>(p.Policies)) {
              this.addIdentity(arn, {
                source: `${at} inline ${inline.PolicyName}`,
                statements: resolve(inline.PolicyDocument).Statement,
              });
            }
            for (const managed of asList<unknown>(p.ManagedPolicyArns).map((m) => String(resolve(m)))) {
              const aws = managed.match(/^arn:aws:iam::aws:policy\/(.+)$/);
              if (aws) {
                const statements = AWS_MANAGED[aws[1] as string];
                if (!statements) throw new Error(`${at}: AWS managed policy ${managed} is not modelled`);
                this.addIdentity(arn, { source: `${at} managed ${aws[1]}`, statements });
              }
            }
            break;
          }
          case 'AWS::IAM::Policy':
          case 'AWS::IAM::ManagedPolicy': {
            const statements = asList<Statement>(resolve(p.PolicyDocument).Statement);
            const roles = asList<unknown>(p.Roles).map(
              (role) => `arn:aws:iam::${resolver.account}:role/${String(resolve(role))}`,
            );
            const users = asList<unknown>(p.Users).map(
              (u) => `arn:aws:iam::${resolver.account}:user/${String(resolve(u))}`,
            );
            for (const principal of [...roles, ...users])
              this.addIdentity(principal, { source: at, statements });
            if (r.Type === 'AWS::IAM::ManagedPolicy') {
              this.addIdentity(`managed-policy:${resolver.arnOf(stack, id)}`, { source: at, statements });
            }
            break;
          }
          case 'AWS::SNS::TopicPolicy':
            for (const topic of asList<unknown>(p.Topics))
              this.addResource(String(resolve(topic)), resolve(p.PolicyDocument).Statement);
            break;
          case 'AWS::SQS::QueuePolicy':
            for (const url of asList<unknown>(p.Queues)) {
              const [, , , acct, name] = String(resolve(url)).split('/');
              this.addResource(
                `arn:aws:sqs:${resolver.region}:${acct}:${name}`,
                resolve(p.PolicyDocument).Statement,
              );
            }
            break;
          case 'AWS::KMS::Key':
            this.addResource(resolver.arnOf(stack, id), resolve(p.KeyPolicy).Statement);
            break;
          case 'AWS::Lambda::Permission': {
            const perm = resolve(p) as Record<string, any>;
            const fn = String(perm.FunctionName);
            const arn = fn.startsWith('arn:')
              ? fn
              : `arn:aws:lambda:${resolver.region}:${resolver.account}:function:${fn}`;
            const condition: Record<string, Record<string, unknown>> = {};
            if (perm.SourceArn) condition.ArnLike = { 'aws:SourceArn': perm.SourceArn };
            if (perm.SourceAccount) condition.StringEquals = { 'aws:SourceAccount': perm.SourceAccount };
            const principal = String(perm.Principal);
            this.addResource(arn, [
              {
                Effect: 'Allow',
                Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
                Action: String(perm.Action),
                Resource: arn,
                ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
              },
            ]);
            break;
          }
        }
      }
    }
  }

  private addIdentity(principal: string, policy: IdentityPolicy): void {
    this.identity.set(principal, [...(this.identity.get(principal) ?? []), policy]);
  }

  private addResource(arn: string, statements: readonly Statement[]): void {
    this.resource.set(arn, [...(this.resource.get(arn) ?? []), ...asList(statements as Statement[])]);
  }

  identityPolicies(principal: string): readonly IdentityPolicy[] {
    return this.identity.get(principal) ?? [];
  }

  /** Principals with identity policies (roles, users, managed policies as `managed-policy:<arn>`). */
  principals(): string[] {
    return [...this.identity.keys()];
  }

  /** Every resource policy (topic, queue, key, function), by the resource's ARN. */
  resourcePolicies(): Array<[string, readonly Statement[]]> {
    return [...this.resource.entries()];
  }

  resourcePolicy(resourceArn: string): Statement[] | undefined {
    // A function's permissions cover its qualified ARNs (versions, aliases) too.
    const unqualified = resourceArn.replace(/^(arn:aws:lambda:[^:]+:[^:]+:function:[^:]+):.+$/, '$1');
    return this.resource.get(resourceArn) ?? this.resource.get(unqualified);
  }

  get deployment(): Deployment {
    return this.d;
  }
}

/** The evaluator's decision on one request. */
export interface Decision {
  readonly request: PermissionRequest;
  readonly result: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
}

/** Evaluates `request`; throws naming the policies when the evaluator cannot parse them. */
export async function evaluate(index: PolicyIndex, request: PermissionRequest): Promise<Decision> {
  const key = JSON.stringify([request.principal, request.action, request.resource, request.context]);
  let result = index.decided.get(key);
  if (!result) {
    result = simulate(index, request);
    index.decided.set(key, result);
  }
  return { request, result: await result };
}

async function simulate(index: PolicyIndex, request: PermissionRequest): Promise<Decision['result']> {
  const principal = request.principal;
  const identity = index.identityPolicies(
    principal.startsWith('managed-policy:') ? principal : request.principal,
  );
  const resourcePolicy = request.resource === '*' ? undefined : index.resourcePolicy(request.resource);
  const response = await runSimulation(
    {
      request: {
        principal: principal.startsWith('managed-policy:')
          ? `arn:aws:iam::${index.deployment.resolver.account}:user/operator`
          : request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: index.deployment.resolver.account },
        contextVariables: request.context as Record<string, string | string[]>,
      },
      identityPolicies: identity.map((p, i) => ({
        name: `${i}:${p.source}`,
        policy: { Version: '2012-10-17', Statement: p.statements },
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicy ? { Version: '2012-10-17', Statement: resourcePolicy } : undefined,
    },
    {},
  );
  if (response.resultType === 'error') {
    throw new Error(
      `the evaluator cannot evaluate ${request.action} on ${request.resource} by ${request.caller} ` +
        `(policies: ${identity.map((p) => p.source).join(', ') || 'none'}): ${JSON.stringify(response.errors)}`,
    );
  }
  return response.overallResult as Decision['result'];
}
