import {
  type App,
  type CreateAppOptions,
  createApp,
  defineConfigSection,
  type KeelModule,
  Secret,
  Type,
} from 'keel'
import { database } from 'keel/data'
import { flows, serveFlow } from 'keel/flow'
import { apiKeyAuth, hashApiKey, requireRoles } from 'keel/http'
import { inspector } from 'keel/inspector'
import { OrderConfirmation, orderFlow } from './flows.ts'
import { migrateServices, OrderServices } from './services.ts'

/**
 * The orders example: a four-step order saga (reserve, charge, ship, notify) run durably on the
 * app's database and served over HTTP. `POST /orders` starts a run and answers 202 with where to
 * poll; `POST /orders/sync` waits for the outcome. Kill the process mid-run and start it again:
 * the run resumes from its last checkpoint, and no effect happens twice.
 */
const ordersConfig = defineConfigSection('orders', {
  // Guards the operator routes (dead letters); keel.yaml gives a demo key, the prod profile needs one.
  adminKey: Secret({ default: '' }),
})

/** Builds the app; `options` are createApp's (tests pass their own root, env and log stream). */
export function createOrdersApp(options: CreateAppOptions = {}): App {
  const data = database()
  // The simulated providers keep their state in the app's database, opened at start.
  const services = new OrderServices({ db: () => data.db })
  const example: KeelModule = {
    name: 'orders',
    config: ordersConfig,
    dependsOn: [data.name],
    start: async () => {
      await migrateServices(data.db)
    },
  }
  const orders = flows({ database: data, flows: [orderFlow], bus: services.bus() })
  // The inspector (dev: open at /_keel/inspector/) shows the saga's graph, its traces and dead runs.
  const inspection = inspector({ flows: [orders] })
  const app = createApp({
    root: import.meta.dirname,
    ...options,
    modules: [data, example, orders, inspection],
  })
  const config = app.section(ordersConfig)

  // POST /orders → 202 + Location; GET /orders/runs/:runId → status; …/timeline → what happened.
  serveFlow(app, orders, orderFlow, { path: '/orders', mode: 'async', response: OrderConfirmation })
  // POST /orders/sync → 200 with the confirmation, or 422 with the fault once compensated.
  serveFlow(app, orders, orderFlow, {
    path: '/orders/sync',
    mode: 'sync',
    timeoutMs: 10_000,
    response: OrderConfirmation,
  })

  app.get(
    '/orders/:orderId/effects',
    {
      summary: 'What the outside world saw of an order: its effects, oldest first',
      tags: ['orders'],
      params: Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: {
        200: Type.Array(
          Type.Object({
            effect: Type.String(),
            ref: Type.String(),
            amount: Type.Union([Type.Integer(), Type.Null()]),
            at: Type.String({ format: 'date-time' }),
          }),
        ),
      },
    },
    async (ctx) =>
      (await services.effects(ctx.params.orderId)).map((e) => ({ ...e, at: e.at.toISOString() })),
  )

  app.get(
    '/stock',
    {
      summary: 'Stock per SKU',
      tags: ['orders'],
      response: { 200: Type.Record(Type.String(), Type.Integer()) },
    },
    () => services.stock(),
  )

  // Runs that gave up after their retries wait here for an operator: `x-api-key: <adminKey>`.
  if (config.adminKey) {
    const admin = apiKeyAuth({
      keys: [{ id: 'orders-admin', hash: hashApiKey(config.adminKey), roles: ['admin'] }],
    })
    app.group('/admin', { guards: [admin, requireRoles('admin')], tags: ['admin'] }, (group) => {
      group.get(
        '/dead-letters',
        {
          summary: 'Order runs that exhausted their retries, newest first',
          response: {
            200: Type.Array(
              Type.Object({
                runId: Type.String(),
                step: Type.String(),
                phase: Type.String(),
                message: Type.String(),
                updatedAt: Type.String({ format: 'date-time' }),
              }),
            ),
          },
        },
        async () =>
          (await orders.runner.deadLetters({ flow: orderFlow.name })).map((run) => ({
            runId: run.id,
            step: run.error?.step ?? '',
            phase: run.error?.phase ?? 'forward',
            message: run.error?.message ?? '',
            updatedAt: run.updatedAt.toISOString(),
          })),
      )
      group.post(
        '/dead-letters/:runId/retry',
        {
          summary: 'Give a dead run a fresh set of attempts at the step that gave up',
          params: Type.Object({ runId: Type.String({ minLength: 1, maxLength: 512 }) }),
        },
        async (ctx) => {
          await orders.runner.retry(ctx.params.runId)
          ctx.status = 204
          return undefined
        },
      )
    })
  }
  return app
}

export const app = createOrdersApp()
