import { Type } from '@sinclair/typebox'
import type { App, KeelModule, ModuleDescription } from '../app/index.ts'
import { didYouMean } from '../config/did-you-mean.ts'
import { ConfigError, defineConfigSection } from '../config/index.ts'
import { type DatabaseModule, migrate } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
// The contract alone (a symbol and types), not the resources package: keel/audit stays light.
import {
  changeHookFor,
  type ResourceChangeSubscriber,
  resourcesServedOn,
  type ServedResource,
} from '../resources/routes/resource-change.ts'
import { AuthEventRecorder } from './auth-events.ts'
import { auditMetrics } from './metrics.ts'
import { auditChanges, hasAuditHookOf } from './resource-changes.ts'
import { auditMigrations } from './schema.ts'
import { AuditTrail } from './trail.ts'

/** The `audit` config section. */
export const auditSection = defineConfigSection('audit', {
  verifyOnStart: Type.Boolean({
    default: false,
    description:
      'walk the whole chain at start-up and refuse to start when it does not verify (costs a read of every entry)',
  }),
  maxBatch: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 256,
    description: 'most concurrent appends of this process committed together under the chain lock',
  }),
  auth: Type.Union([Type.Literal('off'), Type.Literal('refused'), Type.Literal('all')], {
    default: 'off',
    description:
      'append auth guard decisions: off, refused (auth.refused for every 401/403/503 of an auth guard), all (also auth.accepted)',
  }),
  authMaxPerSecond: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 100,
    description:
      'most auth.refused (and, apart, auth.accepted) entries this process appends per second; the rest are counted in keel_audit_auth_dropped_total',
  }),
  resources: Type.Union([Type.Boolean(), Type.Array(Type.String({ minLength: 1 }))], {
    default: false,
    description:
      "resources whose writes are appended in the write's transaction (as auditChanges does): a list of names, or true for every served resource",
  }),
})

/** Options of {@link audit}. */
export interface AuditOptions {
  /** The database module holding the trail; the audit module starts after it. */
  readonly database: DatabaseModule
  /** Module name. Default `audit`. */
  readonly name?: string
}

/**
 * The audit module: an {@link AuditTrail} on the app's database. It is a
 * `ResourceChangeSubscriber`: `serveResources` asks it for the hook of each resource it serves.
 */
export interface AuditModule extends KeelModule, ResourceChangeSubscriber {
  readonly config: typeof auditSection
  /** The started trail. @throws KeelError `KEEL_APP_STATE` before the app started. */
  readonly trail: AuditTrail
  describe(): ModuleDescription & { audit: { tables: string[] } }
}

/**
 * The audit trail as a module: on start it creates the trail's tables (migration scope
 * `keel_audit`) and, with `audit.verifyOnStart`, refuses to start on a chain that does not verify.
 * Appends go through `module.trail`; metrics are `keel_audit_*`.
 *
 * By config, without code: `audit.resources` appends the writes of the listed resources in their
 * transactions (as {@link auditChanges} does; a resource that has that hook already gets no second
 * one), and `audit.auth` appends auth guard decisions (`auth.refused`, `auth.accepted`) published
 * on the `keel:auth` diagnostics channel, at most `audit.authMaxPerSecond` of each a second.
 *
 * @example
 * ```ts
 * const data = database()
 * const auditing = audit({ database: data })
 * const app = createApp({ modules: [data, auditing] })
 * app.post('/todos/:id/archive', { params }, async ({ params, principal }) => {
 *   await auditing.trail.append({ action: 'todo.archived', actor: principal?.subject, subject: `todos/${params.id}` })
 * })
 * ```
 */
