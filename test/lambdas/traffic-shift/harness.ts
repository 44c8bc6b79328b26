/**
 * Mocked AWS clients of the traffic code backed by a small in-memory world (listener weights,
 * the SSM parameter, alarm states), so that a write is seen by the next read; plus a round-trip
 * depth tracker and silent observability.
 *
 * The ops table: {@link resetEngine} puts it on the real engine (test/helpers/dynalite: the
 * engine decides every condition, update and query; faults are injected with its hooks) and
 * {@link engineClients} are the clients to use with it. The traffic Lambdas' and shared tests
 * use that. {@link resetWorld} alone keeps the older hand-written fake of the table for the
 * files still on it (test/fault-matrix, test/ops, bench): it evaluates the condition expressions the code uses (attribute_not_exists,
 * =, <, AND, OR) and the SET updates, and answers a failed condition the way DynamoDB does
 * (ConditionalCheckFailedException, the old item in attribute-value form when asked).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ALARM_ENTRIES } from '../../../core/alarms/catalogue';
import { alarmFactsDocument } from '../../../core/alarms/facts';
import { type TrafficShiftValues, trafficShiftContract } from '../../../core/contracts/traffic';
import {
  type TrafficRollbackValues,
  trafficRollbackContract,
} from '../../../core/contracts/traffic-rollback';
import { OPS_TABLE_TRANSLATE_CONFIG } from '../../../core/ops-table/items';
import type { TrafficConfig, Weights } from '../../../core/traffic';
import { automationSettings, scheduleCreated } from '../../helpers/automation';
import { awsError, metricValue, observability, RoundTripTracker } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import { createOpsTable, type EngineCall, type LocalOpsTable } from '../../helpers/dynalite';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '222222222222';
export const LISTENER_ARN = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:listener/app/fa-ai-system-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`;
export const BLUE_TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/fa-ai-system-blue/73e2d6bc24d8a067`;
export const GREEN_TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/fa-ai-system-green/2453ed029918f21f`;
export const WEIGHTS_PARAMETER = '/fa-ai-system/prod/traffic/weights';
export const OPS_TABLE = 'fa-ai-system-prod-ops';
export const SHIFT_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:fa-ai-system-traffic-shift`;
export const ALERT_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p1`;
export const P0_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:fa-ai-system-prod-alerts-p0`;
export const ALARMS = {
  p0: 'fa-ai-system-prod-p0',
  blue: ['fa-ai-system-prod-blue-5xx', 'fa-ai-system-prod-blue-p95'],
  green: ['fa-ai-system-prod-green-5xx', 'fa-ai-system-prod-green-p95'],
};

export function executionArn(name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT_ID}:execution:fa-ai-system-traffic-shift:${name}`;
}

export const CONFIG: TrafficConfig = {
  environment: 'prod',
  listenerArn: LISTENER_ARN,
  targetGroups: { blue: BLUE_TG, green: GREEN_TG },
  weightsParameter: WEIGHTS_PARAMETER,
  opsTable: OPS_TABLE,
  shiftStateMachineArn: SHIFT_STATE_MACHINE_ARN,
  alertTopicArn: ALERT_TOPIC_ARN,
};

/** What the stack gives both traffic Lambdas (trafficShiftContract's values). */
export const SHIFT_VALUES: TrafficShiftValues = {
  environment: 'prod',
  listenerArn: LISTENER_ARN,
  blueTargetGroupArn: BLUE_TG,
  greenTargetGroupArn: GREEN_TG,
  weightsParameter: WEIGHTS_PARAMETER,
  opsTableName: OPS_TABLE,
  alertTopicArn: ALERT_TOPIC_ARN,
  alarms: ALARMS,
  // The pause, repeat guard and verification (core/automation).
  automation: automationSettings(OPS_TABLE),
};

/** The shift Lambda's environment as the stack sets it (the contract's serializer). */
export const ENV: Readonly<Record<string, string>> = {
  ...trafficShiftContract.serialize(SHIFT_VALUES),
  // Present in every Lambda environment; must be ignored.
  AWS_REGION: REGION,
};

/**
 * The rollback Lambda's environment as the stack sets it: the shift's variables, prod's windows
 * unless `windows` says otherwise, and the catalogue's alarm facts.
 */
