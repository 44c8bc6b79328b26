/**
 * aws-sdk-client-mock, with every command a mocked client is sent kept for the permission
 * check: a handler test that sends a command its function's declaration lacks fails (see
 * test/iam/declared-calls). Tests import mockClient from here, never from the library.
 *
 * The library replaces `send`, which would skip the SDK's middleware and so its retries (the
 * only retries the code has: core/aws-clients.ts). Here the mock answers from inside
 * the client's own retry middleware instead: a mock that rejects with ThrottlingException once
 * is retried by the client's real strategy, as the service's answer would be.
 */
import { constructStack } from '@smithy/core/client';
import { getRetryPlugin } from '@smithy/core/retry';
import type { MetadataBearer } from '@smithy/types';
import { mockClient as libraryMockClient } from 'aws-sdk-client-mock';

export * from 'aws-sdk-client-mock';

/** One command a client was sent: the client's class, the command's class and its input. */
export interface SentCommand {
  readonly client: string;
  readonly command: string;
  readonly input: Record<string, unknown>;
  /** Sinon's call number, when a mock answered it. */
  readonly callId?: number;
}

interface SinonCall {
  readonly args: readonly unknown[];
  /** Sinon's global call sequence number. */
  readonly callId: number;
}
interface SinonStubLike {
  getCalls(): SinonCall[];
}

const sent: SentCommand[] = [];
const harvested = new WeakSet<object>();
const stubs = new Set<{ clientName: string; send: () => SinonStubLike }>();

/** Calls numbered at or below this were made before the current record started. */
let since = -1;

function harvest(clientName: string, stub: SinonStubLike | undefined): void {
  if (!stub || typeof stub.getCalls !== 'function') return;
  for (const call of stub.getCalls()) {
    if (harvested.has(call) || call.callId <= since) continue;
    harvested.add(call);
    const command = call.args[0] as { constructor: { name: string }; input?: unknown } | undefined;
    if (!command) continue;
    sent.push({
      client: clientName,
      command: command.constructor.name,
      input: (command.input ?? {}) as Record<string, unknown>,
      callId: call.callId,
    });
  }
}

type MockClient = typeof libraryMockClient;

interface Sendable {
  /** The client's resolved configuration: its retry strategy and attempts. */
  readonly config: Parameters<typeof getRetryPlugin>[0];
}
type Send = (this: Sendable, command: { input?: unknown }, ...rest: unknown[]) => Promise<unknown>;
/** The send the client gets: the stub behind the client's retry middleware. */
type RetryingSend = Send & { readonly stub: SinonStubLike & { restore(): void } };

/**
 * The SDK's retry middleware, as the client installs it (getRetryPlugin of its own config, so its
 * own strategy), and nothing else: no serializing, signing or HTTP.
 */
function retriesOf(client: Sendable) {
  const stack = constructStack<object, MetadataBearer>();
  stack.use(getRetryPlugin(client.config));
  return stack;
}

function retrying(stub: SinonStubLike & { restore(): void }): RetryingSend {
  const send: Send = function (command, ...rest) {
    let answer: unknown;
    const handler = retriesOf(this).resolve(
      async () => {
        answer = await (stub as unknown as Send).call(this, command, ...rest);
        // What the retry middleware records its attempts on; the caller gets the mock's answer.
        return { output: { $metadata: {} }, response: {} };
      },
      { commandName: command.constructor.name },
    );
    return handler({ input: command.input ?? {} }).then(() => answer);
  };
  return Object.assign(send, { stub });
}

function isRetrying(send: unknown): send is RetryingSend {
  return typeof send === 'function' && 'stub' in send;
}

/** aws-sdk-client-mock's mockClient, answering behind the client's retries; the commands the stub answers are recorded. */
export const mockClient: MockClient = (client, options) => {
  const target = client as unknown as { send?: unknown; prototype?: object };
  const instance = (target.send !== undefined ? target : target.prototype) as {
    send?: unknown;
    constructor: { name: string };
  };
  type Stub = SinonStubLike & { restore(): void };
  // The library's stub, unwrapped, so that the library sees (and replaces or restores) its own.
  const unwrap = (): void => {
    if (isRetrying(instance.send)) {
      harvest(instance.constructor.name, instance.send.stub);
      instance.send.stub.restore();
    }
  };
  const wrap = (libraryStub: Stub): void => {
    Object.defineProperty(instance, 'send', {
      value: retrying(libraryStub),
      writable: true,
      configurable: true,
    });
  };
  // Mocking a class again replaces its stub: keep what the old one answered.
  unwrap();
  harvest(instance.constructor.name, instance.send as SinonStubLike | undefined);
  const stub = libraryMockClient(client, options);
  wrap(stub.send as unknown as Stub);
  const clientName = stub.clientName();
  const sendOf = () => stub.send as unknown as SinonStubLike;
  for (const method of ['reset', 'resetHistory', 'restore'] as const) {
    const original = stub[method].bind(stub);
    Object.assign(stub, {
      [method]: () => {
        harvest(clientName, sendOf());
        if (method === 'resetHistory') return original();
        // reset() stubs anew (through the library's mockClient) and restore() puts the SDK's back.
        unwrap();
        const result = original();
        if (method === 'reset') wrap(stub.send as unknown as Stub);
        return result;
      },
    });
  }
  stubs.add({ clientName, send: sendOf });
  return stub;
};

/** Records a command a real client sent (a local engine's client records through this). */
export function recordSent(command: SentCommand): void {
  sent.push(command);
}

/** Every command recorded so far, and clears the record. */
export function takeSentCommands(): SentCommand[] {
  for (const s of stubs) harvest(s.clientName, s.send());
  const taken = sent.splice(0, sent.length);
  since = Math.max(since, ...taken.map((t) => t.callId ?? -1));
  return taken;
}

/**
 * mockClient of one client instance that other files' (or harnesses') mocks of its class never
 * reach: the instance gets `send` as an own property first, so a stub of the class's prototype
 * neither answers it nor trips sinon when this stub is reset (reset re-stubs the instance).
 */
export function mockInstance<C extends object>(client: C): ReturnType<typeof mockClient> {
  let proto = Object.getPrototypeOf(client) as object | null;
  // The SDK's own send: the first one up the chain that no stub replaced (a stub has `restore`).
  let send: unknown;
  while (proto !== null) {
    const own: unknown = Object.getOwnPropertyDescriptor(proto, 'send')?.value;
    if (typeof own === 'function' && !('restore' in own)) {
      send = own;
      break;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (typeof send !== 'function') throw new Error('no unstubbed send on the client prototype chain');
  Object.defineProperty(client, 'send', { value: send, writable: true, configurable: true });
  return mockClient(client as never);
}
