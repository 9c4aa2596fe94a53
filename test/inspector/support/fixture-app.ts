import { Type } from '@sinclair/typebox'
import type { App, CreateAppOptions } from 'keel/app'
import { HttpError } from 'keel/http'
import { type InspectorModule, type InspectorOptions, inspector } from 'keel/inspector'
import { expect } from 'vitest'
import WebSocket from 'ws'
import { testApp } from '../../support/test-app.ts'

export const inspectorPath = '/_keel/inspector/v1'

/** Releases the handler of `GET /slow`. */
export class Latch {
  #release: () => void = () => {}
  promise = new Promise<void>((resolve) => {
    this.#release = resolve
  })
  open(): void {
    this.#release()
  }
}

/**
 * An app with the inspector and a few routes: a typed GET with a child span, a typed POST whose
 * body has formats and patterns, one that fails and one that waits on a latch.
 */
export function fixtureApp(
  options: CreateAppOptions & { yaml?: string; inspector?: InspectorOptions } = {},
): { app: App; module: InspectorModule; slow: Latch; logs: ReturnType<typeof testApp>['logs'] } {
  const module = inspector(options.inspector)
  const { app, logs } = testApp({ ...options, modules: [...(options.modules ?? []), module] })
  const slow = new Latch()
  app.get(
    '/items/:id',
    {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ id: Type.Integer(), name: Type.String() }) },
    },
    async (ctx) => {
      const tracer = app.tracing.tracer!
      await tracer.startActiveSpan('load item', async (span) => {
        span.setAttribute('db.password', 'hunter2')
        span.setAttribute('url.full', 'https://api.example.com/x?token=abc&page=2')
        await new Promise((resolve) => setTimeout(resolve, 2))
        span.end()
      })
      return { id: ctx.params.id, name: `item ${ctx.params.id}` }
    },
  )
  app.post(
    '/orders',
    {
      summary: 'Places an order',
      body: Type.Object({
        email: Type.String({ format: 'email' }),
        sku: Type.String({ pattern: '^[A-Z]{3}-[0-9]{2}$' }),
        qty: Type.Integer({ minimum: 1, maximum: 10 }),
        password: Type.Optional(Type.String({ minLength: 1 })),
      }),
      response: { 201: Type.Object({ ok: Type.Boolean(), qty: Type.Integer(), token: Type.String() }) },
    },
    (ctx) => {
      ctx.status = 201
      return { ok: true, qty: ctx.body.qty, token: 'secret-session-token' }
    },
  )
  app.get('/boom', () => {
    throw new Error('kaboom')
  })
  app.get('/teapot', () => {
    throw new HttpError(409, 'KEEL_CONFLICT', 'not now')
  })
  app.get('/slow', async () => {
    await slow.promise
    return { slow: true }
  })
  return { app, module, slow, logs }
}

/** JSON of a response, checking its status first. */
export async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text()
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`)
  return JSON.parse(text) as T
}

/** A problem+json response's body, checking status and content type. */
export async function problemOf(res: Response, status: number) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as { code: string; status: number; detail?: string }
}

/** A WebSocket client with every message queued, parsed, for `next(type)`. */
export function liveClient(url: string, protocols: string[]) {
  const ws = new WebSocket(url, protocols)
  const messages: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>)
    for (const w of waiters.splice(0)) w()
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
  })
  /** The first message matching `match`, waiting up to `timeoutMs`. */
  async function next(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = messages.find(match)
      if (found) return found
      if (Date.now() > deadline)
        throw new Error(`no matching message; got ${JSON.stringify(messages.map((m) => m.type))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200)
        waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }
  return { ws, opened, messages, next }
}
