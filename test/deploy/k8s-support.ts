import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1'
import { parse, parseAllDocuments } from 'yaml'
import type { GeneratedFile } from '../../src/deploy/generated-file.ts'

/** A Kubernetes object as parsed from YAML. */
export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  [field: string]: unknown
}

// Every kind the generator writes, with the kubernetes-models class that validates it.
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
}

/**
 * Validates `object` against the Kubernetes OpenAPI schema of its kind (kubernetes-models throws
 * a ValidationError naming the field); an apiVersion/kind the generator should not write throws too.
 */
export function validateObject(object: KubeObject): void {
  const Model = models[`${object.apiVersion}/${object.kind}`]
  if (!Model) throw new Error(`no Kubernetes model for ${object.apiVersion} ${object.kind}`)
  new Model(object as never).validate()
}

/** The documents of a multi-document YAML text, skipping empty ones. */
export function parseDocuments(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw document.errors[0]
      return document.toJS() as KubeObject | null
    })
    .filter((object): object is KubeObject => object !== null)
}

/** The parsed content of the generated file at `path`. */
export function parsedFile<T = KubeObject>(files: readonly GeneratedFile[], path: string): T {
  const file = files.find((f) => f.path === path)
  if (!file) throw new Error(`not generated: ${path} (have ${files.map((f) => f.path).join(', ')})`)
  return parse(file.content) as T
}

/** Writes the files under a fresh temporary directory and returns it. */
export function writeTree(files: readonly GeneratedFile[]): string {
  const root = mkdtempSync(join(tmpdir(), 'keel-k8s-'))
  for (const file of files) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true })
    writeFileSync(join(root, file.path), file.content)
  }
  return root
}

/** `kubectl kustomize <dir>`, parsed: what `kubectl apply -k` would send to the cluster. */
export function kustomize(directory: string): KubeObject[] {
  const output = execFileSync('/usr/bin/kubectl', ['kustomize', directory], {
    encoding: 'utf8',
    timeout: 20_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return parseDocuments(output)
}

/**
 * The one object of `kind` in `objects`, typed as the kubernetes-models interface `T`; fails when
 * there is none or more than one.
 */
export function only<T = KubeObject>(objects: readonly KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind)
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`)
  return found[0] as T
}
