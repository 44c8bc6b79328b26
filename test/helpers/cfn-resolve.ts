/**
 * Resolves the intrinsic functions of synthesized CloudFormation templates to the concrete
 * values a deploy into one (fake) account would produce: Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::Select, Fn::Split, Fn::GetStackOutput (CDK's weak cross-stack references),
 * Fn::ImportValue, Fn::GetAZs, Fn::Base64 and the pseudo parameters.
 *
 * Physical names are the template's when it sets one (TopicName, RoleName, ...), otherwise
 * `<stack>-<logicalId>`, as CloudFormation would generate a unique one. Whatever cannot be
 * resolved throws, naming the stack, the logical id and what was asked: a policy never holds
 * a placeholder that could make a check pass or fail by accident.
 */

/** A template as synthesized (only the parts read here are typed). */
export interface TemplateJson {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, any> }>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
  readonly Outputs?: Record<
    string,
    { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }
  >;
}

/** What the resolver deploys into. */
export interface ResolverOptions {
  /** Templates by stack name. */
  readonly templates: Readonly<Record<string, TemplateJson>>;
  readonly account: string;
  readonly region: string;
  /**
   * Values of SSM-typed stack parameters by parameter name (the live values CloudFormation
   * would read at deploy time). A parameter without a value here and without a usable
   * default fails the resolution.
   */
  readonly parameterValues?: Readonly<Record<string, string | readonly string[]>>;
}

/** A value that could not be resolved. */
export class UnresolvableReferenceError extends Error {
  override readonly name = 'UnresolvableReferenceError';
}

/** A resolver over the templates of one deployment. */
export interface Resolver {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** `value` with every intrinsic function of `stackName`'s template replaced by its value. */
  resolve(stackName: string, value: unknown): any;
  /** The ARN of a resource of `stackName` (Fn::GetAtt Arn, or the Ref of types whose Ref is the ARN). */
  arnOf(stackName: string, logicalId: string): string;
  /** The resource of `stackName` whose ARN is `arn`, if any. */
  resourceByArn(arn: string): { stackName: string; logicalId: string; type: string } | undefined;
}

type Resource = { readonly Type: string; readonly Properties?: Record<string, any> };

/** How Ref and Fn::GetAtt of one resource type resolve. */
interface TypeRule {
  /** The name the resource gets: its name property, or a generated one. */
  readonly nameProperty?: string;
  readonly ref: (r: Ctx) => string;
  readonly attributes?: Readonly<Record<string, (r: Ctx) => string>>;
}

interface Ctx {
  readonly stack: string;
  readonly id: string;
  readonly props: Record<string, any>;
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly resolve: (value: unknown) => any;
}

const arn = (service: string, c: Ctx, resource: string, region = c.region, account = c.account) =>
  `arn:aws:${service}:${region}:${account}:${resource}`;

const tgName = (c: Ctx) => (c.props.Name === undefined ? c.id : c.name).slice(0, 32);

