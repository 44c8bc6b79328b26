import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedSynth } from '../helpers/synth';

const tempDirs: string[] = [];

/** The review reads these of an assembly; the asset directories and tree.json it never opens. */
const REVIEWED_FILE = /(^manifest|\.template|\.assets|\.metadata|^validation-report)\.json$/;

/**
 * A copy of an assembly, to mutate. Tests start from the suite's one synth of every
 * environment ({@link sharedAssemblyCopy}): no test file synthesizes again.
 */
export function copyAssembly(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fa-ai-review-'));
  tempDirs.push(dir);
  for (const file of readdirSync(source)) {
    if (REVIEWED_FILE.test(file)) copyFileSync(join(source, file), join(dir, file));
  }
  return dir;
}

/** A copy of the suite's shared synth of every environment (test/global-setup.ts). */
export async function sharedAssemblyCopy(): Promise<string> {
  return copyAssembly((await sharedSynth()).assembly.directory);
}

/** Removes every directory copyAssembly made (afterAll). */
export function removeCopies(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Edits one stack's template of an assembly copy in place. */
export function editTemplate(dir: string, stack: string, edit: (template: any) => void): void {
  const path = join(dir, `${stack}.template.json`);
  const template = readJson(path);
  edit(template);
  writeFileSync(path, JSON.stringify(template));
}

/** A resource of a template copy, failing loudly when the app no longer has it. */
export function resource(template: any, logicalId: string): any {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}: did the app change?`);
  return found;
}

/** The logical id of the only resource of a type whose construct path contains `pathPart`. */
export function findLogicalId(dir: string, stack: string, type: string, pathPart: string): string {
  const template = readJson(join(dir, `${stack}.template.json`));
  const ids = Object.entries<any>(template.Resources)
    .filter(([id, r]) => r.Type === type && constructPathOf(dir, stack, id).includes(pathPart))
    .map(([id]) => id);
  if (ids.length !== 1)
    throw new Error(`expected one ${type} under ${pathPart} in ${stack}, found ${ids.length}`);
  return ids[0] as string;
}

/**
 * Renames a construct as a code change does: the resource's logical id (references follow) and
 * its construct path, in the template's aws:cdk:path (CLI synths) and the stack metadata.
 */
export function renameConstruct(
  dir: string,
  stack: string,
  ids: { from: string; to: string },
  paths: { from: string; to: string },
): void {
  editTemplate(dir, stack, (template) => {
    const renamed = JSON.parse(JSON.stringify(template).split(`"${ids.from}"`).join(`"${ids.to}"`));
    const target = resource(renamed, ids.to);
    if (target.Metadata?.['aws:cdk:path']) {
      target.Metadata['aws:cdk:path'] = String(target.Metadata['aws:cdk:path']).replace(paths.from, paths.to);
    }
    for (const key of Object.keys(template)) delete template[key];
    Object.assign(template, renamed);
  });
  const metadataPath = join(dir, `${stack}.metadata.json`);
  const metadata = readJson(metadataPath);
  const renamed = Object.fromEntries(
    Object.entries<any[]>(metadata).map(([path, entries]) => {
      const isTarget = entries.some((e) => e.type === 'aws:cdk:logicalId' && e.data === ids.from);
      if (!isTarget) return [path, entries];
      return [
        path.replace(paths.from, paths.to),
        entries.map((e) => (e.type === 'aws:cdk:logicalId' ? { ...e, data: ids.to } : e)),
      ];
    }),
  );
  writeFileSync(metadataPath, JSON.stringify(renamed));
}

/** The construct path of a logical id in an assembly copy's stack metadata. */
export function constructPathOf(dir: string, stack: string, logicalId: string): string {
  const metadata = readJson(join(dir, `${stack}.metadata.json`));
  const entry = Object.entries<any[]>(metadata).find(([, entries]) =>
    entries.some((e) => e.type === 'aws:cdk:logicalId' && e.data === logicalId),
  );
  if (!entry) throw new Error(`no construct path for ${logicalId} in ${stack}`);
  return entry[0].replace(/^\//, '');
}

/** Drops a stack from an assembly copy's manifest, as removing it from the app does. */
export function removeStack(dir: string, stack: string): void {
  const path = join(dir, 'manifest.json');
  const manifest = readJson(path);
  delete manifest.artifacts[stack];
  writeFileSync(path, JSON.stringify(manifest));
}

/** Adds a stack to an assembly copy, with the template of an existing one. */
export function addStackLike(dir: string, existing: string, name: string): void {
  const path = join(dir, 'manifest.json');
  const manifest = readJson(path);
  manifest.artifacts[name] = {
    ...manifest.artifacts[existing],
    displayName: name,
    properties: { ...manifest.artifacts[existing].properties, templateFile: `${name}.template.json` },
  };
  writeFileSync(path, JSON.stringify(manifest));
  copyFileSync(join(dir, `${existing}.template.json`), join(dir, `${name}.template.json`));
}

/** Writes an assembly copy's validation-report.json with these violations. */
export function writeValidationReport(
  dir: string,
  violations: ReadonlyArray<{ plugin: string; rule: string; path: string; description?: string }>,
): void {
  const plugins = [...new Set(violations.map((v) => v.plugin))];
  writeFileSync(
    join(dir, 'validation-report.json'),
    JSON.stringify({
      version: '1.0',
      title: 'Validation Report',
      pluginReports: plugins.map((plugin) => ({
        pluginName: plugin,
        conclusion: 'failure',
        violations: violations
          .filter((v) => v.plugin === plugin)
          .map((v) => ({
            ruleName: v.rule,
            description: v.description ?? `${v.rule} description`,
            severity: 'error',
            violatingConstructs: [{ constructPath: v.path }],
          })),
      })),
    }),
  );
}

/** Moves an asset to a new hash in a stack's template and asset manifest, as a code change does. */
export function moveAssetHash(dir: string, stack: string, from: string, to: string): void {
  for (const file of [`${stack}.template.json`, `${stack}.assets.json`]) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(from)) throw new Error(`${file} does not mention asset ${from}`);
    writeFileSync(path, text.split(from).join(to));
  }
}

/** A fresh 64-hex digit string, as a new asset hash looks. */
export function newHash(seed: string): string {
  return seed.repeat(64).slice(0, 64);
}
