/**
 * Runs the synthesized state machines in aws-local-stepfunctions: the definitions come from
 * the suite's shared synth of prod with every reference resolved to a fake account's values,
 * each Task state is bound to a local engine (the real Lambda handler, the dynalite ops
 * table, an SNS recorder, a fake ECS task), and no Wait or retry backoff waits.
 *
 * Errors reach the interpreter shaped as Step Functions raises them: a Lambda's as its
 * errorType with the JSON cause, a DynamoDB integration's as `DynamoDB.<exception>`, a task
 * timeout as the interpreter's own States.Timeout (which States.TaskFailed does not match).
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  ExecutionAbortedError,
  ExecutionError,
  type StateMachine as LocalStateMachine,
  StateMachine,
} from 'aws-local-stepfunctions';
import { stackName } from '../../lib/naming';
import { createResolver, type Resolver, type TemplateJson } from '../helpers/cfn-resolve';
import { dynaliteClientConfig } from '../helpers/dynalite';
import type { Synthesized } from '../helpers/synth';

export const ACCOUNT = '222222222222';
export const REGION = 'us-east-1';
const SERVICE_STACK = stackName('prod', 'service');

type Json = any;
export type Definition = { StartAt: string; States: Record<string, Json>; TimeoutSeconds?: number };

/** prod's state machines as deployed, and what their tasks need to be bound. */
export interface ProdMachines {
  readonly resolver: Resolver;
  readonly batch: Definition;
  readonly shift: Definition;
  /** The ops table's physical name, as the definitions and the Lambdas name it. */
  readonly opsTableName: string;
  /** The traffic-shift Lambda's ARN and environment, as deployed. */
  readonly shiftFunction: { readonly arn: string; readonly env: Readonly<Record<string, string>> };
}

let machines: ProdMachines | undefined;

/**
 * prod's state machines from the suite's shared synth, resolved once per worker. Test files
 * pass `await sharedSynth()` themselves: the sequencer runs files that name it last, once the
 * synth is done, instead of letting them hold a worker while it runs.
 */
export function prodMachines(synth: Synthesized): ProdMachines {
  machines ??= load(synth);
  return machines;
}

function load(synth: Synthesized): ProdMachines {
  const templates: Record<string, TemplateJson> = {};
  for (const tier of ['stateful', 'service'] as const) {
    const template = structuredClone(synth.templateJson('prod', tier)) as TemplateJson;
    // The resolver names a target group without a Name after its stack, cut to 32 characters,
    // which gives blue and green one ARN; their logical ids keep them apart.
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup' && resource.Properties) {
        resource.Properties.Name ??= id.slice(0, 32);
      }
    }
    templates[stackName('prod', tier)] = template;
  }
  const resolver = createResolver({ templates, account: ACCOUNT, region: REGION });
  const resources = templates[SERVICE_STACK]?.Resources ?? {};
  const definitionOf = (name: string): Definition => {
    const found = Object.values(resources).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties?.StateMachineName === name,
    );
    if (!found) throw new Error(`no state machine ${name} in ${SERVICE_STACK}`);
    return JSON.parse(resolver.resolve(SERVICE_STACK, found.Properties?.DefinitionString));
  };
  const batch = definitionOf('fa-ai-system-weekly-batch');
  const shift = definitionOf('fa-ai-system-traffic-shift');
  const shiftArn = taskStates(shift).find(([name]) => name === 'Begin')?.[1].Resource as string;
  const fn = resolver.resourceByArn(shiftArn);
  if (!fn) throw new Error(`the shift's Begin task calls ${shiftArn}, which is no resource of the templates`);
  const env = resolver.resolve(fn.stackName, resources[fn.logicalId]?.Properties?.Environment?.Variables);
  return {
    resolver,
    batch,
    shift,
    opsTableName: batch.States.RecordStart.Parameters.TableName,
    shiftFunction: { arn: shiftArn, env },
  };
}

/** Every Task state, Map item processors included, as [name, state]. */
export function taskStates(definition: Pick<Definition, 'States'>): Array<[string, Json]> {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    if (state.Type === 'Task') return [[name, state]];
    const inner = state.ItemProcessor ?? state.Iterator;
    if (state.Type === 'Map' && inner) return taskStates(inner);
    if (state.Type === 'Parallel') return state.Branches.flatMap((b: Definition) => taskStates(b));
    return [];
  });
}

