/**
 * The AWS the traffic-shift Lambda sees besides its ops table: the listener's weights, the
 * weights parameter, the gate alarms and the P1 topic, answering the commands the shift
 * code sends with the ARNs of its deployed environment.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Weights } from '../../core/traffic';

type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface TrafficWorld {
  listener: Weights;
  /** The SSM parameter's value, "<blue>,<green>". */
  parameter: string;
  readonly alarms: Map<string, AlarmState>;
  /** Every ModifyListener's weights that were applied, in order. */
  readonly listenerWrites: Weights[];
  /** ModifyListener calls, failed ones included. */
  listenerCalls: number;
  readonly published: Array<{ TopicArn?: string; Subject?: string; Message?: string }>;
  /** Runs before the n-th ModifyListener is applied; may throw to fail that call. */
  beforeListenerWrite?: (weights: Weights, n: number) => void;
  afterListenerWrite?: (weights: Weights, n: number) => Promise<void> | void;
}

/** A world with the given weights in both places and every alarm OK. */
export function trafficWorld(env: Readonly<Record<string, string>>, weights: Weights): TrafficWorld {
  const alarms = JSON.parse(env.ALARMS_JSON ?? '{}') as { p0: string; blue: string[]; green: string[] };
  return {
    listener: { ...weights },
    parameter: `${weights.blue},${weights.green}`,
    alarms: new Map([alarms.p0, ...alarms.blue, ...alarms.green].map((name) => [name, 'OK'])),
    listenerWrites: [],
    listenerCalls: 0,
    published: [],
  };
}

type Command = { constructor: { name: string }; input: any };

function client<T>(name: string, answers: Record<string, (input: any) => unknown>): T {
  return {
    send: async (command: Command) => {
      const answer = answers[command.constructor.name];
      if (!answer) throw new Error(`the fake ${name} does not answer ${command.constructor.name}`);
      return { $metadata: {}, ...((await answer(command.input)) as object) };
    },
  } as T;
}

/** The shift Lambda's clients, but its ops table's. */
export function trafficClients(world: TrafficWorld, env: Readonly<Record<string, string>>) {
  const blue = env.BLUE_TARGET_GROUP_ARN;
  const green = env.GREEN_TARGET_GROUP_ARN;
  const p0 = (JSON.parse(env.ALARMS_JSON ?? '{}') as { p0?: string }).p0;
  const listeners = () => ({
    Listeners: [
      {
        ListenerArn: env.LISTENER_ARN,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blue, Weight: world.listener.blue },
                { TargetGroupArn: green, Weight: world.listener.green },
              ],
            },
          },
        ],
      },
    ],
  });
  const alarm = (name: string) => ({
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:222222222222:alarm:${name}`,
    StateValue: world.alarms.get(name),
    StateReason: world.alarms.get(name) === 'ALARM' ? 'Threshold Crossed' : 'OK',
  });
  return {
    elbv2: client<ElasticLoadBalancingV2Client>('ELB', {
      DescribeListenersCommand: listeners,
      ModifyListenerCommand: async (input) => {
        const groups: Array<{ TargetGroupArn: string; Weight: number }> =
          input.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
        const weight = (arn: string | undefined) => groups.find((g) => g.TargetGroupArn === arn)?.Weight;
        const weights = { blue: weight(blue) ?? Number.NaN, green: weight(green) ?? Number.NaN };
        world.listenerCalls += 1;
        const n = world.listenerCalls;
        world.beforeListenerWrite?.(weights, n);
        world.listener = weights;
        world.listenerWrites.push(weights);
        await world.afterListenerWrite?.(weights, n);
        return listeners();
      },
    }),
    ssm: client<SSMClient>('SSM', {
      GetParameterCommand: (input) => ({
        Parameter: { Name: input.Name, Type: 'StringList', Value: world.parameter, Version: 1 },
      }),
      PutParameterCommand: (input) => {
        world.parameter = input.Value;
        return { Version: 2 };
      },
    }),
    cloudwatch: client<CloudWatchClient>('CloudWatch', {
      DescribeAlarmsCommand: (input) => {
        const names = (input.AlarmNames as string[]).filter((n) => world.alarms.has(n));
        return {
          MetricAlarms: names.filter((n) => n !== p0).map(alarm),
          CompositeAlarms: names.filter((n) => n === p0).map(alarm),
        };
      },
    }),
    sns: client<SNSClient>('SNS', {
      PublishCommand: (input) => {
        world.published.push(input);
        return { MessageId: `message-${world.published.length}` };
      },
    }),
  };
}
