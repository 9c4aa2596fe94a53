import type { ServiceName } from './service-name.ts'

/** The versions a new service depends on: keel's own, and the tools keel itself is built with. */
export interface DependencyVersions {
  readonly keel: string
  readonly tsx: string
  readonly typescript: string
  readonly typesNode: string
}

/** One file of a new service: its path relative to the service directory and its text. */
export interface ScaffoldFile {
  readonly path: string
  readonly content: string
}

/** Every file of a new service, in the order they are listed to the user. */
export function scaffoldFiles(name: ServiceName, versions: DependencyVersions): ScaffoldFile[] {
  return [
    { path: 'package.json', content: packageJson(name, versions) },
    { path: 'keel.yaml', content: keelYaml(name) },
    { path: 'app.ts', content: appTs(name) },
    { path: 'main.ts', content: mainTs },
    { path: 'app.test.ts', content: appTestTs },
    { path: 'tsconfig.json', content: tsconfigJson },
    { path: '.gitignore', content: gitignore },
    { path: 'README.md', content: readme(name) },
  ]
}

function packageJson(name: ServiceName, versions: DependencyVersions): string {
  const manifest = {
    name: name.packageName,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      start: 'node --import tsx main.ts',
      dev: 'node --import tsx --watch main.ts',
      test: 'node --import tsx --test app.test.ts',
      typecheck: 'tsc --noEmit',
      config: 'keel config',
      check: 'keel check --profile prod',
      openapi: 'keel openapi --out openapi.json',
      gen: 'keel gen all --profile prod',
    },
    dependencies: { keel: `^${versions.keel}`, tsx: `^${versions.tsx}` },
    devDependencies: { '@types/node': `^${versions.typesNode}`, typescript: `^${versions.typescript}` },
  }
  return `${JSON.stringify(manifest, null, 2)}\n`
}

function keelYaml(name: ServiceName): string {
  const variable = `${name.envPrefix}_ADMIN_KEY`
  return `# Configuration of ${name.label}. Every key is optional; \`npm run config\` prints the effective
# values and where each one came from. Layers, lowest first: Keel's defaults, this file, the
# section of the profile in KEEL_PROFILE (below), then environment variables: KEEL_SERVER__PORT=8080
# sets server.port.
service:
  name: ${name.label}
server:
  # Most platforms say the port in PORT; 3000 otherwise.
  port: \${PORT:3000}
log:
  level: info
${name.section}:
  # A development key for /admin/stats (send it as x-api-key). The prod profile reads the real one
  # from ${variable}, e.g. \`openssl rand -base64 32\`; empty turns the admin routes off.
  adminKey: \${${variable}:dev-only-admin-key}
profiles:
  # KEEL_PROFILE=prod: JSON logs, listening on 0.0.0.0 and a 5 s drain delay are built in.
  prod:
    ${name.section}:
      # No default: a pod without the variable refuses to start instead of using the dev key.
      adminKey: \${${variable}}
    # Choose these before the first deployment (\`npm run check\` reminds you):
    # tracing:
    #   enabled: true
    #   endpoint: http://otel-collector:4318
    # deploy:
    #   resources: { cpu: 250m, memory: 256Mi, cpuLimit: '1', memoryLimit: 512Mi }
`
}

function appTs(name: ServiceName): string {
  return `import { createApp, defineConfigSection, Secret, Type } from 'keel'
import { apiKeyAuth, hashApiKey, rateLimit, securityHeaders } from 'keel/http'

/**
 * The ${name.label} service. /live, /ready, /health, /metrics, /openapi.json and the API
 * reference at /docs are built in; the routes below are the service's own.
 */
const settings = defineConfigSection('${name.section}', {
  adminKey: Secret({
    default: '',
    description: 'API key of the /admin routes (x-api-key); empty turns them off',
  }),
})

const service = { name: '${name.label}', config: settings }
export const app = createApp({ root: import.meta.dirname, modules: [service] })
const config = app.section(settings)

// Security headers on every answer; at most 600 requests a minute per client address.
app.guard(securityHeaders(), rateLimit({ limit: 600, windowMs: 60_000 }))

let greetings = 0

// A typed route: the parameter is validated (400 with details otherwise) and the answer is
// serialized through its schema, and both appear in the OpenAPI document.
app.get(
  '/hello/:name',
  {
    summary: 'Greet someone by name',
    params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
    response: { 200: Type.Object({ hello: Type.String() }) },
  },
  (ctx) => {
    greetings++
    return { hello: ctx.params.name }
  },
)

if (config.adminKey) {
  const admin = apiKeyAuth({ keys: [{ id: 'admin', hash: hashApiKey(config.adminKey) }] })
  app.group('/admin', { guards: [admin] }, (group) => {
    const Stats = Type.Object({ greetings: Type.Integer() })
    group.get('/stats', { response: { 200: Stats } }, () => ({ greetings }))
  })
}
`
}

const mainTs = `import { runApp } from 'keel'

// Loads app.ts, starts it, and shuts it down gracefully on SIGTERM and SIGINT.
await runApp(() => import('./app.ts'))
`

const appTestTs = `import assert from 'node:assert/strict'
import { test } from 'node:test'
import { app } from './app.ts'

// app.inject sends a request through the whole app (guards, validation, errors) without a socket.
test('GET /hello/:name greets by name', async () => {
  const res = await app.inject({ method: 'GET', url: '/hello/Ada' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { hello: 'Ada' })
})

test('GET /hello/:name refuses a name longer than 64 characters', async () => {
  const res = await app.inject({ method: 'GET', url: \`/hello/\${'a'.repeat(65)}\` })
  assert.equal(res.statusCode, 400)
  assert.equal(res.headers['content-type'], 'application/problem+json')
})
`

const tsconfigJson = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['*.ts'],
  },
  null,
  2,
)}\n`

const gitignore = `node_modules/
dist/
# PGlite data and other local state
.keel/
# generated by npm run openapi
openapi.json
.env
*.log
`

function readme(name: ServiceName): string {
  return `# ${name.packageName}

A service built with [Keel](https://www.npmjs.com/package/keel).

\`\`\`sh
npm install
npm start                 # http://localhost:3000/hello/world, API reference at /docs
npm test                  # the tests in app.test.ts (node --test)
npm run dev               # restart on every change
\`\`\`

| Command | What it does |
|---|---|
| \`npm run config\` | the effective configuration and where each value comes from |
| \`npm run openapi\` | writes the OpenAPI 3.1 document to openapi.json |
| \`npm run check\` | production readiness of the prod profile: pass, warn or fail per item |
| \`npm run gen\` | Dockerfile, Kubernetes, Compose and observability files under deploy/ |
| \`npm run typecheck\` | TypeScript, strict |

Configuration lives in \`keel.yaml\`. In production run with \`KEEL_PROFILE=prod\` and set
\`${name.envPrefix}_ADMIN_KEY\`; the service then logs JSON and listens on every interface.
`
}
