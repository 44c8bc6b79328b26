import type { Pricer } from '../context';
import {
  priceEcsService,
  priceEcsTaskDefinition,
  priceLambdaFunction,
  priceSchedule,
  priceStateMachine,
} from './compute';
import {
  priceBucket,
  priceCacheCluster,
  priceDbInstance,
  priceDbProxy,
  priceDynamoDbTable,
  priceHostedZone,
  priceKmsKey,
  priceLogGroup,
  priceQueue,
  priceReplicationGroup,
  priceRepository,
  priceSecret,
  priceSsmParameter,
  priceTopic,
} from './data';
import {
  priceEc2Instance,
  priceElasticIp,
  priceFlowLog,
  priceLoadBalancer,
  priceNatGateway,
  priceVpcEndpoint,
} from './network';
import { priceDashboard, priceEcsCluster } from './observability';

/**
 * The pricer of each resource type priced one resource at a time. Alarms and custom metrics
 * are priced per stack (see estimateTemplate).
 */
export const PRICERS: Readonly<Record<string, Pricer>> = {
  'AWS::ECS::Cluster': priceEcsCluster,
  'AWS::ECS::Service': priceEcsService,
  'AWS::ECS::TaskDefinition': priceEcsTaskDefinition,
  'AWS::Lambda::Function': priceLambdaFunction,
  'AWS::StepFunctions::StateMachine': priceStateMachine,
  'AWS::Scheduler::Schedule': priceSchedule,
  'AWS::ElasticLoadBalancingV2::LoadBalancer': priceLoadBalancer,
  'AWS::EC2::NatGateway': priceNatGateway,
  'AWS::EC2::EIP': priceElasticIp,
  'AWS::EC2::Instance': priceEc2Instance,
  'AWS::EC2::VPCEndpoint': priceVpcEndpoint,
  'AWS::EC2::FlowLog': priceFlowLog,
  'AWS::RDS::DBInstance': priceDbInstance,
  'AWS::RDS::DBProxy': priceDbProxy,
  'AWS::ElastiCache::ReplicationGroup': priceReplicationGroup,
  'AWS::ElastiCache::CacheCluster': priceCacheCluster,
  'AWS::KMS::Key': priceKmsKey,
  'AWS::SecretsManager::Secret': priceSecret,
  'AWS::DynamoDB::Table': priceDynamoDbTable,
  'AWS::S3::Bucket': priceBucket,
  'AWS::SQS::Queue': priceQueue,
  'AWS::SNS::Topic': priceTopic,
  'AWS::ECR::Repository': priceRepository,
  'AWS::Route53::HostedZone': priceHostedZone,
  'AWS::SSM::Parameter': priceSsmParameter,
  'AWS::Logs::LogGroup': priceLogGroup,
  'AWS::CloudWatch::Dashboard': priceDashboard,
};

/** Types priced per stack rather than per resource. */
export const AGGREGATE_TYPES: ReadonlySet<string> = new Set([
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::CompositeAlarm',
]);
