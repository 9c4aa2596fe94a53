import { connect } from 'node:net'

/**
 * Opens (and closes) one TCP connection to the target, so an unreachable target is reported at
 * once rather than as a run full of connection errors. Resolves with the reason it failed, or
 * `undefined` when the connection opened.
 */
export function unreachableReason(target: URL, timeoutMs = 3000): Promise<string | undefined> {
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80))
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1')
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const finish = (reason: string | undefined) => {
      socket.destroy()
      resolve(reason)
    }
    socket.setTimeout(timeoutMs, () => finish(`no connection within ${timeoutMs} ms`))
    socket.once('connect', () => finish(undefined))
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(error.code ? `${error.code}: ${error.message}` : error.message),
    )
  })
}
