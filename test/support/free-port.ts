import { createServer } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (listen on 0, read the port, close).
 * For config that needs a concrete port; another process could take it in between, rarely.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}