/** The resource types the project's templates reference, and how their references resolve. */
const TYPES: Readonly<Record<string, TypeRule>> = {
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: (c) => c.name,
    attributes: { Arn: (c) => `arn:aws:iam::${c.account}:role/${c.name}`, RoleId: (c) => `AROA${c.id}` },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    ref: (c) => `arn:aws:iam::${c.account}:policy/${c.name}`,
  },
  'AWS::IAM::Policy': { nameProperty: 'PolicyName', ref: (c) => c.name },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    ref: (c) => arn('sns', c, c.name),
    attributes: { TopicArn: (c) => arn('sns', c, c.name), TopicName: (c) => c.name },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    ref: (c) => `https://sqs.${c.region}.amazonaws.com/${c.account}/${c.name}`,
    attributes: { Arn: (c) => arn('sqs', c, c.name), QueueName: (c) => c.name },
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('lambda', c, `function:${c.name}`) },
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: (c) => c.name,
    attributes: {
      Arn: (c) => arn('dynamodb', c, `table/${c.name}`),
      StreamArn: (c) => arn('dynamodb', c, `table/${c.name}/stream/1970-01-01T00:00:00.000`),
    },
  },
  'AWS::KMS::Key': {
    ref: (c) => `key-${c.id}`,
    attributes: { Arn: (c) => arn('kms', c, `key/key-${c.id}`), KeyId: (c) => `key-${c.id}` },
  },
  'AWS::KMS::Alias': { nameProperty: 'AliasName', ref: (c) => c.name },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    // Secrets Manager appends six random characters to the name.
    ref: (c) => arn('secretsmanager', c, `secret:${c.name}-AbCdEf`),
    attributes: { Id: (c) => arn('secretsmanager', c, `secret:${c.name}-AbCdEf`) },
  },
  'AWS::SecretsManager::SecretTargetAttachment': {
    ref: (c) => c.resolve(c.props.SecretId),
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    ref: (c) => arn('states', c, `stateMachine:${c.name}`),
    attributes: { Arn: (c) => arn('states', c, `stateMachine:${c.name}`), Name: (c) => c.name },
  },
  'AWS::Scheduler::Schedule': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('scheduler', c, `schedule/${c.props.GroupName ?? 'default'}/${c.name}`) },
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('events', c, `rule/${c.name}`) },
  },
  'AWS::ECS::Cluster': {
    nameProperty: 'ClusterName',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('ecs', c, `cluster/${c.name}`) },
  },
  'AWS::ECS::Service': {
    nameProperty: 'ServiceName',
    ref: (c) => arn('ecs', c, `service/${c.resolve(c.props.Cluster)}/${c.name}`),
    attributes: {
      Name: (c) => c.name,
      ServiceArn: (c) => arn('ecs', c, `service/${c.resolve(c.props.Cluster)}/${c.name}`),
    },
  },
  'AWS::ECS::TaskDefinition': {
    nameProperty: 'Family',
    ref: (c) => arn('ecs', c, `task-definition/${c.name}:1`),
    attributes: { TaskDefinitionArn: (c) => arn('ecs', c, `task-definition/${c.name}:1`) },
  },
  'AWS::ECR::Repository': {
    nameProperty: 'RepositoryName',
    ref: (c) => c.name,
    attributes: {
      Arn: (c) => arn('ecr', c, `repository/${c.name}`),
      RepositoryUri: (c) => `${c.account}.dkr.ecr.${c.region}.amazonaws.com/${c.name}`,
    },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('logs', c, `log-group:${c.name}:*`) },
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('cloudwatch', c, `alarm:${c.name}`) },
  },
  'AWS::CloudWatch::CompositeAlarm': {
    nameProperty: 'AlarmName',
    ref: (c) => c.name,
    attributes: { Arn: (c) => arn('cloudwatch', c, `alarm:${c.name}`) },
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    nameProperty: 'Name',
    ref: (c) => arn('elasticloadbalancing', c, `loadbalancer/app/${c.name}/0123456789abcdef`),
    attributes: {
      LoadBalancerFullName: (c) => `app/${c.name}/0123456789abcdef`,
      DNSName: (c) => `${c.name}-1234567890.${c.region}.elb.amazonaws.com`,
      LoadBalancerName: (c) => c.name,
    },
  },
  'AWS::ElasticLoadBalancingV2::Listener': {
    ref: (c) => {
      const lb = String(c.resolve(c.props.LoadBalancerArn)).replace(':loadbalancer/', ':listener/');
      return `${lb}/${c.id.slice(-16).toLowerCase()}`;
    },
    attributes: { ListenerArn: (c) => TYPES['AWS::ElasticLoadBalancingV2::Listener']?.ref(c) ?? '' },
  },
  'AWS::ElasticLoadBalancingV2::TargetGroup': {
    nameProperty: 'Name',
    // Generated target group names are short (32 characters): the logical id keeps them apart.
    ref: (c) => arn('elasticloadbalancing', c, `targetgroup/${tgName(c)}/0123456789abcdef`),
    attributes: {
      TargetGroupFullName: (c) => `targetgroup/${tgName(c)}/0123456789abcdef`,
      TargetGroupName: (c) => tgName(c),
    },
  },
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    ref: (c) => c.name,
    attributes: {
      Arn: (c) => `arn:aws:s3:::${c.name}`,
      DomainName: (c) => `${c.name}.s3.amazonaws.com`,
      RegionalDomainName: (c) => `${c.name}.s3.${c.region}.amazonaws.com`,
    },
  },
  'AWS::RDS::DBInstance': {
    nameProperty: 'DBInstanceIdentifier',
    ref: (c) => c.name,
    attributes: {
      'Endpoint.Address': (c) => `${c.name}.abcdefghij.${c.region}.rds.amazonaws.com`,
      'Endpoint.Port': () => '5432',
      DbiResourceId: (c) => `db-${c.id}`,
    },
  },
  'AWS::ElastiCache::ReplicationGroup': {
    nameProperty: 'ReplicationGroupId',
    ref: (c) => c.name,
    attributes: {
      'PrimaryEndPoint.Address': (c) => `master.${c.name}.abcdef.use1.cache.amazonaws.com`,
      'PrimaryEndPoint.Port': () => '6379',
    },
  },
  'AWS::EC2::SecurityGroup': { ref: (c) => `sg-${c.id}`, attributes: { GroupId: (c) => `sg-${c.id}` } },
  'AWS::EC2::VPC': {
    ref: (c) => `vpc-${c.id}`,
    attributes: { CidrBlock: () => '10.0.0.0/16', DefaultSecurityGroup: (c) => `sg-default-${c.id}` },
  },
  'AWS::EC2::Subnet': { ref: (c) => `subnet-${c.id}` },
  'AWS::EC2::RouteTable': { ref: (c) => `rtb-${c.id}` },
  'AWS::EC2::InternetGateway': { ref: (c) => `igw-${c.id}` },
  'AWS::EC2::NatGateway': { ref: (c) => `nat-${c.id}` },
  'AWS::EC2::Instance': { ref: (c) => `i-${c.id}` },
  'AWS::EC2::EIP': { ref: () => '198.51.100.1', attributes: { AllocationId: (c) => `eipalloc-${c.id}` } },
  'AWS::SSM::Parameter': { nameProperty: 'Name', ref: (c) => c.name },
};

