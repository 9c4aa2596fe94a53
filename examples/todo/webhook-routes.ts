import { type App, Type } from 'keel'
import { apiKeyAuth, hashApiKey, requireRoles } from 'keel/http'
import type { WebhooksModule } from 'keel/webhooks'

const Subscription = Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  disabledReason: Type.Union([Type.String(), Type.Null()]),
})

/**
 * Operator routes for webhook subscriptions, behind the admin API key (`x-api-key`): subscribe a
 * URL to todo events (the answer holds its signing secret, shown once), list subscriptions, and
 * see how the deliveries of one went.
 */
export function serveWebhookAdmin(app: App, hooks: WebhooksModule, adminKey: string): void {
  const admin = apiKeyAuth({ keys: [{ id: 'todo-admin', hash: hashApiKey(adminKey), roles: ['admin'] }] })
  app.group('/admin/webhooks', { guards: [admin, requireRoles('admin')], tags: ['admin'] }, (group) => {
    group.post(
      '/',
      {
        summary: 'Subscribe a URL to todo events (todos.created, todos.updated, todos.deleted, or *)',
        body: Type.Object({
          url: Type.String({ format: 'uri', maxLength: 2048 }),
          events: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 20 }),
        }),
        response: { 201: Type.Intersect([Subscription, Type.Object({ secret: Type.String() })]) },
      },
      async (ctx) => {
        const subscription = await hooks.subscribe(ctx.body)
        ctx.status = 201
        return subscription
      },
    )
    group.get('/', { summary: 'Every subscription', response: { 200: Type.Array(Subscription) } }, () =>
      hooks.subscriptions(),
    )
    group.get(
      '/:id/deliveries',
      {
        summary: 'The deliveries of one subscription, newest first',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.String(),
              event: Type.String(),
              status: Type.String(),
              attempts: Type.Integer(),
              lastStatus: Type.Union([Type.Integer(), Type.Null()]),
              lastError: Type.Union([Type.String(), Type.Null()]),
              createdAt: Type.String({ format: 'date-time' }),
            }),
          ),
        },
      },
      async (ctx) =>
        (await hooks.deliveries(ctx.params.id)).map((d) => ({ ...d, createdAt: d.createdAt.toISOString() })),
    )
  })
}
