import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SYSTEM_NAME } from '../naming';
import { AssemblyReadError } from './errors';
import type { Template } from './types';

/** One CloudFormation stack of a cloud assembly. */
export interface AssemblyStack {
  /** The artifact id, which is also the first segment of its construct paths. */
  readonly id: string;
  /** The CloudFormation stack name. */
  readonly name: string;
  readonly environment: string;
  readonly template: Template;
  readonly terminationProtection: boolean;
  /**
   * Construct path of each logical id, from the assembly's `aws:cdk:logicalId` metadata: the
   * templates carry `aws:cdk:path` only when the CLI synthesizes (not in-process synths).
   */
  readonly constructPaths: ReadonlyMap<string, string>;
}

/** A policy validation finding as validation-report.json records it. */
export interface RawFinding {
  readonly plugin: string;
  readonly rule: string;
  readonly severity?: string;
  readonly description: string;
  readonly constructPath: string;
}

/** What the review needs of one synthesized cloud assembly. */
export interface LoadedAssembly {
  readonly directory: string;
  /** In manifest order, which is the app's order of environments. */
  readonly stacks: readonly AssemblyStack[];
  /** Hashes of every file and image asset the asset manifests list. */
  readonly assetHashes: ReadonlySet<string>;
  /** Unacknowledged findings of validation-report.json; none when the file is absent. */
  readonly findings: readonly RawFinding[];
}

type MetadataEntries = Record<string, ReadonlyArray<{ readonly type?: string; readonly data?: unknown }>>;

interface ManifestArtifact {
  readonly type?: string;
  readonly displayName?: string;
  readonly metadata?: MetadataEntries;
  readonly additionalMetadataFile?: string;
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly terminationProtection?: boolean;
    readonly tags?: Record<string, string>;
    readonly file?: string;
    readonly directoryName?: string;
  };
}

/**
 * The environment a stack belongs to: `<env>` of this app's `fa-ai-system-<env>-<tier>`
 * names, else its Environment tag, else the stack itself.
 */
export function environmentOfStack(stackName: string, tags?: Record<string, string>): string {
  const match = new RegExp(`^${SYSTEM_NAME}-(.+)-[a-z]+$`).exec(stackName);
  return match?.[1] ?? tags?.Environment ?? stackName;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AssemblyReadError(`cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AssemblyReadError(`${what} ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Reads a cloud assembly as `cdk synth -o <dir>` writes it: the stacks of manifest.json
 * (nested stage assemblies included), the asset manifests and validation-report.json.
 */
export function readAssembly(directory: string): LoadedAssembly {
  const dir = resolve(directory);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new AssemblyReadError(`assembly directory not found: ${directory}`);
  }
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new AssemblyReadError(
      `no manifest.json in ${directory}: not a cloud assembly (write one with "npx cdk synth -o ${directory}")`,
    );
  }
  const stacks: AssemblyStack[] = [];
  const assetHashes = new Set<string>();
  collect(dir, stacks, assetHashes);
  return { directory: dir, stacks, assetHashes, findings: readFindings(dir) };
}

function collect(dir: string, stacks: AssemblyStack[], assetHashes: Set<string>): void {
  const manifest = readJson(join(dir, 'manifest.json'), 'manifest') as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const props = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack') {
      if (!props.templateFile) throw new AssemblyReadError(`stack ${id} in ${dir} has no templateFile`);
      const name = props.stackName ?? id;
      stacks.push({
        id,
        name,
        environment: environmentOfStack(name, props.tags),
        template: readJson(join(dir, props.templateFile), `template of stack ${id}`) as Template,
        terminationProtection: props.terminationProtection === true,
        constructPaths: constructPaths(dir, artifact),
      });
    } else if (artifact.type === 'cdk:asset-manifest' && props.file) {
      const assets = readJson(join(dir, props.file), 'asset manifest') as {
        files?: Record<string, unknown>;
        dockerImages?: Record<string, unknown>;
      };
      for (const hash of [...Object.keys(assets.files ?? {}), ...Object.keys(assets.dockerImages ?? {})]) {
        assetHashes.add(hash);
      }
    } else if (artifact.type === 'cdk:cloud-assembly' && props.directoryName) {
      collect(join(dir, props.directoryName), stacks, assetHashes);
    }
  }
}

function constructPaths(dir: string, artifact: ManifestArtifact): Map<string, string> {
  const entries: MetadataEntries = { ...artifact.metadata };
  if (artifact.additionalMetadataFile && existsSync(join(dir, artifact.additionalMetadataFile))) {
    Object.assign(entries, readJson(join(dir, artifact.additionalMetadataFile), 'stack metadata'));
  }
  const paths = new Map<string, string>();
  for (const [path, list] of Object.entries(entries)) {
    for (const entry of list) {
      if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') {
        paths.set(entry.data, path.replace(/^\//, ''));
      }
    }
  }
  return paths;
}

interface ReportViolation {
  readonly ruleName?: string;
  readonly description?: string;
  readonly severity?: string;
  readonly violatingConstructs?: ReadonlyArray<{ readonly constructPath?: string }>;
}

function readFindings(dir: string): RawFinding[] {
  const path = join(dir, 'validation-report.json');
  // Synth writes no report when no plugin reported anything: no findings.
  if (!existsSync(path)) return [];
  const report = readJson(path, 'validation report') as {
    pluginReports?: ReadonlyArray<{
      readonly pluginName?: string;
      // Reports of aws-cdk-lib before the versioned schema kept the name here.
      readonly summary?: { readonly pluginName?: string };
      readonly violations?: readonly ReportViolation[];
    }>;
  };
  const findings: RawFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    const pluginName = plugin.pluginName ?? plugin.summary?.pluginName ?? 'unknown plugin';
    for (const violation of plugin.violations ?? []) {
      const constructs = violation.violatingConstructs?.length ? violation.violatingConstructs : [{}];
      for (const construct of constructs) {
        findings.push({
          plugin: pluginName,
          rule: violation.ruleName ?? '(unnamed rule)',
          severity: violation.severity,
          description: violation.description ?? '',
          constructPath: construct.constructPath ?? '',
        });
      }
    }
  }
  return findings;
}
