import type { ResourceChangeHook } from '../resources/index.ts'
import type { WebhooksModule } from './webhooks-module.ts'

/**
 * A resource change hook that publishes each change the resource declares in `events` as the
 * webhook event `<resource>.<created|updated|deleted>`, in the write's transaction: the
 * deliveries exist only if the row does.
 *
 * On a tenant resource each change is published for its tenant: it reaches the subscriptions of
 * that tenant and the operator's (subscriptions without a tenant), never another tenant's.
 *
 * @example
 * ```ts
 * serveResources(app, { database: data, resources, onChange: [webhookChanges(hooks)] })
 * ```
 */
export function webhookChanges(module: WebhooksModule): ResourceChangeHook {
  return (change, tx) => {
    if (!change.isDeclaredEvent) return
    const data = { id: change.id, ...change.row, ...(change.tenant ? { tenant: change.tenant } : {}) }
    return module.publish(`${change.resource}.${change.type}`, data, {
      tx,
      ...(change.tenant ? { tenant: change.tenant } : {}),
    })
  }
}
