import type { App } from 'keel/app'
import { database } from 'keel/data'
import { accessLog } from 'keel/http'
import { checkResourceFiles, createTableSql, serveResources } from 'keel/resources'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

const accounts = `
resource: accounts
version: 1
fields:
  id:       { type: integer, primary: true, generated: true }
  email:    { type: string, format: email, unique: true, required: true }
  api_key:  { type: string, sensitive: true, required: true, min: 8 }
  quota:    { type: integer, min: 0, max: 10 }
endpoints:
  list:   { auth: [public], filters: [email] }
  create: { auth: [public], input: [email, api_key, quota] }
  update: { auth: [public], input: [api_key, quota] }
`

/**
 * Sensitive fields stay out of the logs on either driver: PGlite (unit) and PostgreSQL (services),
 * whose errors carry different fields (postgres.js keeps the query and its parameters).
 * `databaseUrl` gives the test's database; undefined: PGlite.
 */
export function describeSensitiveLogs(name: string, databaseUrl: () => Promise<string | undefined>): void {
  let running: App | undefined
  afterEach(async () => {
    await running?.stop()
    running = undefined
  })

  describe(`sensitive fields on ${name}`, () => {
    it('never reach the logs: not on success, a duplicate, a bad value or a database error', async () => {
      const dbUrl = await databaseUrl()
      const data = database({ migrations: false })
      const { app, logs } = testApp({
        modules: [data],
        overrides: { log: { level: 'trace' }, ...(dbUrl ? { database: { url: dbUrl } } : {}) },
      })
      app.guard(accessLog())
      const { definitions } = checkResourceFiles([{ file: 'resources/accounts.yaml', text: accounts }])
      serveResources(app, { database: data, resources: definitions })
      running = app
      const { url } = await app.start()
      await data.db.execute(createTableSql(definitions[0]!).up)
      // A rule only the database knows, so one write fails there with the row in its error detail.
      await data.db.execute(`alter table accounts add constraint key_prefix check (api_key like 'k_%')`)
      const send = (method: string, path: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })

      const secrets = [
        'k_first-secret-value',
        'k_second-secret-value',
        'third-secret-value',
        'k_fourth-secret',
      ]
      expect(
        (await send('POST', '/v1/accounts', { email: 'a@example.com', api_key: secrets[0] })).status,
      ).toBe(201)
      expect(
        (await send('POST', '/v1/accounts', { email: 'a@example.com', api_key: secrets[1] })).status,
      ).toBe(409)
      expect(
        (await send('POST', '/v1/accounts', { email: 'b@example.com', api_key: secrets[2] })).status,
      ).toBe(422)
      expect(
        (await send('POST', '/v1/accounts', { email: 'c@example.com', api_key: secrets[3], quota: 11 }))
          .status,
      ).toBe(400)
      const listed = await (await fetch(`${url}/v1/accounts`)).json()
      expect(JSON.stringify(listed)).not.toContain('secret')
      expect(logs.records.length).toBeGreaterThan(3)
      for (const secret of secrets) expect(logs.text, secret).not.toContain(secret)
    })
  })
}
