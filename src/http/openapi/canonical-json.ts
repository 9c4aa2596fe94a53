/**
 * JSON with object keys sorted at every level: two values with the same content give the same
 * text whatever order their keys were written in. Used to compare schemas and to order things
 * that have no natural order, never for the document itself (whose key order is chosen).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, node: unknown) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(node).sort(compareText))
      sorted[key] = (node as Record<string, unknown>)[key]
    return sorted
  })
}

/** Code-unit order: the same on every machine, unlike `localeCompare`. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
