import type { ResourceChangeHook } from '../resources/index.ts'
import type { AuditModule } from './audit-module.ts'

/** The module each `auditChanges` hook appends to: lets `audit.resources` see a resource is audited already. */
const hookModules = new WeakMap<ResourceChangeHook, AuditModule>()

/**
 * A resource change hook that appends every write through resource routes to the audit trail, in
 * the write's transaction: `<resource>.<created|updated|deleted>` by the caller, on
 * `<resource>/<id>`, with the changed field names (never their values: rows may hold personal
 * data the trail would keep forever). `audit.resources` in the config adds this hook without code.
 *
 * @example
 * ```ts
 * serveResources(app, { database: data, resources, onChange: [auditChanges(auditing)] })
 * ```
 */
export function auditChanges(module: AuditModule): ResourceChangeHook {
  const hook: ResourceChangeHook = (change, tx) =>
    module.trail.append(
      {
        action: `${change.resource}.${change.type}`,
        ...(change.actor ? { actor: change.actor } : {}),
        subject: `${change.resource}/${String(change.id)}`,
        data: {
          ...(change.changed ? { changed: change.changed } : {}),
          ...(change.tenant ? { tenant: change.tenant } : {}),
        },
      },
      { tx },
    )
  hookModules.set(hook, module)
  return hook
}

/** Whether `hooks` has an {@link auditChanges} hook of `module`. */
export const hasAuditHookOf = (hooks: readonly ResourceChangeHook[], module: AuditModule): boolean =>
  hooks.some((hook) => hookModules.get(hook) === module)