export function rollbackEnv(
  windows: Partial<
    Pick<TrafficRollbackValues, 'windowMinutes' | 'cooldownMinutes' | 'maxEventAgeMinutes'>
  > = {},
): Readonly<Record<string, string>> {
  return {
    ...trafficRollbackContract.serialize({
      ...SHIFT_VALUES,
      shiftStateMachineArn: SHIFT_STATE_MACHINE_ARN,
      windowMinutes: 60,
      cooldownMinutes: 30,
      maxEventAgeMinutes: 15,
      alarmFacts: alarmFactsDocument('fa-ai-system-prod-', ALARM_ENTRIES),
      ...windows,
    }),
    AWS_REGION: REGION,
  };
}

/** The rollback Lambda's environment with prod's windows. */
export const ROLLBACK_ENV = rollbackEnv();

export const mocks = {
  elbv2: mockClient(ElasticLoadBalancingV2Client),
  ssm: mockClient(SSMClient),
  ddb: mockClient(DynamoDBDocumentClient),
  sfn: mockClient(SFNClient),
  sns: mockClient(SNSClient),
  cloudwatch: mockClient(CloudWatchClient),
  scheduler: mockClient(SchedulerClient),
};

export const clients = {
  elbv2: testClient(ElasticLoadBalancingV2Client, { region: REGION }),
  ssm: testClient(SSMClient, { region: REGION }),
  ddb: DynamoDBDocumentClient.from(
    testClient(DynamoDBClient, { region: REGION }),
    OPS_TABLE_TRANSLATE_CONFIG,
  ),
  sfn: testClient(SFNClient, { region: REGION }),
  sns: testClient(SNSClient, { region: REGION }),
  cloudwatch: testClient(CloudWatchClient, { region: REGION }),
  scheduler: testClient(SchedulerClient, { region: REGION }),
};

type Item = Record<string, unknown>;

/** The state the mocks read and write. */
export interface World {
  /** The listener's default forward weights. */
  listener: Weights;
  /** The weights parameter's value, or undefined when it does not exist. */
  parameter: string | undefined;
  /** Other SSM parameters by name. */
  otherParameters: Map<string, string>;
  /** Ops table items by "pk|sk". */
  items: Map<string, Item>;
  /** Alarm states by name (absent: the alarm does not exist). */
  alarms: Map<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>;
}

export const world: World = {
  listener: { blue: 100, green: 0 },
  parameter: '100,0',
  otherParameters: new Map(),
  items: new Map(),
  alarms: new Map(),
};

const keyOf = (key: { pk?: unknown; sk?: unknown }) => `${String(key.pk)}|${String(key.sk)}`;

export function item(pk: string, sk: string): Item | undefined {
  return world.items.get(`${pk}|${sk}`);
}

export function putItem(value: Item): void {
  world.items.set(keyOf(value), structuredClone(value));
}

/** The audit items, oldest first. */
export function auditItems(): Item[] {
  return [...world.items.values()]
    .filter((i) => i.pk === 'AUDIT')
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
}

/** What {@link resetWorld} sets up. */
export interface WorldSetup {
  readonly listener?: Weights;
  /** The parameter's value; null: the parameter does not exist. @default the listener's */
  readonly parameter?: string | null;
  readonly items?: readonly Item[];
  /** Other SSM parameters by name. */
  readonly otherParameters?: Readonly<Record<string, string>>;
  readonly alarms?: Readonly<Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>>;
  readonly tracker?: RoundTripTracker;
}

