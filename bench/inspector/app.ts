import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { type App, createApp } from '../../src/app/index.ts'
import { inspector } from '../../src/inspector/index.ts'

const silent = { write() {} }

/**
 * The app both variants serve: `/hello` and a typed `/users/:id`, logging at warn to nowhere,
 * with the inspector module or without it. The port comes from `PORT` (0 when unset);
 * `STORE_SPANS` and `TRACES_PER_SECOND` set the inspector's `store.maxSpans` and
 * `store.maxTracesPerSecond`.
 */
export function build(withInspector: boolean): App {
  const app = createApp({
    root: mkdtempSync(join(tmpdir(), 'keel-bench-')),
    env: {},
    logStream: silent,
    modules: withInspector ? [inspector()] : [],
    overrides: {
      server: { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' },
      log: { level: 'warn' },
      metrics: { defaultMetrics: false },
      ...(withInspector
        ? {
            inspector: {
              store: {
                ...(process.env.STORE_SPANS ? { maxSpans: Number(process.env.STORE_SPANS) } : {}),
                ...(process.env.TRACES_PER_SECOND
                  ? { maxTracesPerSecond: Number(process.env.TRACES_PER_SECOND) }
                  : {}),
              },
            },
          }
        : {}),
    },
  })
  app.get('/hello', () => ({ hello: 'world' }))
  app.get(
    '/users/:id',
    {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ id: Type.Integer(), name: Type.String() }) },
    },
    (ctx) => ({ id: ctx.params.id, name: 'Ada' }),
  )
  return app
}