/** The ARN attribute of each type whose ARN is not its Ref. */
const ARN_ATTRIBUTE: Readonly<Record<string, string>> = {
  'AWS::SNS::Topic': 'TopicArn',
  'AWS::ECS::Service': 'ServiceArn',
  'AWS::ECS::TaskDefinition': 'TaskDefinitionArn',
  'AWS::ElasticLoadBalancingV2::Listener': 'ListenerArn',
};
const REF_IS_ARN = new Set([
  'AWS::IAM::ManagedPolicy',
  'AWS::SecretsManager::Secret',
  'AWS::StepFunctions::StateMachine',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
]);

/** A resolver over `options.templates`. */
export function createResolver(options: ResolverOptions): Resolver {
  const { templates, account, region } = options;
  const byArn = new Map<string, { stackName: string; logicalId: string; type: string }>();

  const template = (stackName: string): TemplateJson => {
    const t = templates[stackName];
    if (!t) throw new UnresolvableReferenceError(`no template of stack ${stackName}`);
    return t;
  };
  const resource = (stackName: string, logicalId: string): Resource => {
    const r = template(stackName).Resources[logicalId];
    if (!r) throw new UnresolvableReferenceError(`${stackName}: no resource or parameter ${logicalId}`);
    return r;
  };
  const ctx = (stackName: string, logicalId: string): { rule: TypeRule; c: Ctx } => {
    const r = resource(stackName, logicalId);
    const rule = TYPES[r.Type];
    if (!rule) {
      throw new UnresolvableReferenceError(
        `${stackName}/${logicalId}: references to ${r.Type} are not modelled (add the type to cfn-resolve.ts)`,
      );
    }
    const props = r.Properties ?? {};
    const resolveHere = (value: unknown) => resolveValue(stackName, value, [logicalId]);
    const named = rule.nameProperty ? props[rule.nameProperty] : undefined;
    const name = named === undefined ? `${stackName}-${logicalId}` : String(resolveHere(named));
    return {
      rule,
      c: { stack: stackName, id: logicalId, props, name, account, region, resolve: resolveHere },
    };
  };

  const ref = (stackName: string, name: string): unknown => {
    switch (name) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return undefined;
    }
    const parameter = template(stackName).Parameters?.[name];
    if (parameter) {
      const live = options.parameterValues?.[name];
      if (live !== undefined) return live;
      if (!parameter.Type.startsWith('AWS::SSM::Parameter::Value') && parameter.Default !== undefined) {
        return parameter.Default;
      }
      throw new UnresolvableReferenceError(
        `${stackName}: parameter ${name} (${parameter.Type}) has no value: pass it in parameterValues`,
      );
    }
    const { rule, c } = ctx(stackName, name);
    return rule.ref(c);
  };

  const getAtt = (stackName: string, logicalId: string, attribute: string): unknown => {
    const { rule, c } = ctx(stackName, logicalId);
    const get = rule.attributes?.[attribute];
    if (!get) {
      throw new UnresolvableReferenceError(
        `${stackName}/${logicalId}: attribute ${attribute} of ${resource(stackName, logicalId).Type} is not modelled`,
      );
    }
    return get(c);
  };

  const output = (stackName: string, outputName: string): unknown => {
    const o = template(stackName).Outputs?.[outputName];
    if (!o) throw new UnresolvableReferenceError(`${stackName}: no output ${outputName}`);
    return resolveValue(stackName, o.Value, [outputName]);
  };

  const importValue = (exportName: string): unknown => {
    for (const [stackName, t] of Object.entries(templates)) {
      for (const o of Object.values(t.Outputs ?? {})) {
        if (o.Export && resolveValue(stackName, o.Export.Name, []) === exportName) {
          return resolveValue(stackName, o.Value, []);
        }
      }
    }
    throw new UnresolvableReferenceError(`no stack exports ${exportName}`);
  };

  const sub = (stackName: string, text: string, variables: Record<string, unknown>): string =>
    text.replace(/\$\{([^}!]+)\}/g, (_, expression: string) => {
      if (expression in variables) return String(resolveValue(stackName, variables[expression], []));
      const [id = '', ...attribute] = expression.split('.');
      return String(attribute.length > 0 ? getAtt(stackName, id, attribute.join('.')) : ref(stackName, id));
    });

  function resolveValue(stackName: string, value: unknown, path: readonly string[]): any {
    if (Array.isArray(value)) {
      return value.map((v) => resolveValue(stackName, v, path)).filter((v) => v !== undefined);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      const [fn, arg] = first;
      const args = arg as any;
      try {
        switch (fn) {
          case 'Ref':
            return ref(stackName, String(args));
          case 'Fn::GetAtt': {
            const [id, ...attribute] = Array.isArray(args) ? args : String(args).split('.');
            return getAtt(stackName, String(id), attribute.join('.'));
          }
          case 'Fn::Join': {
            const [separator, parts] = args as [string, unknown[]];
            return (resolveValue(stackName, parts, path) as unknown[]).join(separator);
          }
          case 'Fn::Select': {
            const [index, list] = args as [unknown, unknown];
            const items = resolveValue(stackName, list, path) as unknown[];
            const i = Number(resolveValue(stackName, index, path));
            if (!Array.isArray(items) || i >= items.length) {
              throw new UnresolvableReferenceError(`Fn::Select index ${i} out of ${JSON.stringify(items)}`);
            }
            return items[i];
          }
          case 'Fn::Split': {
            const [separator, source] = args as [string, unknown];
            const resolved = resolveValue(stackName, source, path);
            return Array.isArray(resolved) ? resolved : String(resolved).split(separator);
          }
          case 'Fn::Sub':
            return typeof args === 'string'
              ? sub(stackName, args, {})
              : sub(stackName, String(args[0]), (args[1] ?? {}) as Record<string, unknown>);
          case 'Fn::GetStackOutput':
            return output(String(resolveValue(stackName, args.StackName, path)), String(args.OutputName));
          case 'Fn::ImportValue':
            return importValue(String(resolveValue(stackName, args, path)));
          case 'Fn::GetAZs':
            return [`${region}a`, `${region}b`, `${region}c`];
          case 'Fn::Base64':
            return Buffer.from(String(resolveValue(stackName, args, path))).toString('base64');
          default:
            throw new UnresolvableReferenceError(`${fn} is not modelled`);
        }
      } catch (error) {
        if (error instanceof UnresolvableReferenceError && !error.message.startsWith('in ')) {
          throw new UnresolvableReferenceError(
            `in ${stackName}${path.length ? ` (${path.join('/')})` : ''}: ${error.message}`,
          );
        }
        throw error;
      }
    }
    return Object.fromEntries(
      entries
        .map(([k, v]) => [k, resolveValue(stackName, v, path)] as const)
        .filter(([, v]) => v !== undefined),
    );
  }

  const arnOf = (stackName: string, logicalId: string): string => {
    const r = resource(stackName, logicalId);
    if (REF_IS_ARN.has(r.Type)) return String(ref(stackName, logicalId));
    const attribute = ARN_ATTRIBUTE[r.Type] ?? 'Arn';
    return String(getAtt(stackName, logicalId, attribute));
  };

  for (const [stackName, t] of Object.entries(templates)) {
    for (const [logicalId, r] of Object.entries(t.Resources)) {
      if (
        !TYPES[r.Type] ||
        !(REF_IS_ARN.has(r.Type) || TYPES[r.Type]?.attributes?.[ARN_ATTRIBUTE[r.Type] ?? 'Arn'])
      ) {
        continue;
      }
      try {
        byArn.set(arnOf(stackName, logicalId), { stackName, logicalId, type: r.Type });
      } catch {
        // A resource whose ARN needs an unmodelled reference is simply not found by ARN.
      }
    }
  }

  return {
    account,
    region,
    partition: 'aws',
    resolve: (stackName, value) => resolveValue(stackName, value, []),
    arnOf,
    resourceByArn: (a) => byArn.get(a),
  };
}
