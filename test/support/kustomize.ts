/**
 * Renders a kustomization the way `kubectl kustomize` does, for the features
 * infra/kubernetes uses and no others (there is no kustomize for Node):
 * `resources` (files of YAML documents and other kustomizations),
 * `namespace`, `images` and JSON 6902 `patches` targeted by kind and name
 * (applied with fast-json-patch). Any other field is refused, so a manifest
 * that starts using one fails here instead of being rendered wrongly.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { applyPatch, type Operation } from 'fast-json-patch';
import { parse, parseAllDocuments } from 'yaml';

export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

interface Kustomization {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly resources?: readonly string[];
  readonly namespace?: string;
  readonly images?: ReadonlyArray<{ readonly name: string; readonly newName?: string; readonly newTag?: string }>;
  readonly patches?: ReadonlyArray<{ readonly target: { readonly kind: string; readonly name: string }; readonly patch: string }>;
}

const UNDERSTOOD = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

export function renderKustomization(directory: string): KubernetesObject[] {
  const kustomization = parse(readFileSync(path.join(directory, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const unknown = Object.keys(kustomization).filter((field) => !UNDERSTOOD.has(field));
  if (unknown.length > 0) throw new Error(`${directory}/kustomization.yaml: this renderer does not know ${unknown.join(', ')}`);

  const objects = (kustomization.resources ?? []).flatMap((entry) => {
    const resource = path.resolve(directory, entry);
    return statSync(resource).isDirectory() ? renderKustomization(resource) : readDocuments(resource);
  });
  for (const { target, patch } of kustomization.patches ?? []) {
    const targets = objects.filter((object) => object.kind === target.kind && object.metadata.name === target.name);
    if (targets.length === 0) throw new Error(`${directory}: a patch targets ${target.kind}/${target.name}, which no resource is`);
    const operations = parse(patch) as Operation[];
    for (const object of targets) applyPatch(object, operations, true);
  }
  for (const image of kustomization.images ?? []) {
    for (const container of objects.flatMap(containersOf)) {
      if (container.image.replace(/[@:].*$/, '') !== image.name) continue;
      const tag = image.newTag ?? (container.image.includes(':') ? container.image.slice(container.image.indexOf(':') + 1) : undefined);
      container.image = `${image.newName ?? image.name}${tag === undefined ? '' : `:${tag}`}`;
    }
  }
  if (kustomization.namespace) {
    for (const object of objects) (object.metadata as { namespace?: string }).namespace = kustomization.namespace;
  }
  return objects;
}

function readDocuments(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    const object = document.toJS() as KubernetesObject | null;
    return object === null ? [] : [object];
  });
}

/** The containers of a Deployment's, StatefulSet's or Job's pod template. */
function containersOf(object: KubernetesObject): Array<{ image: string }> {
  const template = (object.spec as { template?: { spec?: { containers?: Array<{ image: string }>; initContainers?: Array<{ image: string }> } } } | undefined)?.template;
  return [...(template?.spec?.containers ?? []), ...(template?.spec?.initContainers ?? [])];
}
