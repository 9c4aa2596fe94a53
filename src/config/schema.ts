import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox'
import { levelSpecProblems } from '../log/level-spec.ts'
import { redactPathProblems } from '../log/redact-paths.ts'

/**
 * Marks a string as a secret: `keel config` and logs show it redacted. URLs keep their host and
 * lose only their password.
 */
export const Secret = (options: { default?: string; description?: string } = {}) =>
  Type.String({ ...options, secret: true })

/** A config section: a name (top-level key in keel.yaml) and its TypeBox schema. */
export interface ConfigSection<S extends TSchema = TObject, N extends string = string> {
  readonly name: N
  readonly schema: S
  /** Checks a schema cannot express; returns problems by key relative to the section. */
  readonly check?: (value: unknown) => readonly SectionProblem[]
}

/** A problem a section's `check` found, e.g. `{ key: 'level', message: 'unknown level "verbose"' }`. */
export interface SectionProblem {
  key: string
  message: string
}

/**
 * Declares a config section a capability adds to the schema. Every property should carry a
 * default so the section is optional in keel.yaml.
 *
 * @example
 * ```ts
 * const cache = defineConfigSection('cache', { ttlMs: Type.Integer({ minimum: 0, default: 60_000 }) })
 * ```
 */
export function defineConfigSection<N extends string, P extends TProperties>(
  name: N,
  properties: P,
  options: { description?: string; check?: (value: Static<TObject<P>>) => readonly SectionProblem[] } = {},
): ConfigSection<TObject<P>, N> {
  const { check, ...schemaOptions } = options
  const schema = Type.Object(properties, { ...schemaOptions, additionalProperties: false, default: {} })
  return { name, schema, check: check as ConfigSection['check'] }
}

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

export const serverSection = defineConfigSection('server', {
  host: Type.String({ default: '127.0.0.1', description: 'interface to bind; 0.0.0.0 in containers' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  keepAliveTimeoutMs: Milliseconds(5000, 'idle keep-alive sockets close after this'),
  requestTimeoutMs: Milliseconds(30_000, 'a request must arrive whole within this'),
})

export const httpSection = defineConfigSection('http', {
  bodyLimitBytes: Type.Integer({ minimum: 0, default: 1_048_576, description: 'largest JSON request body' }),
})

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

export const shutdownSection = defineConfigSection('shutdown', {
  drainDelayMs: Milliseconds(0, 'time /ready answers 503 before the listener closes, for load balancers'),
  deadlineMs: Milliseconds(30_000, 'total shutdown budget; past it the process exits 1'),
  moduleTimeoutMs: Milliseconds(10_000, 'default stop deadline of one module'),
})

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
  logSection,
  metricsSection,
  tracingSection,
  healthSection,
  shutdownSection,
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