function statesOf(definition: Pick<Definition, 'States'>): Array<[string, Json]> {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    const inner = state.ItemProcessor ?? state.Iterator;
    return [[name, state] as [string, Json], ...(inner ? statesOf(inner) : [])];
  });
}

/** An error as Step Functions names it: `name` is what Retry and Catch match. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** A Task's local implementation: gets the state's effective input (Parameters applied). */
export type TaskHandler = (input: Json) => Promise<Json> | Json;

/** The real handler behind a Lambda task: its result as JSON, its errors as Lambda's. */
export function lambdaTask(handler: (event: unknown) => Promise<unknown>): TaskHandler {
  return async (input) => {
    try {
      const result = await handler(input);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (error) {
      const e = error as Error;
      throw new TaskError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
    }
  };
}

/**
 * `client` with its own `send`, the SDK's: other test files stub the clients' prototype
 * `send` (aws-sdk-client-mock) in this worker's module cache, and a local engine's client
 * must reach the engine.
 */
export function unstubbed<T extends object>(client: T): T {
  // DynamoDBClient and DynamoDBDocumentClient both extend the SDK's Client directly.
  const sdkSend = Object.getPrototypeOf(Object.getPrototypeOf(client)).send as (
    ...args: unknown[]
  ) => unknown;
  Object.defineProperty(client, 'send', { value: sdkSend.bind(client) });
  return client;
}

/** A client of the local engine for the integrations and the test's reads, recording nothing. */
export async function engineDynamoDbClient(): Promise<DynamoDBClient> {
  return unstubbed(new DynamoDBClient(await dynaliteClientConfig()));
}

/** Every item of a local table, as plain values. */
export async function tableItems(client: DynamoDBClient, tableName: string): Promise<Json[]> {
  const { Items = [] } = await unstubbed(DynamoDBDocumentClient.from(client)).send(
    new ScanCommand({ TableName: tableName }),
  );
  return Items;
}

/**
 * The dynamodb:putItem and dynamodb:updateItem integrations on a local table: the
 * integration's Parameters are the API's request, sent as they are (table name aside).
 */
export function dynamoDbTasks(
  client: DynamoDBClient,
  tableName: { readonly deployed: string; readonly local: string },
): { putItem: TaskHandler; updateItem: TaskHandler } {
  const send = async (command: PutItemCommand | UpdateItemCommand) => {
    try {
      const { $metadata: _, ...output } = await client.send(command as PutItemCommand);
      return output as Json;
    } catch (error) {
      const e = error as Error;
      throw new TaskError(`DynamoDB.${e.name}`, e.message);
    }
  };
  const table = (input: Json) => {
    if (input.TableName !== tableName.deployed) {
      throw new TaskError('DynamoDB.ResourceNotFoundException', `unexpected table ${input.TableName}`);
    }
    return tableName.local;
  };
  return {
    putItem: (input) => send(new PutItemCommand({ ...input, TableName: table(input) })),
    updateItem: (input) => send(new UpdateItemCommand({ ...input, TableName: table(input) })),
  };
}

/** What an sns:publish integration was given. */
export interface Published {
  readonly TopicArn: string;
  readonly Subject?: string;
  /** The message, parsed when it is JSON (Step Functions sends an object Message as JSON). */
  readonly Message: Json;
}

/** An sns:publish integration that records each message. */
export function snsRecorder(): { publish: TaskHandler; published: Published[] } {
  const published: Published[] = [];
  return {
    published,
    publish: (input) => {
      published.push(structuredClone(input));
      return { MessageId: `message-${published.length}` };
    },
  };
}

/**
 * Binds every Task state of the definition by its Resource; a Task left unbound throws here
 * (the interpreter would call AWS Lambda over the network).
 */
export function bindTasks(
  definition: Definition,
  byResource: Readonly<Record<string, TaskHandler>>,
): Record<string, TaskHandler> {
  const bound: Record<string, TaskHandler> = {};
  for (const [name, state] of taskStates(definition)) {
    const handler = byResource[state.Resource];
    if (!handler) throw new Error(`Task ${name} (${state.Resource}) has no local binding`);
    bound[name] = handler;
  }
  return bound;
}

/** How an execution ended. */
export interface Outcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
}