export function audit(options: AuditOptions): AuditModule {
  const name = options.name ?? 'audit'
  let trail: AuditTrail | undefined
  let authEvents: AuthEventRecorder | undefined
  /** Names of the resources `serveResources` showed this module: what `audit.resources` may list. */
  const served = new Set<string>()
  const module: AuditModule = {
    name,
    dependsOn: [options.database.name],
    config: auditSection,
    get trail(): AuditTrail {
      if (!trail) {
        throw new KeelError(
          'KEEL_APP_STATE',
          `module "${name}": the audit trail starts with the app; read .trail from a handler or after app.start()`,
        )
      }
      return trail
    },
    mount(app: App) {
      checkNotLate(app, name, app.section(auditSection).resources)
    },
    [changeHookFor](resource: ServedResource) {
      const { name: resourceName } = resource.resource
      served.add(resourceName)
      const listed = resource.app.section(auditSection).resources
      if (listed !== true && !(Array.isArray(listed) && listed.includes(resourceName))) return undefined
      if (resource.database !== options.database) {
        // The entry must commit in the write's transaction, which is on the other database.
        throw new ConfigError([
          {
            code: 'KEEL_CONFIG_INVALID',
            key: 'audit.resources',
            message: `resource "${resourceName}" is served from database module "${resource.database.name}", but the audit trail of module "${name}" is on "${options.database.name}"; an entry must commit in the write's transaction, so list only resources of that database`,
            source: resource.app.config.sourceOf('audit.resources'),
          },
        ])
      }
      // An explicit auditChanges(module) hook appends the same entry: one is enough.
      if (hasAuditHookOf(resource.onChange, module)) return undefined
      return auditChanges(module)
    },
    async start(app: App) {
      const settings = app.section(auditSection)
      checkListedResources(app, settings.resources, served)
      const db = options.database.db
      await migrate(db, 'keel_audit', auditMigrations)
      const started = new AuditTrail(db, { registry: app.metrics.registry, maxBatch: settings.maxBatch })
      const log = app.logger('keel:audit')
      if (settings.verifyOnStart) {
        const check = await started.verify()
        if (!check.ok) {
          throw new KeelError(
            'KEEL_AUDIT_BROKEN',
            `the audit chain does not verify at entry ${check.brokenAt}: ${check.reason}; run keel audit verify for details`,
          )
        }
        log.info({ entries: check.entries, head: check.head.hash }, 'audit chain verified')
      }
      trail = started
      if (settings.auth !== 'off') {
        authEvents = new AuthEventRecorder({
          trail: started,
          mode: settings.auth,
          maxPerSecond: settings.authMaxPerSecond,
          registry: app.metrics.registry,
          metrics: auditMetrics(app.metrics.registry),
          log,
        })
        authEvents.subscribe()
      }
    },
    async stop() {
      authEvents?.unsubscribe()
      authEvents = undefined
      // Appends already accepted are committed before the database module closes.
      await trail?.flush()
    },
    describe() {
      return { audit: { tables: ['keel_audit_entries', 'keel_audit_head'] } }
    },
  }
  return module
}

/**
 * Fails `app.use()` when `serveResources` already served a resource `audit.resources` wants: it
 * asked the modules mounted then for their hooks, so those writes would go unaudited, silently.
 */
function checkNotLate(app: App, name: string, listed: boolean | string[]): void {
  const earlier = resourcesServedOn(app)
  const missed = listed === true ? earlier : listed === false ? [] : listed.filter((r) => earlier.includes(r))
  if (missed.length === 0) return
  throw new ConfigError([
    {
      code: 'KEEL_CONFIG_INVALID',
      key: 'audit.resources',
      message: `module "${name}" was added after serveResources served ${missed.map((r) => `"${r}"`).join(', ')}, whose writes it could no longer audit; add it first: createApp({ modules: [data, audit(...)] }), or app.use() it before serveResources`,
      source: app.config.sourceOf('audit.resources'),
    },
  ])
}

/** Fails start-up on a name in `audit.resources` that no `serveResources` call served on this app. */
function checkListedResources(app: App, listed: boolean | string[], served: ReadonlySet<string>): void {
  if (!Array.isArray(listed)) return
  const unknown = listed.filter((resource) => !served.has(resource))
  if (unknown.length === 0) return
  const known =
    [...served].sort().join(', ') || '(none: serveResources was not called with this module mounted)'
  throw new ConfigError(
    unknown.map((resource) => {
      const guess = didYouMean(resource, served)
      return {
        code: 'KEEL_CONFIG_INVALID' as const,
        key: 'audit.resources',
        message: `"${resource}" is not a resource served on this app${guess ? ` (did you mean "${guess}"?)` : ''}; served: ${known}`,
        source: app.config.sourceOf('audit.resources'),
      }
    }),
  )
}
