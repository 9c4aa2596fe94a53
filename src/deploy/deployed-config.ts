import { stringify } from 'yaml'
import type { LoadedConfig } from '../config/index.ts'
import { placeholderNames, restoreReferences } from './placeholder.ts'

/** The configuration a deployment ships: the keel.yaml of its ConfigMap and the Secret's names. */
export interface DeployedConfig {
  /**
   * keel.yaml for the profile, flattened (no `profiles:`): every value the service's files set,
   * with each secret as a `${NAME}` reference, never its value.
   */
  readonly file: string
  /** Environment variables the pod must get from its Secret, sorted. */
  readonly secretNames: string[]
  /**
   * Secret keys the profile sets to a literal value instead of a `${VAR}` reference. The deployed
   * file refers to `KEEL_<SECTION>__<KEY>` instead; `keel check` fails such a profile.
   */
  readonly literalSecrets: string[]
}

/**
 * Derives the deployed configuration from the app's loaded config. Only what keel.yaml and
 * package.json set is written: defaults stay defaults, and variables of the shell that runs
 * `keel gen` never leak into manifests.
 */
export function deployedConfig(config: LoadedConfig<unknown>): DeployedConfig {
  const tree: Record<string, unknown> = {}
  const secretNames = new Set<string>()
  const literalSecrets: string[] = []
  for (const entry of config.entries()) {
    const kind = entry.source.kind
    if (kind !== 'file' && kind !== 'profile' && kind !== 'package') continue
    const path = entry.key.split('.')
    let value = entry.value
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    const names = placeholderNames(text)
    if (names.length > 0) {
      for (const name of names) secretNames.add(name)
      value = typeof value === 'string' ? restoreReferences(value) : JSON.parse(restoreReferences(text))
    } else if (entry.isSecret && value !== '' && value !== undefined) {
      const name = envNameOf(path)
      literalSecrets.push(entry.key)
      secretNames.add(name)
      value = `\${${name}}`
    }
    setAt(tree, path, value)
  }
  return {
    file: stringify(tree, { sortMapEntries: true, lineWidth: 0 }),
    secretNames: [...secretNames].sort(),
    literalSecrets,
  }
}

/** The variable Keel reads a key from: `todo.jwtSecret` → `KEEL_TODO__JWT_SECRET`. */
export const envNameOf = (path: readonly string[]): string =>
  `KEEL_${path.map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')}`

function setAt(tree: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = tree
  for (const segment of path.slice(0, -1)) {
    const next = node[segment]
    if (typeof next === 'object' && next !== null && !Array.isArray(next))
      node = next as Record<string, unknown>
    else node = node[segment] = {}
  }
  node[path.at(-1)!] = value
}