/** A running execution. */
export interface Execution {
  readonly result: Promise<Outcome>;
  /** Stops the execution as StopExecution or the execution timeout does: no further state runs. */
  abort(): void;
}

export const EXECUTION_NAME = 'run-20270103T050000Z';
export const STATE_ENTERED_TIME = '2027-01-03T05:00:00.000Z';

/** The execution's ARN, as `$$.Execution.Id` gives it. */
export function executionArn(stateMachineName: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:execution:${stateMachineName}:${EXECUTION_NAME}`;
}

const compiled = new WeakMap<Definition, LocalStateMachine>();

/**
 * Step Functions starts no further iteration of a Map once one failed; the interpreter's
 * queue (MaxConcurrency) still starts the waiting ones, which would write weights after the
 * rollback. A Map runs its iterations on one StateMachine of its own, started with the root's
 * abort signal: once one of its runs fails, the next ones end at once without a state.
 */
function stopMapIterationsAfterAFailure(): void {
  const proto = StateMachine.prototype as unknown as { run: Run; __stopsFailedMaps?: true };
  if (proto.__stopsFailedMaps) return;
  const run = proto.run;
  const failed = new WeakSet<object>();
  proto.run = function (this: object, input, options) {
    if (!options?._rootAbortSignal) return run.call(this, input, options);
    if (failed.has(this)) {
      return {
        abort: () => undefined,
        eventLogs: (async function* () {})(),
        result: Promise.reject(new ExecutionAbortedError()),
      };
    }
    const execution = run.call(this, input, options);
    execution.result.catch(() => failed.add(this));
    return execution;
  };
  proto.__stopsFailedMaps = true;
}
type Run = (
  input: unknown,
  options?: { _rootAbortSignal?: AbortSignal },
) => { abort(): void; eventLogs: AsyncGenerator<unknown>; result: Promise<unknown> };

/** Starts the definition with zero waits and zero retry backoffs. */
export function start(
  definition: Definition,
  input: Json,
  options: { readonly tasks: Record<string, TaskHandler>; readonly stateMachineName: string },
): Execution {
  stopMapIterationsAfterAFailure();
  let machine = compiled.get(definition);
  if (!machine) {
    machine = new StateMachine(definition as never);
    compiled.set(definition, machine);
  }
  const states = statesOf(definition);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: options.tasks,
      waitTimeOverrides: Object.fromEntries(states.filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, 0])),
      retryIntervalOverrides: Object.fromEntries(states.filter(([, s]) => s.Retry).map(([n]) => [n, 0])),
    },
    context: {
      Execution: { Id: executionArn(options.stateMachineName), Name: EXECUTION_NAME },
      State: { EnteredTime: STATE_ENTERED_TIME },
      StateMachine: { Name: options.stateMachineName },
    },
  });
  const result = execution.result.then(
    (output): Outcome => ({ status: 'SUCCEEDED', output }),
    (error: unknown): Outcome => {
      if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
      if (error instanceof ExecutionError) {
        const cause = error.cause as Error;
        return { status: 'FAILED', error: cause.name, cause: cause.message };
      }
      throw error;
    },
  );
  return { result, abort: execution.abort };
}

let timeoutError: Promise<Error> | undefined;

/**
 * The interpreter's own States.Timeout error, as a Task state's TimeoutSeconds raises it
 * (got once from a 1 ms timeout): retriers and catchers must see the very class, since
 * States.TaskFailed matches every task error but this one.
 */
export function statesTimeout(): Promise<Error> {
  timeoutError ??= new StateMachine(
    {
      StartAt: 'Probe',
      States: {
        Probe: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:::function:probe',
          TimeoutSeconds: 0.001,
          End: true,
        },
      },
    } as never,
    { validationOptions: { noValidate: true } },
  )
    .run({}, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => undefined) } } })
    .result.then(
      () => {
        throw new Error('the probe did not time out');
      },
      (error: ExecutionError) => error.cause as Error,
    );
  return timeoutError;
}
