/**
 * The architecture picture of one environment (default prod) as a Mermaid flowchart, derived
 * from the synthesized templates (resource types, names and the Ref/GetAtt/Sub/GetStackOutput
 * links between resources and stacks), so it cannot drift from the code. `npm run diagram`
 * synthesizes, then runs this with `--readme README.md`. Writes docs/architecture.md and prints
 * the block; `--readme <file>` also replaces the text between `<!-- architecture:start -->`
 * and `<!-- architecture:end -->` in that file. Options: `--assembly <dir>` (default cdk.out),
 * `--env <name>` (default prod).
 *
 * An arrow points the way things flow: `A --> B` is traffic or a delivery from A to B (internet
 * to load balancer to target group to service; a topic to its subscriber; a schedule, rule,
 * alarm or budget to its target), A calling, starting or reading B, as A's own properties and
 * its role's policies name B, or A connecting to a data store B whose security group admits A's.
 * Nothing else draws an arrow: two components that merely name the same key, role or secret are
 * not connected. `LEGEND` says this under the picture.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
interface Template {
  readonly Resources?: Record<string, Resource>;
  readonly Outputs?: Record<string, { readonly Value: Json }>;
}

/** How a resource type is drawn: its group and its shape. */
interface Kind {
  readonly group: string;
  readonly shape: (label: string) => string;
}
const box = (l: string) => `["${l}"]`;
const round = (l: string) => `("${l}")`;
const db = (l: string) => `[("${l}")]`;
const hex = (l: string) => `{{"${l}"}}`;
const flag = (l: string) => `>"${l}"]`;

/** The main components; everything else is either a connector or plumbing left out. */
const KINDS: Record<string, Kind> = {
  'AWS::Budgets::Budget': { group: 'budgets', shape: flag },
  'AWS::CloudWatch::Alarm': { group: 'alarms', shape: flag },
  'AWS::CloudWatch::CompositeAlarm': { group: 'alarms', shape: flag },
  'AWS::Scheduler::Schedule': { group: 'schedules', shape: flag },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': { group: 'alb', shape: hex },
  'AWS::Events::Rule': { group: 'rules', shape: flag },
  'AWS::SNS::Topic': { group: 'topics', shape: round },
  'AWS::ElasticLoadBalancingV2::TargetGroup': { group: 'targets', shape: box },
  'AWS::StepFunctions::StateMachine': { group: 'workflows', shape: box },
  'AWS::ECS::Service': { group: 'services', shape: box },
  'AWS::Lambda::Function': { group: 'lambdas', shape: round },
  'AWS::ECS::TaskDefinition': { group: 'tasks', shape: box },
  'AWS::RDS::DBInstance': { group: 'data', shape: db },
  'AWS::RDS::DBCluster': { group: 'data', shape: db },
  'AWS::ElastiCache::ReplicationGroup': { group: 'data', shape: db },
  'AWS::ElastiCache::ServerlessCache': { group: 'data', shape: db },
  'AWS::DynamoDB::Table': { group: 'data', shape: db },
  'AWS::SecretsManager::Secret': { group: 'secrets', shape: db },
};

/**
 * The components that act. An arrow leaves one of these for each component it names in its own
 * properties, in the policies of its own role, or (a service) in its task definition: what it
 * calls, starts, notifies or reads. Data stores, secrets, topics and target groups do not act:
 * what they name (a key, a password secret) draws nothing.
 */
const ACTORS = new Set([
  'lambdas',
  'services',
  'tasks',
  'workflows',
  'schedules',
  'rules',
  'alarms',
  'budgets',
]);

/** Many alarms or budgets would drown the picture: each of these types is drawn as one node. */
const COLLAPSED: Record<string, string> = {
  'AWS::CloudWatch::Alarm': 'CloudWatch alarms',
  'AWS::CloudWatch::CompositeAlarm': 'CloudWatch alarms',
  'AWS::Budgets::Budget': 'AWS Budgets',
};

