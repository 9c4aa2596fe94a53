import { once } from 'node:events'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { countedSockets } from '../../src/data/counted-sockets.ts'
import { freePort } from '../support/free-port.ts'

const servers: net.Server[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

/** A server on 127.0.0.1 that keeps what it accepts, so the test can close them from its side. */
async function server() {
  const accepted: net.Socket[] = []
  const listening = net.createServer((socket) => accepted.push(socket)).listen(0, '127.0.0.1')
  servers.push(listening)
  await once(listening, 'listening')
  return { port: (listening.address() as net.AddressInfo).port, accepted }
}

describe('countedSockets', () => {
  it('counts a socket from connect until it closes, whichever side ends it', async () => {
    const { port, accepted } = await server()
    const sockets = countedSockets()
    const first = sockets.connect({ host: ['127.0.0.1'], port: [port] })
    const second = sockets.connect({ host: ['127.0.0.1'], port: [port] })
    await Promise.all([once(first, 'connect'), once(second, 'connect')])
    expect(sockets.open).toBe(2)

    first.destroy()
    await once(first, 'close')
    expect(sockets.open).toBe(1)

    // The server ends the connection: the client's socket ends too, and is counted down.
    while (accepted.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    accepted[1]!.end()
    await once(second, 'close')
    expect(sockets.open).toBe(0)
  })

  it('counts a refused connection down when it fails', async () => {
    const sockets = countedSockets()
    const socket = sockets.connect({ host: ['127.0.0.1'], port: [await freePort()] })
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException]
    expect(error.code).toBe('ECONNREFUSED')
    await once(socket, 'close')
    expect(sockets.open).toBe(0)
  })

  it('tries the hosts in turn and names host and port on the socket, as postgres.js reads them', async () => {
    const a = await server()
    const b = await server()
    const sockets = countedSockets()
    const target = { host: ['127.0.0.1', 'localhost'], port: [a.port, b.port] }
    const made = [sockets.connect(target), sockets.connect(target), sockets.connect(target)]
    await Promise.all(made.map((socket) => once(socket, 'connect')))
    expect(made.map((socket) => [(socket as { host?: string }).host, socket.remotePort])).toEqual([
      ['127.0.0.1', a.port],
      ['localhost', b.port],
      ['127.0.0.1', a.port],
    ])
    for (const socket of made) socket.destroy()
    await Promise.all(made.map((socket) => once(socket, 'close')))
    expect(sockets.open).toBe(0)
  })
})
