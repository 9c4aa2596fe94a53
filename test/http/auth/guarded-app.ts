import type { Guard } from 'keel/http'
import { testApp } from '../../support/test-app.ts'

/** An app whose `GET /api/me` sits behind `guards` and answers with the principal it sees. */
export function guardedApp(...guards: Guard[]) {
  const { app, logs } = testApp()
  app.group('/api', { guards }, (api) => {
    api.get('/me', (ctx) => ({ principal: ctx.principal ?? null }))
  })
  const get = (headers: Record<string, string> = {}, url = '/api/me') =>
    app.inject({ method: 'GET', url, headers })
  const bearer = (token: string) => get({ authorization: `Bearer ${token}` })
  return { app, logs, get, bearer }
}