/** A logical ID without CDK's 8-character hash and without the stack-name prefix CDK sometimes adds. */
function baseName(logicalId: string): string {
  return logicalId
    .replace(/[0-9A-F]{8}[0-9a-f]{32,40}$/, '')
    .replace(/[0-9A-F]{8}$/, '')
    .replace(/^faaisystem[a-z]+(stateful|service)/, '');
}

/** Every resource a value refers to, as `stack/logicalId` (cross-stack outputs followed). */
function references(value: Json, stack: string, outputs: Map<string, Set<string>>, into = new Set<string>()) {
  if (Array.isArray(value)) {
    for (const v of value) references(v, stack, outputs, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(`${stack}/${v}`);
      else if (key === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string')
        into.add(`${stack}/${v[0]}`);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text === 'string')
          for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g))
            if (m[1] && !m[1].startsWith('AWS')) into.add(`${stack}/${m[1]}`);
        if (Array.isArray(v)) references(v[1], stack, outputs, into);
      } else if (key === 'Fn::GetStackOutput' && v !== null && typeof v === 'object') {
        const { StackName, OutputName } = v as { StackName?: string; OutputName?: string };
        for (const r of outputs.get(`${StackName}/${OutputName}`) ?? []) into.add(r);
      } else references(v, stack, outputs, into);
    }
  }
  return into;
}

