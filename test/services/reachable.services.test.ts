import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'

/** Resolves when 127.0.0.1:port accepts a TCP connection, with the error (or timeout) otherwise. */
function reach(port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (problem?: string) => {
      socket.destroy()
      resolve(problem)
    }
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`))
    socket.once('connect', () => done())
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
  })
}

describe('backing services for the services tests', () => {
  it.each([
    ['PostgreSQL', 5432],
    ['Redis', 6379],
    ['NATS', 4222],
  ])('%s answers on 127.0.0.1:%i', async (service, port) => {
    const problem = await reach(port)
    expect(
      problem,
      `${service} is not reachable on 127.0.0.1:${port} (${problem}); run ../shared/services.sh ${service === 'PostgreSQL' ? 'postgres' : service.toLowerCase()} to start it`,
    ).toBeUndefined()
  })
})
