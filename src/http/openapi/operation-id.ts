/**
 * The operationId of a route that sets none, from its method and OpenAPI path:
 * `GET /users/{id}/posts` → `getUsersByIdPosts`, `POST /` → `postRoot`. Deterministic, so
 * generated clients keep their method names across builds.
 *
 * @example
 * ```ts
 * operationIdFor('GET', '/users/{id}') // 'getUsersById'
 * ```
 */
export function operationIdFor(method: string, path: string): string {
  const parts: string[] = []
  for (const piece of path.split(/(\{[^}]*\})/)) {
    if (piece.startsWith('{')) parts.push(`By${pascal(piece.slice(1, -1))}`)
    else parts.push(pascal(piece))
  }
  const rest = parts.join('')
  return method.toLowerCase() + (rest === '' ? 'Root' : rest)
}

const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('')
