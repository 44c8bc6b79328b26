/**
 * Grants that no declared call uses, kept on purpose: each with the reason it stays. The
 * least-privilege test fails on any excess grant not matched here, and on an entry here that
 * matches nothing (an acknowledgement must not outlive its grant).
 */
export interface AcknowledgedGrant {
  /** The role's logical id, e.g. `BatchTaskDefinitionExecutionRole39CB5E05`. */
  readonly principal: RegExp;
  /** Actions (exact) this covers; `*` for every action of a role this project does not write. */
  readonly actions: readonly string[] | '*';
  readonly reason: string;
}

export const ACKNOWLEDGED_GRANTS: readonly AcknowledgedGrant[] = [
  {
    principal: /FunctionServiceRole[0-9A-F]{8}$/,
    actions: ['logs:CreateLogGroup'],
    reason:
      "AWSLambdaBasicExecutionRole (AWS managed, attached by NodejsFunction): every function's log group " +
      'exists before it runs, so CreateLogGroup is never used.',
  },
  {
    principal: /^Database(Migrations|Maintenance|Inspect)HandlerFunctionServiceRole/,
    actions: ['ec2:DescribeSubnets'],
    reason: 'AWSLambdaVPCAccessExecutionRole (AWS managed) for the functions in the VPC.',
  },
  {
    principal: /TaskDefinitionExecutionRole[0-9A-F]{8}$/,
    actions: ['secretsmanager:DescribeSecret'],
    reason:
      "CDK grants ECS container secrets with the secret's grantRead (GetSecretValue and DescribeSecret); ECS " +
      'itself only reads the value.',
  },
  {
    principal: /(SchedulerRole|StateMachineRole)[0-9A-F]{8}$/,
    actions: ['lambda:InvokeFunction'],
    reason:
      "CDK's grantInvoke covers the function's versions and aliases (ARN:*) as well as the function; only the " +
      'unqualified function is invoked.',
  },
  {
    principal: /^AWS679f53fac002430cb0da5b7982bd2287ServiceRole/,
    actions: '*',
    reason:
      "CDK's AwsCustomResource provider that seeds the live-state SSM parameters once (SeededParameter): " +
      'its calls are aws-cdk-lib code, made at deploy time only.',
  },
  {
    principal: /^CustomVpcRestrictDefaultSGCustomResourceProviderRole/,
    actions: '*',
    reason: "CDK's custom resource that strips the default security group's rules at deploy time.",
  },
  {
    principal: /^DatabaseMigrationsProviderframeworkonEventServiceRole/,
    actions: '*',
    reason:
      "CDK's custom resource Provider framework: it invokes (and reads) the db-migrate handler at deploy time.",
  },
  {
    principal: /^DatabaseInstanceMonitoringRole/,
    actions: '*',
    reason:
      'AmazonRDSEnhancedMonitoringRole (AWS managed): RDS Enhanced Monitoring writes RDSOSMetrics with it.',
  },
  {
    principal: /^NetworkVpcFlowLogIAMRole/,
    actions: '*',
    reason: 'VPC Flow Logs delivery (the EC2 service writes the flow log group with it).',
  },
  {
    principal: /^NetworkVpc.*NatInstance/,
    actions: '*',
    reason: "The dev NAT instance's role (CDK's NatInstanceProvider): no policy of ours.",
  },
  {
    principal: /^CustomS3AutoDeleteObjectsCustomResourceProviderRole/,
    actions: '*',
    reason: "CDK's custom resource that empties a dev bucket before it is deleted.",
  },
];

/**
 * Grants on `*` of actions that do have resource types, kept on purpose (the rest of `*` is only
 * for APIs without resource-level permissions).
 */
export const ACKNOWLEDGED_WILDCARDS: readonly AcknowledgedGrant[] = [
  {
    principal: /FunctionServiceRole[0-9A-F]{8}$/,
    actions: [
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    reason:
      'AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole (AWS managed, attached by NodejsFunction) ' +
      "grant the Lambda service's own log and network-interface calls on *.",
  },
  {
    // Both engage the kill switch, through the same code and grants (lib/constructs/kill-switch-grants.ts).
    principal: /^(BudgetGuard|SpendGuard)HandlerFunctionServiceRole/,
    actions: ['ecs:ListTasks'],
    reason: 'ListTasks of Fargate tasks names no container instance; the ecs:cluster condition limits it.',
  },
  {
    principal: /^BatchTaskDefinitionTaskRole/,
    actions: ['cloudwatch:PutMetricData'],
    reason: 'PutMetricData is limited by the cloudwatch:namespace condition to the application namespace.',
  },
  ...ACKNOWLEDGED_GRANTS.filter((a) => a.actions === '*' || a.actions.includes('logs:CreateLogGroup')),
];
