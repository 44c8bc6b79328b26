import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let dev: Template;

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'stateful');
  dev = synth.template('dev', 'stateful');
});

describe('network', () => {
  it('spreads public, private-with-egress and isolated subnets over the configured zones', () => {
    const subnets = Object.values(prod.findResources('AWS::EC2::Subnet'));
    const byType = (type: string) =>
      subnets.filter((s) =>
        (s.Properties.Tags as Array<{ Key: string; Value: string }>).some(
          (t) => t.Key === 'aws-cdk:subnet-type' && t.Value === type,
        ),
      );
    expect(byType('Public')).toHaveLength(2);
    expect(byType('Private')).toHaveLength(2);
    expect(byType('Isolated')).toHaveLength(2);
    expect(new Set(subnets.map((s) => s.Properties.AvailabilityZone)).size).toBe(2);
  });

  it('creates as many NAT gateways as config asks', () => {
    prod.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('records all traffic in flow logs kept for the configured days', () => {
    prod.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    prod.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
    dev.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Delete' });
  });

  it('adds a free S3 gateway endpoint so image layers bypass NAT', () => {
    prod.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });
});

describe('image repository', () => {
  it('scans on push, keeps tags immutable, expires old images and is retained', () => {
    prod.hasResource('AWS::ECR::Repository', {
      Properties: {
        RepositoryName: 'fa-ai-system',
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"tagStatus":"untagged"') },
      },
      DeletionPolicy: 'Retain',
    });
    dev.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Retain' });
  });
});

describe('traffic weights store', () => {
  it('creates the weights parameter only when absent, from config, never overwriting', () => {
    const [seed] = Object.values(prod.findResources('Custom::AWS'));
    const create = JSON.parse(seed?.Properties.Create as string);
    expect(create).toMatchObject({
      service: 'SSM',
      action: 'putParameter',
      parameters: {
        Name: '/fa-ai-system/prod/traffic/weights',
        Type: 'StringList',
        Value: '100,0',
        Overwrite: false,
      },
      ignoreErrorCodesMatching: 'ParameterAlreadyExists',
    });
  });

  it('never rewrites or deletes the weights on update or delete', () => {
    const [seed] = Object.values(prod.findResources('Custom::AWS'));
    expect(seed?.Properties.Update).toBeUndefined();
    expect(seed?.Properties.Delete).toBeUndefined();
  });

  it('lets the seed function write that one parameter only', () => {
    prod.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'ssm:PutParameter',
            Effect: 'Allow',
            Resource: 'arn:aws:ssm:us-east-1:222222222222:parameter/fa-ai-system/prod/traffic/weights',
          },
        ],
      },
    });
  });
});

describe('stacks', () => {
  it('turns termination protection on in prod only', () => {
    const protectedStacks = synth.assembly.stacks
      .filter((s) => s.terminationProtection)
      .map((s) => s.stackName);
    expect(protectedStacks.sort()).toEqual(['fa-ai-system-prod-service', 'fa-ai-system-prod-stateful']);
  });

  it('makes the environment obvious in stack names, descriptions and cost tags', () => {
    const names = synth.assembly.stacks.map((s) => s.stackName).sort();
    expect(names).toEqual([
      'fa-ai-system-dev-service',
      'fa-ai-system-dev-stateful',
      'fa-ai-system-prod-service',
      'fa-ai-system-prod-stateful',
      'fa-ai-system-staging-service',
      'fa-ai-system-staging-stateful',
    ]);
    const prodStateful = synth.assembly.getStackByName('fa-ai-system-prod-stateful');
    expect(prodStateful.tags).toMatchObject({
      Environment: 'prod',
      Project: 'fa-ai-system',
      Component: 'infrastructure',
    });
    const serviceTags = synth.assembly.getStackByName('fa-ai-system-dev-service').tags;
    expect(serviceTags).toMatchObject({ Environment: 'dev' });
    expect(serviceTags).not.toHaveProperty('Component');
  });

  it('tags the batch Component=batch and the rest of the service stack Component=interactive', () => {
    const template = synth.templateJson('prod', 'service');
    const component = (id: string) =>
      (template.Resources[id].Properties.Tags as Array<{ Key: string; Value: string }>).find(
        (t) => t.Key === 'Component',
      )?.Value;
    const ids = (prefix: string, type: string) =>
      Object.entries(template.Resources as Record<string, { Type: string }>)
        .filter(([id, r]) => id.startsWith(prefix) && r.Type === type)
        .map(([id]) => id);
    for (const type of [
      'AWS::ECS::TaskDefinition',
      'AWS::StepFunctions::StateMachine',
      'AWS::Logs::LogGroup',
    ]) {
      for (const id of ids('Batch', type)) expect(component(id), id).toBe('batch');
    }
    for (const id of ids('Service', 'AWS::ECS::Service')) expect(component(id), id).toBe('interactive');
  });

  it('pins prod and staging to their accounts and deploys the service tier after the stateful one', () => {
    const service = synth.assembly.getStackByName('fa-ai-system-prod-service');
    expect(service.environment).toMatchObject({ account: '222222222222', region: 'us-east-1' });
    expect(service.dependencies.map((d) => d.id)).toContain('fa-ai-system-prod-stateful');
  });
});