/** Resets every mock and the world; all calls succeed against the world. */
export function resetWorld(setup: WorldSetup = {}): void {
  for (const mock of Object.values(mocks)) mock.reset();
  world.listener = { ...(setup.listener ?? { blue: 100, green: 0 }) };
  world.parameter =
    setup.parameter === null
      ? undefined
      : (setup.parameter ?? `${world.listener.blue},${world.listener.green}`);
  world.otherParameters = new Map(Object.entries(setup.otherParameters ?? {}));
  world.items = new Map();
  for (const i of setup.items ?? []) putItem(i);
  world.alarms = new Map(
    Object.entries(
      setup.alarms ?? Object.fromEntries([ALARMS.p0, ...ALARMS.blue, ...ALARMS.green].map((n) => [n, 'OK'])),
    ),
  );
  const track = <I, O>(command: string, fn: (input: I) => O) =>
    setup.tracker
      ? (input: I) => (setup.tracker as RoundTripTracker).track(command, () => fn(input))
      : async (input: I) => fn(input);
  const meta = { $metadata: {} };

  mocks.elbv2.on(DescribeListenersCommand).callsFake(track('DescribeListeners', () => describeListeners()));
  mocks.elbv2.on(ModifyListenerCommand).callsFake(
    track('ModifyListener', (input: { DefaultActions?: any[] }) => {
      const groups = input.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
      world.listener = {
        blue: groups.find((g: any) => g.TargetGroupArn === BLUE_TG)?.Weight,
        green: groups.find((g: any) => g.TargetGroupArn === GREEN_TG)?.Weight,
      };
      return { ...meta, Listeners: describeListeners().Listeners };
    }),
  );
  mocks.ssm.on(GetParameterCommand).callsFake(
    track('GetParameter', (input: { Name?: string }) => {
      const weights = input.Name === WEIGHTS_PARAMETER;
      const value = weights ? world.parameter : world.otherParameters.get(input.Name ?? '');
      if (value === undefined) {
        // What SSM answers: the exception's message is empty.
        throw awsError('ParameterNotFound', '');
      }
      return {
        ...meta,
        Parameter: {
          Name: input.Name,
          Type: weights ? 'StringList' : 'String',
          Value: value,
          Version: 4,
          LastModifiedDate: new Date('2026-11-20T09:00:00.000Z'),
          ARN: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${input.Name}`,
          DataType: 'text',
        },
      };
    }),
  );
  mocks.ssm.on(PutParameterCommand).callsFake(
    track('PutParameter', (input: { Name?: string; Value?: string }) => {
      if (input.Name === WEIGHTS_PARAMETER) world.parameter = input.Value;
      else world.otherParameters.set(input.Name ?? '', input.Value ?? '');
      return { ...meta, Version: 5, Tier: 'Standard' };
    }),
  );
  mocks.ddb.on(GetCommand).callsFake(
    track('GetItem', (input: { Key: Item }) => {
      const found = world.items.get(keyOf(input.Key));
      return { ...meta, Item: found && structuredClone(found) };
    }),
  );
  mocks.ddb.on(PutCommand).callsFake(
    track('PutItem', (input: any) => {
      const old = world.items.get(keyOf(input.Item));
      checkCondition(input, old);
      world.items.set(keyOf(input.Item), structuredClone(input.Item));
      return meta;
    }),
  );
  mocks.ddb.on(UpdateCommand).callsFake(
    track('UpdateItem', (input: any) => {
      const old = world.items.get(keyOf(input.Key));
      checkCondition(input, old);
      const next = applySet(structuredClone(old ?? { ...input.Key }), input);
      world.items.set(keyOf(input.Key), next);
      return { ...meta, Attributes: input.ReturnValues === 'ALL_NEW' ? structuredClone(next) : undefined };
    }),
  );
  mocks.ddb.on(DeleteCommand).callsFake(
    track('DeleteItem', (input: any) => {
      const old = world.items.get(keyOf(input.Key));
      checkCondition(input, old);
      world.items.delete(keyOf(input.Key));
      return meta;
    }),
  );
  mocks.ddb.on(TransactWriteCommand).callsFake(
    track('TransactWriteItems', (input: any) => {
      const puts = (input.TransactItems ?? []).map((t: any) => t.Put);
      for (const put of puts) checkCondition(put, world.items.get(keyOf(put.Item)));
      for (const put of puts) world.items.set(keyOf(put.Item), structuredClone(put.Item));
      return meta;
    }),
  );
  mocks.ddb.on(QueryCommand).callsFake(
    track('Query', (input: any) => {
      const values = input.ExpressionAttributeValues ?? {};
      const matching = [...world.items.values()]
        .filter((i) => i.pk === values[':pk'])
        .filter((i) => values[':since'] === undefined || String(i.sk) >= values[':since'])
        .sort(
          (a, b) => String(a.sk).localeCompare(String(b.sk)) * (input.ScanIndexForward === false ? -1 : 1),
        );
      return { ...meta, Items: structuredClone(matching.slice(0, input.Limit ?? matching.length)) };
    }),
  );
  mocks.cloudwatch.on(DescribeAlarmsCommand).callsFake(
    track('DescribeAlarms', (input: { AlarmNames?: string[] }) => {
      const found = (input.AlarmNames ?? []).filter((n) => world.alarms.has(n));
      const alarm = (name: string) => ({
        AlarmName: name,
        AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${name}`,
        StateValue: world.alarms.get(name),
        StateReason:
          'Threshold Crossed: 1 datapoint [12.0 (25/11/26 04:10:00)] was greater than the threshold (5.0).',
        StateUpdatedTimestamp: new Date('2026-11-25T04:10:00.000Z'),
        ActionsEnabled: true,
      });
      return {
        ...meta,
        MetricAlarms: found.filter((n) => n !== ALARMS.p0).map(alarm),
        CompositeAlarms: found
          .filter((n) => n === ALARMS.p0)
          .map((n) => ({ ...alarm(n), AlarmRule: ALARMS.green.map((g) => `ALARM("${g}")`).join(' OR ') })),
      };
    }),
  );
  mocks.sfn
    .on(StopExecutionCommand)
    .callsFake(track('StopExecution', () => ({ ...meta, stopDate: new Date('2026-11-25T04:12:36.000Z') })));
  mocks.sns.on(PublishCommand).callsFake(track('Publish', () => ({ ...meta, MessageId: 'published-1' })));
  mocks.scheduler.on(CreateScheduleCommand).callsFake(track('CreateSchedule', scheduleCreated));
}

