import { join } from 'node:path'
import {
  type App,
  type CreateAppOptions,
  createApp,
  defineConfigSection,
  KeelError,
  type KeelModule,
  Secret,
  Type,
} from 'keel'
import { audit } from 'keel/audit'
import { database } from 'keel/data'
import { jwtAuth, rateLimit, securityHeaders } from 'keel/http'
import { inspector } from 'keel/inspector'
import { jobs } from 'keel/jobs'
import { loadResources, serveResources } from 'keel/resources'
import { webhookChanges, webhooks } from 'keel/webhooks'
import { serveAuth } from './auth-routes.ts'
import { decoyHash } from './passwords.ts'
import { Sessions, tokenAudience, tokenIssuer } from './sessions.ts'
import { serveWebhookAdmin } from './webhook-routes.ts'

/**
 * The todo example, Keel's showcase: accounts with scrypt-hashed passwords, short-lived JWT
 * access tokens and rotating refresh tokens with reuse detection; a `todos` resource declared in
 * YAML and served as REST (owner-only access, filters, search, cursor pages, cache, soft delete);
 * every write and every login recorded in a hash-chained audit trail, in the write's transaction
 * (todo writes and refused tokens by `audit` in keel.yaml, account events by the auth routes).
 * `npm start` runs it on embedded PGlite in `.keel/todo-db`.
 */
const todoConfig = defineConfigSection('todo', {
  // Signs the access tokens (HS256, at least 32 bytes). keel.yaml gives a development default;
  // the prod profile requires TODO_JWT_SECRET.
  jwtSecret: Secret({ default: '', description: 'HS256 key of the access tokens, at least 32 bytes' }),
  accessTokenTtlSeconds: Type.Integer({ minimum: 60, maximum: 86_400, default: 900 }),
  refreshTokenTtlSeconds: Type.Integer({ minimum: 300, default: 2_592_000 }),
  // Guards the operator routes (webhook subscriptions); keel.yaml gives a demo key, prod needs one.
  adminKey: Secret({
    default: '',
    description: 'API key of the /admin routes (x-api-key); empty turns them off',
  }),
  authRequestsPerMinute: Type.Integer({
    minimum: 1,
    default: 20,
    description: 'requests per minute one client address may make to /auth/*',
  }),
})

/** The example's own files, wherever the process runs from. */
const here = import.meta.dirname

/**
 * Builds the app; `options` are createApp's (tests pass their own root, env, overrides and log
 * stream). Async because the resource files are read (and checked) before the routes exist.
 */
export async function createTodoApp(options: CreateAppOptions = {}): Promise<App> {
  const resources = await loadResources(join(here, 'resources'))
  // The example's own migrations, wherever the app root is (tests give a temp one). Applied on
  // start in the dev and test profiles; in prod run `keel migrate` once per deploy.
  const data = database({ migrations: join(here, 'migrations') })
  const auditing = audit({ database: data })
  // Webhook deliveries are jobs; the jobs module runs the webhooks module's queue.
  const hooks = webhooks({ database: data, jobs: () => background })
  const background = jobs({ database: data, queues: [hooks.queue] })
  const example: KeelModule = {
    name: 'todo',
    config: todoConfig,
    dependsOn: [auditing.name],
    // The decoy hash makes an unknown email cost what a wrong password costs; make it before the
    // first login rather than during it.
    start: async () => {
      await decoyHash()
    },
  }
  // The inspector (dev: open at /_keel/inspector/) lists dead webhook deliveries and other jobs.
  const inspection = inspector({ jobs: [background] })
  const app = createApp({
    root: here,
    ...options,
    modules: [data, auditing, hooks, background, example, inspection],
  })
  const config = app.section(todoConfig)
  if (Buffer.byteLength(config.jwtSecret) < 32) {
    throw new KeelError(
      'KEEL_CONFIG_INVALID',
      'todo.jwtSecret: needs at least 32 bytes (set TODO_JWT_SECRET; keel.yaml has a development default)',
    )
  }

  app.guard(securityHeaders(), rateLimit({ limit: 600, windowMs: 60_000 }))

  const sessions = new Sessions({ db: () => data.db, trail: () => auditing.trail, settings: config })
  const bearer = (required: boolean) =>
    jwtAuth({
      secret: config.jwtSecret,
      algorithms: ['HS256'],
      issuer: tokenIssuer,
      audience: tokenAudience,
      required,
    })

  serveAuth(app, {
    database: data,
    trail: () => auditing.trail,
    sessions,
    // Per client address (`ctx.ip`, which believes X-Forwarded-For only from http.trustProxy).
    guards: [rateLimit({ name: 'auth', limit: config.authRequestsPerMinute, windowMs: 60_000 })],
    meGuards: [bearer(true)],
  })

  serveResources(app, {
    database: data,
    resources,
    // Optional here: each endpoint's `auth` rule answers 401 without a token, and knows the owner.
    guards: [bearer(false)],
    // Published to webhook subscribers (todos.created, …) in the write's transaction. The audit
    // entry of each write comes from `audit.resources` in keel.yaml, in the same transaction.
    onChange: [webhookChanges(hooks)],
  })
  if (config.adminKey) serveWebhookAdmin(app, hooks, config.adminKey)
  return app
}

export const app = await createTodoApp()
