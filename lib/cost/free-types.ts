const IAM = 'IAM is free';
const VPC = 'VPC plumbing has no charge of its own';
const CONFIG = 'configuration object with no charge of its own';
const PRICED_ELSEWHERE = 'billed through the resource it belongs to';

/**
 * Resource types that cost nothing by themselves, with the reason. A type is either here,
 * priced by a pricer, or reported as UNPRICED: never silently zero.
 */
export const KNOWN_FREE_TYPES: Readonly<Record<string, string>> = {
  'AWS::CDK::Metadata': 'CDK bookkeeping',
  'AWS::IAM::Role': IAM,
  'AWS::IAM::Policy': IAM,
  'AWS::IAM::ManagedPolicy': IAM,
  'AWS::IAM::InstanceProfile': IAM,
  'AWS::EC2::VPC': VPC,
  'AWS::EC2::Subnet': VPC,
  'AWS::EC2::RouteTable': VPC,
  'AWS::EC2::Route': VPC,
  'AWS::EC2::SubnetRouteTableAssociation': VPC,
  'AWS::EC2::InternetGateway': VPC,
  'AWS::EC2::VPCGatewayAttachment': VPC,
  'AWS::EC2::NetworkAcl': VPC,
  'AWS::EC2::NetworkAclEntry': VPC,
  'AWS::EC2::SubnetNetworkAclAssociation': VPC,
  'AWS::EC2::SecurityGroup': VPC,
  'AWS::EC2::SecurityGroupIngress': VPC,
  'AWS::EC2::SecurityGroupEgress': VPC,
  'AWS::EC2::EIPAssociation': PRICED_ELSEWHERE,
  'AWS::ElasticLoadBalancingV2::Listener': PRICED_ELSEWHERE,
  'AWS::ElasticLoadBalancingV2::ListenerRule': PRICED_ELSEWHERE,
  'AWS::ElasticLoadBalancingV2::ListenerCertificate': PRICED_ELSEWHERE,
  'AWS::ElasticLoadBalancingV2::TargetGroup': PRICED_ELSEWHERE,
  'AWS::ApplicationAutoScaling::ScalableTarget': 'Application Auto Scaling is free',
  'AWS::ApplicationAutoScaling::ScalingPolicy': 'Application Auto Scaling is free',
  'AWS::RDS::DBSubnetGroup': CONFIG,
  'AWS::RDS::DBParameterGroup': CONFIG,
  'AWS::RDS::DBClusterParameterGroup': CONFIG,
  'AWS::RDS::OptionGroup': CONFIG,
  'AWS::RDS::DBProxyTargetGroup': 'billed through its proxy',
  'AWS::ElastiCache::SubnetGroup': CONFIG,
  'AWS::ElastiCache::ParameterGroup': CONFIG,
  'AWS::ElastiCache::User': CONFIG,
  'AWS::ElastiCache::UserGroup': CONFIG,
  'AWS::KMS::Alias': 'aliases are free',
  'AWS::SecretsManager::SecretTargetAttachment': CONFIG,
  'AWS::SecretsManager::RotationSchedule': 'the rotation Lambda is priced on its own',
  'AWS::SecretsManager::ResourcePolicy': CONFIG,
  'AWS::Lambda::Permission': CONFIG,
  'AWS::Lambda::EventInvokeConfig': CONFIG,
  'AWS::Lambda::EventSourceMapping': 'invocations are priced on the function',
  'AWS::Lambda::Version': PRICED_ELSEWHERE,
  'AWS::Lambda::Alias': PRICED_ELSEWHERE,
  'AWS::Events::Rule': 'rules, schedules and AWS service events on the default bus are free',
  'AWS::Scheduler::ScheduleGroup': CONFIG,
  'AWS::SNS::Subscription': 'deliveries are priced on the topic',
  'AWS::SNS::TopicPolicy': CONFIG,
  'AWS::SQS::QueuePolicy': CONFIG,
  'AWS::S3::BucketPolicy': CONFIG,
  'AWS::Logs::MetricFilter': 'the metrics it writes are priced as custom metrics',
  'AWS::Logs::SubscriptionFilter': 'delivery is priced on the destination',
  'AWS::Logs::ResourcePolicy': CONFIG,
  'AWS::Logs::LogStream': 'priced on the log group',
  'AWS::CloudWatch::AnomalyDetector': 'billed through the alarms that use it',
  'AWS::Budgets::Budget': 'budgets without actions are free (AWS Budgets pricing)',
  'AWS::CertificateManager::Certificate': 'public ACM certificates are free',
  'AWS::Route53::RecordSet': 'records are free; queries are priced on the hosted zone',
  'AWS::CloudFormation::WaitConditionHandle': 'CloudFormation bookkeeping',
  'AWS::CloudFormation::WaitCondition': 'CloudFormation bookkeeping',
  'AWS::CloudFormation::CustomResource': 'runs its provider Lambda at deploy time only',
};

/** Custom resources (Custom::*) run their provider at deploy time; the provider is priced itself. */
export function freeReason(type: string): string | undefined {
  if (type.startsWith('Custom::')) return KNOWN_FREE_TYPES['AWS::CloudFormation::CustomResource'];
  return KNOWN_FREE_TYPES[type];
}
