// The load every resource bench puts on a server: autocannon over keep-alive connections, a path
// per request from one of the two scenarios.
import type { ChildProcess } from 'node:child_process'
import autocannon from 'autocannon'
import { itemRows } from './seed.ts'

/** The scenarios' paths: GET by a random id, and the first page of the list (20 rows). */
export const paths = {
  get: () => `/v1/items/${1 + Math.floor(Math.random() * itemRows)}`,
  list: () => '/v1/items',
}

/**
 * Loads the server `name` on `port` for `seconds` with requests to `path()`. A non-2xx answer or
 * a connection error fails the bench: a figure from a server that answers errors means nothing.
 */
export async function loadItems(
  server: { readonly name: string; readonly port: number },
  path: () => string,
  seconds: number,
  connections = 64,
): Promise<autocannon.Result> {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, path: path() }) }],
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${server.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return result
}

/**
 * The port a server process listens on, from the `{ port }` it sends once ready. The servers
 * listen on port 0: a fixed port can still be held in TIME-WAIT by a PostgreSQL client connection
 * of the process before, whose local port the kernel picked from the same ephemeral range.
 */
export function readyPort(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)))
  })
}
