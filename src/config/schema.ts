import { type Static, Type } from '@sinclair/typebox'
import { levelSpecProblems } from '../log/level-spec.ts'
import { redactPathProblems } from '../log/redact-paths.ts'
import { deploySection } from './deploy-section.ts'
import { loadtestSection } from './loadtest-section.ts'
import { type ConfigSection, defineConfigSection, Secret, type SectionProblem } from './schema-section.ts'

export { type ConfigSection, defineConfigSection, Secret, type SectionProblem } from './schema-section.ts'

const Milliseconds = (defaultMs: number, description: string) =>
  Type.Integer({ minimum: 0, default: defaultMs, description })

export const serviceSection = defineConfigSection('service', {
  name: Type.String({
    minLength: 1,
    default: 'keel-service',
    description: 'service name in logs, metrics and traces',
  }),
  version: Type.String({ default: '0.0.0', description: 'defaults to package.json version' }),
})

const tlsFiles = Type.Object(
  {
    certFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM certificate chain; set with keyFile to serve HTTPS' }),
    ),
    keyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key' })),
    caFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM CA certificates for client certificates' }),
    ),
    passphrase: Type.Optional(Secret({ description: 'decrypts keyFile' })),
  },
  { additionalProperties: false, default: {} },
)

export const serverSection = defineConfigSection(
  'server',
  {
    host: Type.String({ default: '127.0.0.1', description: 'interface to bind; 0.0.0.0 in containers' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
    keepAliveTimeoutMs: Milliseconds(5000, 'idle keep-alive sockets close after this'),
    requestTimeoutMs: Milliseconds(30_000, 'a request must arrive whole within this'),
    tls: tlsFiles,
    redirectHttpPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], {
      default: null,
      description: 'with tls: a plain-HTTP port that redirects (308) to HTTPS; null for none',
    }),
  },
  { check: (server) => tlsProblems(server) },
)

/** TLS needs both files; the other TLS settings need TLS. */
function tlsProblems(server: {
  port: number
  tls: Static<typeof tlsFiles>
  redirectHttpPort: number | null
}): SectionProblem[] {
  const { tls, redirectHttpPort, port } = server
  const problems: SectionProblem[] = []
  const isTls = tls.certFile !== undefined && tls.keyFile !== undefined
  if (tls.certFile !== undefined && tls.keyFile === undefined)
    problems.push({ key: 'tls.keyFile', message: 'is required when server.tls.certFile is set' })
  if (tls.keyFile !== undefined && tls.certFile === undefined)
    problems.push({ key: 'tls.certFile', message: 'is required when server.tls.keyFile is set' })
  for (const key of ['caFile', 'passphrase'] as const) {
    if (tls[key] !== undefined && tls.certFile === undefined && tls.keyFile === undefined)
      problems.push({ key: `tls.${key}`, message: 'needs server.tls.certFile and keyFile' })
  }
  if (redirectHttpPort !== null && !isTls)
    problems.push({ key: 'redirectHttpPort', message: 'needs HTTPS: set server.tls.certFile and keyFile' })
  if (redirectHttpPort !== null && redirectHttpPort !== 0 && redirectHttpPort === port)
    problems.push({ key: 'redirectHttpPort', message: `must differ from server.port (${port})` })
  return problems
}

export const httpSection = defineConfigSection('http', {
  bodyLimitBytes: Type.Integer({ minimum: 0, default: 1_048_576, description: 'largest JSON request body' }),
  trustProxy: Type.Array(Type.String(), {
    default: [],
    description: 'proxies (IPs or CIDRs) whose X-Forwarded-For is believed; empty trusts none',
  }),
})

export const openapiSection = defineConfigSection(
  'openapi',
  {
    enabled: Type.Boolean({ default: true, description: 'serve the OpenAPI document (and the docs UI)' }),
    path: Type.String({
      pattern: '^/',
      default: '/openapi.json',
      description: 'where the OpenAPI 3.1 document is served',
    }),
    docs: Type.Boolean({ default: true, description: 'serve the API reference UI at docsPath' }),
    docsPath: Type.String({
      pattern: '^/.*[^/]$',
      default: '/docs',
      description: 'API reference UI (Swagger UI); its files are under <docsPath>/assets/',
    }),
    title: Type.String({ default: '', description: 'document and page title; empty: service.name' }),
  },
  {
    check: (openapi) =>
      openapi.docs && openapi.path === openapi.docsPath
        ? [{ key: 'docsPath', message: `must differ from openapi.path ("${openapi.path}")` }]
        : [],
  },
)