// ---------------------------------------------------------------------------------------------
// The ops table on the real engine

let table: LocalOpsTable | undefined;
let sentToEngine: EngineCall[] = [];

/** The calls the code under test made to the engine since {@link resetEngine}. */
export function engineCalls(): readonly EngineCall[] {
  return sentToEngine;
}

/**
 * Resets the mocks and the world like {@link resetWorld}, except that the ops table is a fresh
 * table of the real engine named OPS_TABLE, seeded with `setup.items`. The hand fake then
 * refuses every call, so a test still using `clients.ddb` fails instead of passing on the fake.
 */
export async function resetEngine(setup: WorldSetup = {}): Promise<LocalOpsTable> {
  resetWorld({ ...setup, items: [] });
  mocks.ddb.reset();
  mocks.ddb.rejects(new Error('This test runs on the engine: use engineClients(), not clients'));
  table = await createOpsTable(OPS_TABLE, { replace: true });
  await table.seed(...(setup.items ?? []));
  const calls: EngineCall[] = [];
  sentToEngine = calls;
  table.intercept((call, next) => {
    calls.push(call);
    return next();
  });
  const { tracker } = setup;
  if (tracker) table.intercept((call, next) => tracker.track(call.command, next));
  return table;
}

/** The engine's table of the current test. */
export function engine(): LocalOpsTable {
  if (table === undefined) throw new Error('resetEngine() first');
  return table;
}

/** The traffic clients with the ops table on the engine. */
export function engineClients(): typeof clients {
  return { ...clients, ddb: engine().ddb };
}

/** An item of the engine's table. */
export function stored(pk: string, sk: string): Promise<Item | undefined> {
  return engine().item(pk, sk);
}

/** The engine's audit items, oldest first. */
export async function storedAudit(): Promise<Item[]> {
  return (await engine().items()).filter((i) => i.pk === 'AUDIT');
}

/** The engine's items other than audit entries (what a write that "changes nothing" must keep). */
export async function storedState(): Promise<Item[]> {
  return (await engine().items()).filter((i) => i.pk !== 'AUDIT');
}

