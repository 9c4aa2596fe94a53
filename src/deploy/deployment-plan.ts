import { relative, resolve, sep } from 'node:path'
import type { Static } from '@sinclair/typebox'
import type { App, AppDescription } from '../app/index.ts'
import type { deploySection } from '../config/deploy-section.ts'
import { type DeployedConfig, deployedConfig } from './deployed-config.ts'

/** A backing service a deployment runs beside the app. */
export type BackingService = 'postgres' | 'redis' | 'nats'

/** The `deploy` section of keel.yaml, as loaded. */
export type DeploySettings = Static<(typeof deploySection)['schema']>

/**
 * Everything the generators know about one app in one profile, derived from `app.describe()`,
 * its loaded config and the `deploy` section. Generators read only this, so what they write
 * follows the code: a new route gets a dashboard panel, a new job queue a backlog alert.
 */
export interface DeploymentPlan {
  /** The service name as a DNS-1123 label: Kubernetes names, compose service, image name. */
  readonly name: string
  readonly version: string
  readonly profile: string
  readonly namespace: string
  /** `<deploy.image or name>:<version>`. */
  readonly image: string
  /** Ports the app listens on, the first being the one that serves traffic. */
  readonly ports: AppDescription['ports']
  readonly probes: AppDescription['probes']
  readonly metrics: AppDescription['metrics']
  readonly shutdown: AppDescription['shutdown']
  /**
   * Seconds Kubernetes waits before it kills a stopping pod: `deploy.terminationGracePeriodSeconds`,
   * or the preStop wait (the drain delay) plus the shutdown deadline plus 5 s, so the app's own
   * deadline always fires first. The preStop hook runs inside this budget.
   */
  readonly terminationGracePeriodSeconds: number
  /** The entry module (`--entry`) relative to the working directory, with forward slashes. */
  readonly entry: string
  /** Backing services the deployment runs beside the app, sorted. */
  readonly services: BackingService[]
  /** The app's own routes (probes, metrics and docs excluded), as declared. */
  readonly routes: Array<{ method: string; path: string }>
  /** App-wide guards and the guards of each route, by name. */
  readonly guards: { app: string[]; routes: Record<string, string[]> }
  readonly flows: string[]
  /** Job queue names. */
  readonly jobs: string[]
  readonly config: DeployedConfig
  readonly deploy: DeploySettings
  /** The whole description, for generators that need more than the fields above. */
  readonly description: AppDescription
}

/** Environment variables that carry the URL of each backing service. */
export const serviceUrlVariables: Readonly<Record<BackingService, string>> = {
  postgres: 'DATABASE_URL',
  redis: 'REDIS_URL',
  nats: 'NATS_URL',
}

/** Builds the plan of an app loaded for deployment (see `loadAppForDeploy` in the CLI). */
export function deploymentPlan(app: App, options: { entry: string }): DeploymentPlan {
  const description = app.describe()
  const values = app.config.values as unknown as { deploy: DeploySettings }
  const deploy = values.deploy
  const name = dnsLabel(description.service.name)
  const services = backingServices(description)
  const config = deployedConfig(app.config as never)
  // A backing service the file does not point at is reached through its well-known variable.
  const secretNames = new Set(config.secretNames)
  // A `${REDIS_URL}` in the file is read through the env layer (the placeholder is in the
  // environment), so only a value the files set themselves counts as pointing at the service.
  const fromFiles = new Set(['file', 'profile', 'package'])
  for (const service of services) {
    if (!app.config.entries().some((e) => e.key === urlKey[service] && fromFiles.has(e.source.kind)))
      secretNames.add(serviceUrlVariables[service])
  }
  const routes = description.routes.filter((r) => !r.internal)
  const modules = description.modules
  return {
    name,
    version: description.service.version,
    profile: description.profile,
    namespace: deploy.namespace || name,
    image: `${deploy.image || name}:${description.service.version}`,
    ports: description.ports,
    probes: description.probes,
    metrics: description.metrics,
    shutdown: description.shutdown,
    terminationGracePeriodSeconds:
      deploy.terminationGracePeriodSeconds ||
      Math.ceil(description.shutdown.drainDelayMs / 1000) +
        Math.ceil(description.shutdown.deadlineMs / 1000) +
        5,
    entry: relative(process.cwd(), resolve(options.entry)).split(sep).join('/'),
    services,
    routes: routes.map((r) => ({ method: r.method, path: r.path })),
    guards: {
      app: description.guards.map((g) => g.name),
      routes: Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.guards.map((g) => g.name)])),
    },
    flows: modules.flatMap((m) =>
      ((m.flows as Array<{ name: string }> | undefined) ?? []).map((f) => f.name),
    ),
    jobs: modules.flatMap((m) => ((m.jobs as Array<{ name: string }> | undefined) ?? []).map((j) => j.name)),
    config: { ...config, secretNames: [...secretNames].sort() },
    deploy,
    description,
  }
}

const urlKey: Readonly<Record<BackingService, string>> = {
  postgres: 'database.url',
  redis: 'redis.url',
  nats: 'nats.url',
}

const known: readonly BackingService[] = ['nats', 'postgres', 'redis']

/** What the app uses now, plus the stores its modules need once it runs as replicas. */
function backingServices(description: AppDescription): BackingService[] {
  const used = new Set<string>(description.services)
  for (const module of description.modules) {
    for (const store of (module.stores as string[] | undefined) ?? []) used.add(store)
  }
  return known.filter((service) => used.has(service))
}

/** `My_Service.v2` → `my-service-v2`: lower case, dashes, at most 63 characters. */
export function dnsLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '')
  return label || 'app'
}
