import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { appSettingsEnvironment, loadEnvironmentConfig } from '../../lib/config';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let dev: Template;

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'service');
  dev = synth.template('dev', 'service');
});

const prodConfig = loadEnvironmentConfig('prod');

describe('ECS cluster and services', () => {
  it("names the prod cluster exactly as the runbook's commands expect, with container insights", () => {
    prod.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'fa-ai-system-cluster',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('suffixes names with the environment outside prod', () => {
    dev.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'fa-ai-system-cluster-dev' });
    dev.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'fa-ai-system-blue-service-dev' });
    dev.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/fa-ai-system-blue-dev' });
  });

  it.each(['blue', 'green'] as const)(
    'runs the %s service on Fargate with circuit breaker and rollback',
    (colour) => {
      prod.hasResourceProperties('AWS::ECS::Service', {
        ServiceName: `fa-ai-system-${colour}-service`,
        LaunchType: 'FARGATE',
        DeploymentConfiguration: {
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
        },
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
      });
    },
  );

  it('leaves DesiredCount out of every service, so that a deploy keeps the live task count', () => {
    for (const env of ['dev', 'staging', 'prod'] as const) {
      const services = synth.template(env, 'service').findResources('AWS::ECS::Service');
      expect(Object.keys(services)).toHaveLength(2);
      for (const service of Object.values(services)) {
        expect(service.Properties).not.toHaveProperty('DesiredCount');
      }
    }
  });

  it.each([
    ['blue', 2],
    ['green', 1],
  ] as const)(
    "sets the %s service's config count (%i) once, when the service is created",
    (colour, count) => {
      const [serviceId] = Object.keys(
        prod.findResources('AWS::ECS::Service', {
          Properties: { ServiceName: `fa-ai-system-${colour}-service` },
        }),
      );
      const seeds = Object.values(prod.findResources('Custom::AWS')).filter((r) =>
        JSON.stringify(r.Properties?.Create).includes(`"Fn::GetAtt":["${serviceId}","Name"]`),
      );
      expect(seeds).toHaveLength(1);
      const seed = seeds[0];
      // Tokens (the cluster's and the service's names) become placeholders: the call is JSON.
      const parts = (seed?.Properties?.Create?.['Fn::Join']?.[1] ?? []) as unknown[];
      const create = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
      expect(create).toMatchObject({
        service: 'ECS',
        action: 'updateService',
        parameters: { desiredCount: count },
      });
      expect(seed?.Properties).not.toHaveProperty('Update');
      expect(seed?.Properties).not.toHaveProperty('Delete');
      expect(prodConfig.service[colour].desiredCount).toBe(count);
    },
  );

  it('gives each colour its own task definition with its image tag, size and ARM64', () => {
    for (const colour of ['blue', 'green'] as const) {
      prod.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Family: `fa-ai-system-${colour}`,
        Cpu: '512',
        Memory: '1024',
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
        ContainerDefinitions: [
          Match.objectLike({
            Name: 'app',
            Image: Match.objectLike({
              'Fn::Join': Match.arrayWith([Match.arrayWith([`:${prodConfig.service[colour].imageTag}`])]),
            }),
            PortMappings: [{ ContainerPort: 8000, Protocol: 'tcp' }],
          }),
        ],
      });
    }
  });

  it('passes the runbook settings to the containers as environment', () => {
    prod.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'fa-ai-system-blue',
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'BATCH_MAX_CONCURRENCY', Value: '100' },
            { Name: 'EMBEDDING_CACHE_TTL', Value: '604800' },
            { Name: 'SERVICE_COLOUR', Value: 'blue' },
          ]),
        }),
      ],
    });
  });

  it("gives every task the app runs (both colours and the batch) the detector's and router's settings", () => {
    const expected = appSettingsEnvironment('prod', prodConfig.app);
    // Every task definition but the database dump's (postgres and AWS CLI images, no app).
    const tasks = Object.values(prod.findResources('AWS::ECS::TaskDefinition')).filter(
      (t) => t.Properties.Family !== 'fa-ai-system-db-backup',
    );
    expect(tasks).toHaveLength(3);
    for (const task of tasks) {
      const env = Object.fromEntries(
        (task.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[]).map(
          (e) => [e.Name, e.Value],
        ),
      );
      for (const name of ['HALLUCINATION_LAYER_WEIGHTS', 'HALLUCINATION_RISK_THRESHOLDS', 'MODEL_ROUTING']) {
        expect(env[name], `${task.Properties.Family} ${name}`).toBe(expected[name]);
      }
    }
  });

  it('ships JSON logs of each colour to /ecs/fa-ai-system-<colour> without blocking the app', () => {
    prod.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'fa-ai-system-green',
      ContainerDefinitions: [
        Match.objectLike({
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: Match.objectLike({ 'awslogs-stream-prefix': 'green', mode: 'non-blocking' }),
          },
          Environment: Match.arrayWith([{ Name: 'LOG_FORMAT', Value: 'json' }]),
        }),
      ],
    });
  });

  it('keeps service logs for the configured retention and retains them in prod', () => {
    for (const colour of ['blue', 'green']) {
      prod.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: `/ecs/fa-ai-system-${colour}`, RetentionInDays: 365 },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    dev.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/ecs/fa-ai-system-green-dev', RetentionInDays: 14 },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('autoscaling', () => {
  it('bounds each colour by its configured min and max', () => {
    prod.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    prod.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 10,
    });
    expect(Object.keys(prod.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))).toHaveLength(2);
  });

  it.each([
    ['ECSServiceAverageCPUUtilization', 70],
    ['ECSServiceAverageMemoryUtilization', 75],
    ['ALBRequestCountPerTarget', 1000],
  ])('tracks %s at %d for both colours', (metric, target) => {
    const policies = prod.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', {
      Properties: {
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: metric },
          TargetValue: target,
        },
      },
    });
    expect(Object.keys(policies)).toHaveLength(2);
  });
});