function describeListeners() {
  return {
    $metadata: {},
    Listeners: [
      {
        ListenerArn: LISTENER_ARN,
        LoadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:loadbalancer/app/fa-ai-system-alb/50dc6c495c0c9188`,
        Port: 443,
        Protocol: 'HTTPS' as const,
        Certificates: [
          {
            CertificateArn: `arn:aws:acm:${REGION}:${ACCOUNT_ID}:certificate/3f8e2a6c-1b7d-4e9a-8c2f-5d6e7f8a9b0c`,
          },
        ],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        DefaultActions: [
          {
            Type: 'forward' as const,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: BLUE_TG, Weight: world.listener.blue },
                { TargetGroupArn: GREEN_TG, Weight: world.listener.green },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// A small evaluator of the condition expressions the code uses

function resolveName(token: string, input: any): string {
  return token.startsWith('#') ? input.ExpressionAttributeNames[token] : token;
}

function evaluate(expression: string, input: any, old: Item | undefined): boolean {
  return expression.split(/\s+OR\s+/).some((disjunct) =>
    disjunct.split(/\s+AND\s+/).every((term) => {
      const t = term.trim();
      const notExists = /^attribute_not_exists\((\S+)\)$/.exec(t);
      if (notExists)
        return old === undefined || old[resolveName(notExists[1] as string, input)] === undefined;
      const comparison = /^(\S+)\s*(=|<)\s*(:\S+)$/.exec(t);
      if (!comparison) throw new Error(`The fake cannot evaluate "${t}"`);
      if (old === undefined) return false;
      const left = old[resolveName(comparison[1] as string, input)];
      const right = input.ExpressionAttributeValues[comparison[3] as string];
      if (left === undefined) return false;
      return comparison[2] === '='
        ? JSON.stringify(left) === JSON.stringify(right)
        : (left as number) < right;
    }),
  );
}

function checkCondition(input: any, old: Item | undefined): void {
  if (input.ConditionExpression === undefined) return;
  if (evaluate(input.ConditionExpression, input, old)) return;
  throw new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    Item: input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? toAttributeValues(old) : undefined,
  });
}

function applySet(target: Item, input: any): Item {
  const match = /^SET\s+(.*)$/.exec(input.UpdateExpression);
  if (!match) throw new Error(`The fake cannot apply "${input.UpdateExpression}"`);
  for (const assignment of (match[1] as string).split(/,\s*/)) {
    const [path, value] = assignment.split(/\s*=\s*/) as [string, string];
    const names = path.split('.').map((p) => resolveName(p, input));
    let node: any = target;
    for (const name of names.slice(0, -1)) node = node[name] ??= {};
    node[names[names.length - 1] as string] = structuredClone(input.ExpressionAttributeValues[value]);
  }
  return target;
}

function toAttributeValues(value: Item): Record<string, any> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toAttributeValue(v)]));
}

function toAttributeValue(value: unknown): any {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttributeValue) };
  if (value !== null && typeof value === 'object') return { M: toAttributeValues(value as Item) };
  return { NULL: true };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A LAST_SHIFT item. */
export function lastShiftItem(overrides: Record<string, unknown> = {}): Item {
  return {
    pk: 'TRAFFIC',
    sk: 'LAST_SHIFT',
    executionArn: executionArn('to-green-1'),
    to: 'green',
    from: { blue: 100, green: 0 },
    plan: [
      { blue: 90, green: 10 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ],
    startedAt: '2026-11-25T03:40:00.000Z',
    status: 'completed',
    completedAt: '2026-11-25T04:00:00.000Z',
    final: { blue: 0, green: 100 },
    requestedBy: 'alice',
    ...overrides,
  };
}

/** A SHIFT_LOCK item. */
export function lockItem(overrides: Record<string, unknown> = {}): Item {
  return {
    pk: 'TRAFFIC',
    sk: 'SHIFT_LOCK',
    executionArn: executionArn('to-green-1'),
    to: 'green',
    acquiredAt: '2026-11-25T03:40:00.000Z',
    expiresAt: Math.floor(Date.parse('2026-11-25T03:40:00.000Z') / 1000) + 6 * 3600,
    ...overrides,
  };
}

/** A ROLLBACK item. */
export function rollbackItem(overrides: Record<string, unknown> = {}): Item {
  return {
    pk: 'TRAFFIC',
    sk: 'ROLLBACK',
    at: '2026-11-25T04:00:00.000Z',
    by: 'traffic-rollback',
    reason: 'P0 alarm fa-ai-system-prod-p0 in ALARM',
    restored: { blue: 100, green: 0 },
    source: 'traffic-rollback',
    ...overrides,
  };
}

/** A silent logger for logic tests. */
export const SILENT = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

export { awsError, metricValue, observability, RoundTripTracker };
