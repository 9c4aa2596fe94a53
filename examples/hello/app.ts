import { createApp, defineConfigSection, Secret, Type } from 'keel'
import { apiKeyAuth, compress, cors, hashApiKey, rateLimit, requireRoles, securityHeaders } from 'keel/http'

/**
 * The hello showcase: typed routes, an API-key protected admin group, the production guards,
 * a custom health check, and the generated API reference at /docs. `npm run start:hello` runs it on the
 * embedded defaults; keel.yaml beside it holds its configuration and a prod profile.
 */
const helloConfig = defineConfigSection('hello', {
  // In development keel.yaml gives a demo key; the prod profile requires HELLO_ADMIN_KEY.
  adminKey: Secret({ default: '' }),
  corsOrigins: Type.Array(Type.String(), { default: [] }),
})

export const app = createApp({ root: import.meta.dirname, modules: [{ name: 'hello', config: helloConfig }] })
const config = app.section(helloConfig)

app.guard(securityHeaders(), rateLimit({ limit: 600, windowMs: 60_000 }), compress())
// Browsers on these origins may call the API; with none configured (prod), CORS stays closed.
if (config.corsOrigins.length > 0) app.guard(cors({ origins: config.corsOrigins }))

let greetings = 0
const greeted: Array<{ id: number; name: string; text: string }> = []

const Greeting = Type.Object({ id: Type.Integer(), name: Type.String(), text: Type.String() })
const languages = { en: 'Hello', fr: 'Bonjour', de: 'Hallo', es: 'Hola' } as const

app.get(
  '/hello',
  { summary: 'Greet the world', response: { 200: Type.Object({ hello: Type.String() }) } },
  () => ({
    hello: 'world',
  }),
)

app.get(
  '/hello/:name',
  {
    summary: 'Greet someone by name',
    params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
    response: { 200: Type.Object({ hello: Type.String(), greetings: Type.Integer() }) },
  },
  (ctx) => {
    greetings++
    ctx.log.info({ name: ctx.params.name }, 'greeting')
    return { hello: ctx.params.name, greetings }
  },
)

app.post(
  '/greetings',
  {
    summary: 'Write a greeting in a language',
    tags: ['greetings'],
    body: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 64 }),
      language: Type.Union(Object.keys(languages).map((code) => Type.Literal(code))),
    }),
    response: { 201: Greeting },
  },
  (ctx) => {
    greetings++
    const language = ctx.body.language as keyof typeof languages
    const greeting = {
      id: greeted.length + 1,
      name: ctx.body.name,
      text: `${languages[language]}, ${ctx.body.name}!`,
    }
    greeted.push(greeting)
    ctx.status = 201
    ctx.header('location', `/greetings/${greeting.id}`)
    return greeting
  },
)

app.get(
  '/greetings',
  {
    summary: 'The latest greetings',
    tags: ['greetings'],
    query: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
    response: { 200: Type.Array(Greeting) },
  },
  (ctx) => greeted.slice(-(ctx.query.limit ?? 20)),
)

// Admin routes need an API key with the admin role: `curl -H 'x-api-key: <key>' /admin/stats`.
if (config.adminKey) {
  const admin = apiKeyAuth({
    keys: [{ id: 'hello-admin', hash: hashApiKey(config.adminKey), roles: ['admin'] }],
  })
  app.group('/admin', { guards: [admin, requireRoles('admin')], tags: ['admin'] }, (group) => {
    group.get(
      '/stats',
      { response: { 200: Type.Object({ greetings: Type.Integer(), stored: Type.Integer() }) } },
      () => ({
        greetings,
        stored: greeted.length,
      }),
    )
    group.delete('/greetings', { summary: 'Forget every greeting' }, () => {
      greeted.length = 0
      return undefined
    })
  })
}

// A custom check: healthy while the greeting counter is sane. Real services check a dependency.
app.health.add({
  name: 'greeter',
  critical: true,
  check: () => ({ ok: greetings < Number.MAX_SAFE_INTEGER, details: { greetings } }),
})
