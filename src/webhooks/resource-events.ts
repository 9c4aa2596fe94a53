import type { ResourceChangeHook } from '../resources/index.ts'
import type { WebhooksModule } from './webhooks-module.ts'

/**
 * A resource change hook that publishes each change the resource declares in `events` as the
 * webhook event `<resource>.<created|updated|deleted>`, in the write's transaction: the
 * deliveries exist only if the row does.
 *
 * @example
 * ```ts
 * serveResources(app, { database: data, resources, onChange: [webhookChanges(hooks)] })
 * ```
 */
export function webhookChanges(module: WebhooksModule): ResourceChangeHook {
  return (change, tx) => {
    if (!change.isDeclaredEvent) return
    return module.publish(`${change.resource}.${change.type}`, { id: change.id, ...change.row }, { tx })
  }
}
