import { Type } from '@sinclair/typebox'
import type { App, KeelModule, ModuleDescription } from '../app/index.ts'
import { defineConfigSection } from '../config/index.ts'
import { type DatabaseModule, migrate } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
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
})

/** Options of {@link audit}. */
export interface AuditOptions {
  /** The database module holding the trail; the audit module starts after it. */
  readonly database: DatabaseModule
  /** Module name. Default `audit`. */
  readonly name?: string
}

/** The audit module: an {@link AuditTrail} on the app's database. */
export interface AuditModule extends KeelModule {
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
    async start(app: App) {
      const settings = app.section(auditSection)
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
    },
    async stop() {
      // Appends already accepted are committed before the database module closes.
      await trail?.flush()
    },
    describe() {
      return { audit: { tables: ['keel_audit_entries', 'keel_audit_head'] } }
    },
  }
  return module
}