/** The node a component resource is drawn as (null: left out). */
function nodeOf(resource: Resource, logicalId: string, serviceTaskDefs: ReadonlySet<string>, key: string) {
  const kind = KINDS[resource.Type];
  if (!kind) return null;
  const collapsed = COLLAPSED[resource.Type];
  if (collapsed) return { id: kind.group, label: collapsed, kind };
  const props = resource.Properties ?? {};
  let label = baseName(logicalId);
  if (resource.Type === 'AWS::Lambda::Function') {
    // Only this project's functions (AppFunction names them); CDK's provider functions are plumbing.
    const vars = (props.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables;
    const service = vars?.POWERTOOLS_SERVICE_NAME;
    if (typeof service !== 'string') return null;
    label = `λ ${service}`;
  } else if (resource.Type === 'AWS::ECS::TaskDefinition') {
    if (serviceTaskDefs.has(key)) return null; // drawn as its service
    label = `${label} (task)`;
  } else if (resource.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer') label = `ALB ${label}`;
  else if (resource.Type === 'AWS::DynamoDB::Table') label = `DynamoDB ${label}`;
  else if (resource.Type.startsWith('AWS::RDS::')) label = `RDS ${label}`;
  else if (resource.Type.startsWith('AWS::ElastiCache::')) label = `Valkey ${label}`;
  else if (resource.Type === 'AWS::SecretsManager::Secret') label = `Secret ${label}`;
  else if (resource.Type === 'AWS::SNS::Topic') label = `SNS ${label}`;
  else if (resource.Type === 'AWS::Scheduler::Schedule') label = `Schedule ${label}`;
  else if (resource.Type === 'AWS::Events::Rule') label = `Rule ${label}`;
  const id = `${kind.group}_${label.replace(/[^A-Za-z0-9]+/g, '_')}`.replace(/_+$/, '');
  return { id, label, kind };
}

/** The Mermaid flowchart of environment `envName` in the cloud assembly at `assemblyDir`. */
export function buildDiagram(assemblyDir: string, envName = 'prod'): string {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const prefix = `fa-ai-system-${envName}-`;
  const stacks = Object.entries(manifest.artifacts)
    .filter(([name, a]) => a.type === 'aws:cloudformation:stack' && name.startsWith(prefix))
    .map(([name, a]) => ({
      name,
      template: JSON.parse(
        readFileSync(join(assemblyDir, a.properties?.templateFile ?? `${name}.template.json`), 'utf8'),
      ) as Template,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (stacks.length === 0) throw new Error(`no stacks of environment ${envName} in ${assemblyDir}`);

  const outputs = new Map<string, Set<string>>();
  for (const { name, template } of stacks)
    for (const [out, { Value }] of Object.entries(template.Outputs ?? {}))
      outputs.set(`${name}/${out}`, references(Value, name, new Map()));

  const resources = new Map<string, Resource>();
  const refs = new Map<string, Set<string>>();
  for (const { name, template } of stacks)
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      resources.set(`${name}/${id}`, resource);
      refs.set(`${name}/${id}`, references(resource.Properties ?? {}, name, outputs));
    }
  const serviceTaskDefs = new Set<string>();
  for (const [key, r] of resources)
    if (r.Type === 'AWS::ECS::Service')
      for (const t of refs.get(key) ?? [])
        if (resources.get(t)?.Type === 'AWS::ECS::TaskDefinition') serviceTaskDefs.add(t);

  const nodes = new Map<string, { id: string; label: string; kind: Kind }>();
  const nodeByResource = new Map<string, string>();
  for (const [key, r] of resources) {
    const node = nodeOf(r, key.split('/')[1] ?? key, serviceTaskDefs, key);
    if (!node) continue;
    nodes.set(node.id, node);
    nodeByResource.set(key, node.id);
  }

  const stackOf = (key: string) => key.slice(0, key.indexOf('/'));
  const typeOf = (key: string) => resources.get(key)?.Type ?? '';
  const refsIn = (key: string, value: Json) => references(value, stackOf(key), outputs);
  const propsOf = (key: string) => resources.get(key)?.Properties ?? {};

  // The policy documents attached to each role: its inline policies, the managed policies it
  // lists, and the policies that list it in `Roles`. Only the documents: a policy's `Roles`
  // names who holds it, not what it grants.
  const grantsOf = new Map<string, Set<string>>();
  const grant = (role: string, named: Iterable<string>) => {
    const set = grantsOf.get(role) ?? new Set<string>();
    for (const n of named) set.add(n);
    grantsOf.set(role, set);
  };
  for (const [key, r] of resources) {
    const props = propsOf(key);
    if (r.Type === 'AWS::IAM::Role') {
      const inline = (props.Policies as { PolicyDocument?: Json }[] | undefined) ?? [];
      const documents = inline.map((p) => p.PolicyDocument);
      grant(key, refsIn(key, documents));
      for (const m of refsIn(key, props.ManagedPolicyArns ?? []))
        if (typeOf(m) === 'AWS::IAM::ManagedPolicy') grant(key, refsIn(m, propsOf(m).PolicyDocument ?? {}));
    } else if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      const named = refsIn(key, props.PolicyDocument ?? {});
      for (const role of refsIn(key, props.Roles ?? [])) grant(role, named);
    }
  }

  // The components that act: what they refer to is what they call, start, notify or read.
  const actor = (id: string) => ACTORS.has(nodes.get(id)?.kind.group ?? '');
  // What a component names of its own accord: not a service's load balancer attachment nor a
  // rule's event pattern, where things flow the other way (to the service, to the rule).
  const ownRefs = (key: string) => {
    const type = typeOf(key);
    if (type === 'AWS::ECS::Service') return refsIn(key, { ...propsOf(key), LoadBalancers: undefined });
    if (type === 'AWS::Events::Rule') return refsIn(key, { ...propsOf(key), EventPattern: undefined });
    return refs.get(key) ?? new Set<string>();
  };

  // Who runs with each role (a policy naming a role, for iam:PassRole, is about that component).
  // A function runs with its Role only: an ARN in its environment is one it hands on (a role it
  // passes to Scheduler), not one it holds.
  const roleRefs = (key: string) =>
    typeOf(key) === 'AWS::Lambda::Function' ? refsIn(key, propsOf(key).Role ?? null) : ownRefs(key);
  const holders = new Map<string, Set<string>>();
  for (const [key, id] of nodeByResource) {
    if (!actor(id)) continue;
    const direct = [...roleRefs(key)];
    for (const r of [...direct]) if (serviceTaskDefs.has(r)) direct.push(...(refs.get(r) ?? []));
    for (const r of direct)
      if (typeOf(r) === 'AWS::IAM::Role') holders.set(r, (holders.get(r) ?? new Set()).add(id));
  }

  // The components a reference stands for. `asGrant`: the reference is its holder's own role,
  // so it stands for what the role's policies grant; a role named inside a policy stands for
  // the components that run with it.
  const reach = (key: string, asGrant: boolean, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>();
    if (seen.has(key)) return out;
    seen.add(key);
    const node = nodeByResource.get(key);
    if (node) return out.add(node);
    const type = typeOf(key);
    const props = propsOf(key);
    const follow = (keys: Iterable<string>, grants: boolean) => {
      for (const k of keys) for (const n of reach(k, grants, seen)) out.add(n);
    };
    if (type === 'AWS::IAM::Role') {
      const held = holders.get(key);
      // A role no component of the template runs with (one the passer hands to Scheduler for
      // schedules it creates at run time) does the passer's work: it stands for its grants.
      if (asGrant || held === undefined) follow(grantsOf.get(key) ?? [], false);
      else for (const h of held) out.add(h);
    } else if (serviceTaskDefs.has(key)) follow(refs.get(key) ?? [], true);
    else if (type === 'AWS::SecretsManager::SecretTargetAttachment')
      follow(refsIn(key, props.SecretId), false);
    else if (type === 'AWS::ElasticLoadBalancingV2::Listener')
      follow(refsIn(key, props.LoadBalancerArn), false);
    else if (type === 'AWS::ElasticLoadBalancingV2::ListenerRule')
      follow(refsIn(key, props.ListenerArn), false);
    return out;
  };

  const edges = new Set<string>();
  const connect = (from: string, to: string) => {
    if (from === to || !nodes.has(from) || !nodes.has(to)) return;
    edges.add(`${from} --> ${to}`);
  };
  const connectAll = (from: Iterable<string>, to: Iterable<string>) => {
    const targets = [...to];
    for (const f of from) for (const t of targets) connect(f, t);
  };
  const reachAll = (keys: Iterable<string>) => {
    const out = new Set<string>();
    for (const k of keys) for (const n of reach(k, true)) out.add(n);
    return out;
  };

  // The components in each security group, for the rules that let one reach a data store.
  const members = new Map<string, Set<string>>();
  for (const [key, id] of nodeByResource) {
    if (!['lambdas', 'services', 'tasks', 'data'].includes(nodes.get(id)?.kind.group ?? '')) continue;
    for (const r of refs.get(key) ?? [])
      if (typeOf(r) === 'AWS::EC2::SecurityGroup') members.set(r, (members.get(r) ?? new Set()).add(id));
  }
  const membersOf = (keys: Iterable<string>) => [...keys].flatMap((k) => [...(members.get(k) ?? [])]);

  for (const [key, id] of nodeByResource) {
    if (!actor(id)) continue;
    let named = [...reachAll(ownRefs(key))];
    // Alarms name what they watch in dimensions; only where they notify is a connection.
    if (id === 'alarms') named = named.filter((n) => nodes.get(n)?.kind.group === 'topics');
    connectAll([id], named);
  }
  for (const [key, r] of resources) {
    const props = propsOf(key);
    const own = nodeByResource.get(key);
    switch (r.Type) {
      case 'AWS::ECS::Service': // traffic: target group -> service
        if (own) connectAll(reachAll(refsIn(key, props.LoadBalancers ?? [])), [own]);
        break;
      case 'AWS::ElasticLoadBalancingV2::Listener': // traffic: load balancer -> target groups
        connectAll(
          reachAll(refsIn(key, props.LoadBalancerArn)),
          reachAll(refsIn(key, props.DefaultActions ?? [])),
        );
        break;
      case 'AWS::ElasticLoadBalancingV2::ListenerRule':
        connectAll(reachAll(refsIn(key, props.ListenerArn)), reachAll(refsIn(key, props.Actions ?? [])));
        break;
      case 'AWS::EC2::SecurityGroupIngress': {
        // network: a component whose security group a data store's group admits -> that store
        const stores = membersOf(refsIn(key, props.GroupId)).filter(
          (n) => nodes.get(n)?.kind.group === 'data',
        );
        connectAll(membersOf(refsIn(key, props.SourceSecurityGroupId ?? null)), stores);
        break;
      }
      case 'AWS::SNS::Subscription': // delivery: topic -> subscriber
        connectAll(reachAll(refsIn(key, props.TopicArn)), reachAll(refsIn(key, props.Endpoint)));
        break;
      case 'AWS::Lambda::Permission': // invocation: source -> function
        connectAll(reachAll(refsIn(key, props.SourceArn)), reachAll(refsIn(key, props.FunctionName)));
        break;
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
        if (own && props.Scheme !== 'internal') {
          nodes.set('internet', {
            id: 'internet',
            label: 'Internet',
            kind: { group: 'internet', shape: round },
          });
          connect('internet', own);
        }
        break;
      case 'AWS::Events::Rule': {
        if (!own) break;
        // events: what the pattern matches -> rule. A rule matching alarm state changes by name
        // pattern refers to no alarm resource.
        connectAll(reachAll(refsIn(key, props.EventPattern ?? {})), [own]);
        const pattern = props.EventPattern as { source?: unknown } | undefined;
        if (JSON.stringify(pattern?.source ?? []).includes('aws.cloudwatch')) edges.add(`alarms --> ${own}`);
        break;
      }
    }
  }

  const lines = ['flowchart LR'];
  const groups = new Map<string, string[]>();
  for (const node of [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const list = groups.get(node.kind.group) ?? [];
    list.push(`  ${node.id}${node.kind.shape(node.label)}`);
    groups.set(node.kind.group, list);
  }
  for (const group of [...groups.keys()].sort()) lines.push(...(groups.get(group) ?? []));
  lines.push(...[...edges].sort().map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

/** What an arrow means, under the picture wherever it is shown. */
export const LEGEND =
  'An arrow points the way things flow: traffic (internet → load balancer → target group → service), ' +
  'a trigger or delivery (schedule, rule, alarm, budget or topic → what it starts or notifies), or a ' +
  'component calling, reading or connecting to what its own configuration, its role’s policies or its ' +
  'security group rules name. Sharing a key, a role or a secret with another component draws no arrow.';

/** docs/architecture.md for the diagram. */
export function renderMarkdown(diagram: string, envName: string): string {
  return [
    `# Architecture (${envName})`,
    '',
    '<!-- Generated by `npm run diagram` from the synthesized templates; do not edit by hand. -->',
    '',
    LEGEND,
    '',
    '```mermaid',
    diagram.trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** `text` with the block between the architecture markers replaced by `diagram`. */
export function replaceBetweenMarkers(text: string, diagram: string): string {
  const start = '<!-- architecture:start -->';
  const end = '<!-- architecture:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${start} ... ${end} not found`);
  return `${text.slice(0, i + start.length)}\n\n\`\`\`mermaid\n${diagram.trimEnd()}\n\`\`\`\n\n${text.slice(j)}`;
}

function main(argv: readonly string[]): void {
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const envName = option('--env') ?? 'prod';
  const diagram = buildDiagram(option('--assembly') ?? 'cdk.out', envName);
  writeFileSync(join(__dirname, '..', 'docs', 'architecture.md'), renderMarkdown(diagram, envName));
  const readme = option('--readme');
  if (readme) writeFileSync(readme, replaceBetweenMarkers(readFileSync(readme, 'utf8'), diagram));
  process.stdout.write(`\`\`\`mermaid\n${diagram}\`\`\`\n`);
}

if (require.main === module) main(process.argv.slice(2));
