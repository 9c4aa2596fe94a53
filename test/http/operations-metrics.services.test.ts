import { spawnSync } from 'node:child_process'
import type { App } from 'keel/app'
import { jwtAuth, rateLimit, sse } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'
import { AUDIENCE, ISSUER, SECRET } from './auth/token-fixtures.ts'
import { openClient } from './websocket-clients.ts'

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

/** Runs `promtool check metrics` on `text`; fails (never skips) when promtool is missing. */
function promtoolCheck(text: string): { status: number | null; problems: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 })
  if (run.error) {
    throw new Error(
      `promtool is required by this test but cannot be run (${(run.error as NodeJS.ErrnoException).code}): ` +
        'install the Debian package "prometheus" (apt-get install -y prometheus)',
    )
  }
  return { status: run.status, problems: `${run.stdout}${run.stderr}`.trim() }
}

describe('the HTTP capability metrics in a real scrape', () => {
  it('pass promtool check metrics, every family present', async () => {
    const { app } = testApp()
    app.guard(rateLimit({ limit: 100, windowMs: 60_000 }))
    app.get(
      '/private',
      { guards: [jwtAuth({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE })] },
      () => 'x',
    )
    app.get('/events', (ctx) => void sse(ctx, { heartbeatMs: 0 }).send({ event: 'message', data: 'hi' }))
    app.ws('/chat', () => {})
    const { url } = await app.start()
    running = app
    await fetch(`${url}/private`, { headers: { connection: 'close' } })
    const events = await fetch(`${url}/events`)
    const reader = events.body!.getReader()
    await reader.read()
    const chat = await openClient(`${url.replace('http', 'ws')}/chat`)
    const text = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text()
    for (const family of [
      'keel_auth_requests_total',
      'keel_rate_limit_requests_total',
      'keel_rate_limit_store_errors_total',
      'keel_sse_streams_open',
      'keel_sse_events_sent_total',
      'keel_ws_connections_open',
      'keel_ws_messages_received_total',
      'keel_ws_messages_sent_total',
      'keel_ws_upgrades_refused_total',
    ]) {
      expect(text, family).toMatch(new RegExp(`^${family}[{ ]`, 'm'))
    }
    const { status, problems } = promtoolCheck(text)
    expect(problems).toBe('')
    expect(status).toBe(0)
    chat.ws.close()
    await reader.cancel()
  })
})
