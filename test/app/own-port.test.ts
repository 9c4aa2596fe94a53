import { isKeelError } from 'keel/errors'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { testApp } from '../support/test-app.ts'

const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return isKeelError(error) ? error.code : String(error)
  }
  return 'no error'
}

describe('app.ownPort', () => {
  it('serves its routes and WebSocket routes on its own listener only, and closes it on stop', async () => {
    const { app } = testApp()
    app.get('/public', () => ({ where: 'app' }))
    const admin = app.ownPort('admin', 0, 'admin.port')
    admin.get('/stats', () => ({ where: 'admin' }))
    admin.ws('/feed', {}, (connection) => connection.socket.send('hi'))
    const address = await app.start()
    const adminUrl = address.ownPorts!.admin!
    expect(await (await fetch(`${adminUrl}/stats`)).json()).toEqual({ where: 'admin' })
    expect((await fetch(`${address.url}/stats`)).status).toBe(404)
    expect((await fetch(`${adminUrl}/public`)).status).toBe(404)
    // The app's probes belong to the app port.
    expect((await fetch(`${adminUrl}/health/live`)).status).toBe(404)
    const ws = new WebSocket(`${adminUrl.replace('http', 'ws')}/feed`)
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data) => resolve(String(data)))
      ws.once('error', reject)
    })
    expect(first).toBe('hi')
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    await app.stop()
    expect(await closed).toBe(1001)
    await expect(fetch(`${adminUrl}/stats`)).rejects.toThrow()
  })

  it('validates the name and refuses a second port of the same name', () => {
    const { app } = testApp()
    expect(codeOf(() => app.ownPort('Admin Port', 0, 'x.port'))).toBe('KEEL_ROUTE_INVALID')
    expect(codeOf(() => app.ownPort('a-very-long-port-name', 0, 'x.port'))).toBe('KEEL_ROUTE_INVALID')
    app.ownPort('admin', 0, 'admin.port')
    expect(codeOf(() => app.ownPort('admin', 0, 'admin.port'))).toBe('KEEL_ROUTE_INVALID')
  })

  it('cannot be added, nor routes on it, once the app has started', async () => {
    const { app } = testApp()
    const admin = app.ownPort('admin', 0, 'admin.port')
    await app.start()
    try {
      expect(codeOf(() => app.ownPort('late', 0, 'late.port'))).toBe('KEEL_APP_STATE')
      expect(codeOf(() => admin.get('/late', () => 'late'))).toBe('KEEL_APP_STATE')
    } finally {
      await app.stop()
    }
  })
})