describe('load balancer', () => {
  it('is internet-facing, drops invalid headers and is deletion-protected in prod', () => {
    prod.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'deletion_protection.enabled', Value: 'true' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  it('terminates TLS 1.2+ with the configured certificate', () => {
    prod.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: prodConfig.tls.certificateArn }],
    });
  });

  it('redirects HTTP to HTTPS permanently', () => {
    prod.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  it('forwards to blue and green by the weights read from the SSM parameter at deploy time', () => {
    const listeners = prod.findResources('AWS::ElasticLoadBalancingV2::Listener', {
      Properties: { Port: 443 },
    });
    const [listener] = Object.values(listeners);
    const targetGroups = listener?.Properties.DefaultActions[0].ForwardConfig.TargetGroups;
    expect(targetGroups).toEqual([
      {
        TargetGroupArn: { Ref: expect.stringMatching(/^ServiceBlueTargetGroup/) },
        Weight: { 'Fn::Select': [0, { Ref: 'TrafficWeightsParameter' }] },
      },
      {
        TargetGroupArn: { Ref: expect.stringMatching(/^ServiceGreenTargetGroup/) },
        Weight: { 'Fn::Select': [1, { Ref: 'TrafficWeightsParameter' }] },
      },
    ]);
  });

  it('declares the weights parameter as an SSM StringList resolved by CloudFormation', () => {
    prod.templateMatches({
      Parameters: {
        TrafficWeightsParameter: {
          Type: 'AWS::SSM::Parameter::Value<List<String>>',
          Default: '/fa-ai-system/prod/traffic/weights',
        },
      },
    });
  });

  it('serves plain HTTP with the weighted forward in dev, where config opts in', () => {
    dev.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    expect(
      dev.findResources('AWS::ElasticLoadBalancingV2::Listener', { Properties: { Protocol: 'HTTPS' } }),
    ).toEqual({});
  });

  it('health-checks both target groups on /health', () => {
    const groups = prod.findResources('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Properties: { HealthCheckPath: '/health', Matcher: { HttpCode: '200' }, TargetType: 'ip', Port: 8000 },
    });
    expect(Object.keys(groups)).toHaveLength(2);
  });

  it('admits the internet on 443 and 80 only, and the tasks admit only the ALB', () => {
    prod.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Public ALB'),
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 80, ToPort: 80 }),
      ],
    });
    const serviceIngress = Object.values(prod.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (rule) => JSON.stringify(rule.Properties.GroupId).includes('ServiceServiceSecurityGroup'),
    );
    for (const rule of serviceIngress) {
      expect(rule.Properties.CidrIp).toBeUndefined();
      expect(rule.Properties.FromPort).toBe(8000);
      expect(rule.Properties.SourceSecurityGroupId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^ServiceAlbSecurityGroup/), 'GroupId'],
      });
    }
    expect(serviceIngress.length).toBeGreaterThan(0);
  });

  it('writes access logs to an encrypted, private, TLS-only bucket', () => {
    prod.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    prod.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('outputs', () => {
  it('exposes blue_weight and green_weight (alphanumeric in CloudFormation) and the ALB DNS name', () => {
    prod.hasOutput('BlueWeight', { Value: { 'Fn::Select': [0, { Ref: 'TrafficWeightsParameter' }] } });
    prod.hasOutput('GreenWeight', { Value: { 'Fn::Select': [1, { Ref: 'TrafficWeightsParameter' }] } });
    prod.hasOutput('LoadBalancerDnsName', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceLoadBalancer'), 'DNSName'] },
    });
  });
});
