import type { Leaf } from './layers.ts'
import { keyOf, type ValueSource } from './source.ts'

/** The merged configuration and the source of every leaf value in it. */
export interface Merged {
  value: Record<string, unknown>
  sources: Map<string, ValueSource>
}

/** Applies layers in order (later wins), recording where each leaf came from. */
export function merge(layers: Leaf[][]): Merged {
  const value: Record<string, unknown> = {}
  const sources = new Map<string, ValueSource>()
  for (const leaf of layers.flat()) {
    let target = value
    for (const segment of leaf.path.slice(0, -1)) {
      const next = target[segment]
      if (next === null || typeof next !== 'object' || Array.isArray(next)) target[segment] = {}
      target = target[segment] as Record<string, unknown>
    }
    const last = leaf.path.at(-1)!
    const isEmptyObject = typeof leaf.value === 'object' && leaf.value !== null && !Array.isArray(leaf.value)
    if (isEmptyObject && typeof target[last] === 'object' && target[last] !== null) continue
    target[last] = structuredClone(leaf.value)
    const key = keyOf(leaf.path)
    // A leaf replaces whatever was recorded below it, and an ancestor recorded as a whole value
    // (an empty `{}` default) stops being a leaf of its own.
    for (const existing of [...sources.keys()]) {
      if (existing.startsWith(`${key}.`) || key.startsWith(`${existing}.`)) sources.delete(existing)
    }
    sources.set(key, leaf.source)
  }
  return { value, sources }
}

/** The source of a key, or of the nearest recorded key below or above it. */
export function findSource(sources: Map<string, ValueSource>, key: string): ValueSource | undefined {
  const exact = sources.get(key)
  if (exact) return exact
  for (const [candidate, source] of sources) if (candidate.startsWith(`${key}.`)) return source
  const path = key.split('.')
  for (let i = path.length - 1; i > 0; i--) {
    const ancestor = sources.get(keyOf(path.slice(0, i)))
    if (ancestor) return ancestor
  }
  return undefined
}
