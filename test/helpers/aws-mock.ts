/**
 * aws-sdk-client-mock, with every command a mocked client is sent kept for the permission
 * check: a handler test that sends a command its function's declaration lacks fails (see
 * test/iam/declared-calls). Tests import mockClient from here, never from the library.
 */
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

/** aws-sdk-client-mock's mockClient; the commands the stub answers are recorded. */
export const mockClient: MockClient = (client, options) => {
  const target = client as unknown as { send?: unknown; prototype?: object };
  const instance = (target.send !== undefined ? target : target.prototype) as {
    send?: SinonStubLike;
    constructor: { name: string };
  };
  // Mocking a class again replaces its stub: keep what the old one answered.
  harvest(instance.constructor.name, instance.send);
  const stub = libraryMockClient(client, options);
  const clientName = stub.clientName();
  const sendOf = () => stub.send as unknown as SinonStubLike;
  for (const method of ['reset', 'resetHistory', 'restore'] as const) {
    const original = stub[method].bind(stub);
    Object.assign(stub, {
      [method]: () => {
        harvest(clientName, sendOf());
        return original();
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
