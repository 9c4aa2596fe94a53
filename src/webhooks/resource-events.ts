import type { ResourceChangeHook } from '../resources/index.ts'
import type { WebhooksModule } from './webhooks-module.ts'

/**
 * A resource change hook that publishes each change the resource declares in `events` as the
 * webhook event `<resource>.<created|updated|deleted>`, in the write's transaction: the
 * deliveries exist only if the row does.
 *
 * Subscriptions are not per tenant: every subscriber of `todos.created` receives the rows of every
 * tenant (with their `tenant`). On a tenant resource, subscribe only receivers that may see all
 * tenants, such as your own services.
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
    return module.publish(`${change.resource}.${change.type}`, data, { tx })
  }
}
