import type { ServerResponse } from 'node:http'

/**
 * Adds `field` to the response's `Vary` header unless it (or `*`) is already there, so guards
 * that each vary the response (CORS on `Origin`, compression on `Accept-Encoding`) compose.
 */
export function appendVary(res: ServerResponse, field: string): void {
  const current = res.getHeader('vary')
  if (current === undefined) {
    res.setHeader('vary', field)
    return
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current)
  const lower = field.toLowerCase()
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase()
    if (name === lower || name === '*') return
  }
  res.setHeader('vary', text.length === 0 ? field : `${text}, ${field}`)
}