export const logSection = defineConfigSection(
  'log',
  {
    level: Type.String({
      default: 'info',
      description: 'level, then per-module levels: "info,keel:http=debug"',
    }),
    format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
      default: 'auto',
      description: 'auto: pretty on a terminal outside prod, JSON otherwise',
    }),
    destination: Type.String({ default: 'stdout', description: 'stdout, stderr or a file path' }),
    redact: Type.Array(Type.String(), { default: [], description: 'extra pino paths to redact' }),
  },
  {
    check: (log) => [
      ...levelSpecProblems(log.level).map((message) => ({ key: 'level', message })),
      ...redactPathProblems(log.redact).map((message) => ({ key: 'redact', message })),
    ],
  },
)

export const metricsSection = defineConfigSection('metrics', {
  enabled: Type.Boolean({ default: true }),
  path: Type.String({ pattern: '^/', default: '/metrics' }),
  port: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], {
    default: null,
    description: 'null serves metrics on the main port',
  }),
  defaultMetrics: Type.Boolean({ default: true, description: 'process and runtime metrics' }),
})

export const tracingSection = defineConfigSection('tracing', {
  enabled: Type.Boolean({ default: false }),
  endpoint: Type.String({
    default: 'http://localhost:4318',
    description: 'OTLP/HTTP base URL; spans go to <endpoint>/v1/traces',
  }),
  sampleRatio: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 1,
    description: 'parent-based ratio sampling',
  }),
  headers: Type.Record(Type.String(), Type.String({ secret: true }), { default: {} }),
  exportTimeoutMs: Milliseconds(10_000, 'timeout for one export request'),
})

export const healthSection = defineConfigSection('health', {
  livePath: Type.String({ pattern: '^/', default: '/live' }),
  readyPath: Type.String({ pattern: '^/', default: '/ready' }),
  healthPath: Type.String({ pattern: '^/', default: '/health' }),
  startupPath: Type.String({ pattern: '^/', default: '/startup' }),
  checkTimeoutMs: Milliseconds(2000, 'default timeout of one check'),
  cacheMs: Milliseconds(
    1000,
    'how long a check result is reused, so probe storms do not hammer dependencies',
  ),
})

export const shutdownSection = defineConfigSection(
  'shutdown',
  {
    drainDelayMs: Milliseconds(0, 'time /ready answers 503 before the listener closes, for load balancers'),
    deadlineMs: Milliseconds(30_000, 'total shutdown budget; past it the process exits 1'),
    moduleTimeoutMs: Milliseconds(10_000, 'default stop deadline of one module'),
  },
  {
    // A drain delay that fills the whole budget would leave no time to close anything.
    check: (shutdown) =>
      shutdown.drainDelayMs >= shutdown.deadlineMs
        ? [
            {
              key: 'drainDelayMs',
              message: `must be shorter than shutdown.deadlineMs (${shutdown.deadlineMs}), got ${shutdown.drainDelayMs}`,
            },
          ]
        : [],
  },
)

const connection = (what: string) =>
  Type.Object(
    { url: Type.Optional(Secret({ description: what })) },
    { additionalProperties: false, default: {} },
  )

/** The sections every Keel app has. Capabilities add theirs through modules. */
export const kernelSections = [
  serviceSection,
  serverSection,
  httpSection,
  openapiSection,
  logSection,
  metricsSection,
  tracingSection,
  healthSection,
  shutdownSection,
  deploySection,
  loadtestSection,
  { name: 'database' as const, schema: connection('PostgreSQL URL; unset means embedded PGlite') },
  { name: 'redis' as const, schema: connection('Redis URL; unset means in-memory stores') },
  { name: 'nats' as const, schema: connection('NATS URL') },
] as const satisfies readonly ConfigSection[]

type SectionsType<T extends readonly ConfigSection[]> = { [S in T[number] as S['name']]: Static<S['schema']> }

/** The typed configuration every app has. */
export type KernelConfig = SectionsType<typeof kernelSections>

/** Built-in profile defaults, applied above the schema defaults and below keel.yaml. */
export const builtInProfiles: Readonly<Record<string, Record<string, Record<string, unknown>>>> = {
  dev: {},
  test: { log: { level: 'warn' } },
  prod: {
    server: { host: '0.0.0.0' },
    log: { format: 'json' },
    shutdown: { drainDelayMs: 5000 },
  },
}
