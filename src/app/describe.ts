import type { TObject } from '@sinclair/typebox'
import type { KernelConfig, LoadedConfig } from '../config/index.ts'
import type { Guard } from '../http/guard.ts'
import type { RouteDefinition } from '../http/route.ts'
import type { KeelModule } from './module.ts'

/**
 * What an app says about itself without listening: the CLI and the deploy generators build
 * OpenAPI, manifests, dashboards and alerts from this, so they never drift from the code.
 */
export interface AppDescription {
  service: { name: string; version: string }
  profile: string
  /**
   * The ports the app listens on: `http` (or `https` with TLS), `http-redirect` (the plain port
   * that redirects to HTTPS, when configured), `metrics` (when metrics have a port of their own)
   * and the ports of their own modules serve on (`app.ownPort()`: `inspector`), by name.
   */
  ports: Array<{ name: 'http' | 'https' | 'http-redirect' | 'metrics' | (string & {}); port: number }>
  probes: { live: string; ready: string; health: string; startup: string }
  metrics: { enabled: boolean; path: string; port: number }
  routes: Array<{
    method: string
    path: string
    internal: boolean
    /** An internal route that still runs the app-wide guards (the OpenAPI document and docs UI). */
    appGuards?: boolean
    meta?: Record<string, unknown>
    /** The route's own and its groups' guards (app-wide ones are in `guards`). */
    guards: GuardDescription[]
    /** Schemas and docs of a typed route. */
    schema?: RouteDefinition['schema']
    /** Set when the route is served on a port of its own (`app.ownPort()`), not the app's. */
    port?: string
  }>
  /** App-wide guards, outermost first. */
  guards: GuardDescription[]
  healthChecks: Array<{ name: string; critical: boolean }>
  modules: Array<{ name: string; dependsOn: readonly string[]; [fact: string]: unknown }>
  /** Backing services the app needs: from modules and from configured URLs. */
  services: string[]
  shutdown: { drainDelayMs: number; deadlineMs: number }
  /** JSON Schema of the whole configuration. */
  configSchema: TObject
}

/** A guard as the description shows it: its name and options, never secrets. */
export interface GuardDescription {
  name: string
  options?: Readonly<Record<string, unknown>>
}

const describeGuard = (guard: Guard): GuardDescription =>
  guard.options ? { name: guard.name, options: guard.options } : { name: guard.name }

const describeRoute = (r: RouteDefinition, port?: string): AppDescription['routes'][number] => ({
  method: r.method,
  path: r.path,
  internal: r.internal ?? false,
  ...(r.appGuards ? { appGuards: true } : {}),
  meta: r.meta,
  guards: (r.guards ?? []).map(describeGuard),
  schema: r.schema,
  ...(port ? { port } : {}),
})

/** What {@link describeApp} reads from the app. */
export interface DescribedParts {
  config: LoadedConfig<KernelConfig>
  routes: readonly RouteDefinition[]
  guards: readonly Guard[]
  healthChecks: Array<{ name: string; critical: boolean }>
  /** In start order. */
  modules: readonly KeelModule[]
  metricsOnOwnPort: boolean
  /** Ports of their own modules serve routes on. */
  ownPorts: ReadonlyArray<{ name: string; port: number; routes: readonly RouteDefinition[] }>
}

/** Builds the {@link AppDescription} from the app's parts; nothing here listens or connects. */
export function describeApp(parts: DescribedParts): AppDescription {
  const { service, server, metrics, health, shutdown, database, redis, nats } = parts.config.values
  const modules = parts.modules.map((m) => ({
    name: m.name,
    dependsOn: m.dependsOn ?? [],
    ...m.describe?.(),
  }))
  const services = new Set(modules.flatMap((m) => (m.services as string[] | undefined) ?? []))
  if (database.url) services.add('postgres')
  if (redis.url) services.add('redis')
  if (nats.url) services.add('nats')
  const metricsPort = parts.metricsOnOwnPort ? metrics.port! : server.port
  const isTls = server.tls.certFile !== undefined && server.tls.keyFile !== undefined
  return {
    service,
    profile: parts.config.profile,
    ports: [
      { name: isTls ? 'https' : 'http', port: server.port },
      ...(isTls && server.redirectHttpPort !== null
        ? [{ name: 'http-redirect' as const, port: server.redirectHttpPort }]
        : []),
      ...(parts.metricsOnOwnPort ? [{ name: 'metrics' as const, port: metricsPort }] : []),
      ...parts.ownPorts.map(({ name, port }) => ({ name, port })),
    ],
    probes: {
      live: health.livePath,
      ready: health.readyPath,
      health: health.healthPath,
      startup: health.startupPath,
    },
    metrics: { enabled: metrics.enabled, path: metrics.path, port: metricsPort },
    routes: [
      ...parts.routes.map((r) => describeRoute(r)),
      ...parts.ownPorts.flatMap(({ name, routes }) => routes.map((r) => describeRoute(r, name))),
    ],
    guards: parts.guards.map(describeGuard),
    healthChecks: parts.healthChecks,
    modules,
    services: [...services].sort(),
    shutdown: { drainDelayMs: shutdown.drainDelayMs, deadlineMs: shutdown.deadlineMs },
    configSchema: parts.config.schema,
  }
}
