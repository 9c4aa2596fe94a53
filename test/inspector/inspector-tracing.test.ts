import type { CapturedPayload, TraceSummary } from 'keel/inspector'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { startOtlpReceiver } from '../support/otlp-receiver.ts'
import { fixtureApp, inspectorPath, json } from './support/fixture-app.ts'

const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const unsampledParent = `00-${callerTraceId}-00f067aa0ba902b7-00`

/** A capture as the API serves it; bodies are plain JSON. */
type Captured = CapturedPayload & {
  request: { headers: Record<string, unknown>; body?: Record<string, unknown> }
  response: { status: number; body?: Record<string, unknown> & { preview?: string } }
}

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>
beforeEach(async () => {
  receiver = await startOtlpReceiver()
})
afterEach(async () => {
  await receiver.close()
})

/** An app exporting to the local receiver at `sampleRatio`, with the inspector on. */
async function exportingApp(sampleRatio: number, capture = false) {
  const { app } = fixtureApp({
    overrides: {
      tracing: { enabled: true, endpoint: receiver.endpoint, exportTimeoutMs: 5000, sampleRatio },
      inspector: { capture: { enabled: capture, maxBytes: 200 } },
    },
  })
  const { url } = await app.start()
  const traces = async (query = '') =>
    (await json<{ traces: TraceSummary[] }>(await fetch(`${url}${inspectorPath}/traces${query}`))).traces
  return { app, url, traces }
}

describe('the inspector with tracing export on', () => {
  it('sees every request while the exporter sees exactly what the ratio samples (none at 0)', async () => {
    const { app, url, traces } = await exportingApp(0)
    try {
      expect(app.tracing).toMatchObject({ enabled: true, exporting: true })
      for (let i = 1; i <= 3; i++) expect((await fetch(`${url}/items/${i}`)).status).toBe(200)
      await eventually(async () => expect(await traces('?route=/items/:id')).toHaveLength(3))
    } finally {
      await app.stop() // flushes the exporter
    }
    expect(receiver.spans).toEqual([])
  })

  it('exports sampled traces unchanged, the same ones the inspector shows', async () => {
    const { app, url, traces } = await exportingApp(1)
    let shown: TraceSummary[] = []
    try {
      await fetch(`${url}/items/5`)
      shown = await eventually(async () => {
        const list = await traces('?route=/items/:id')
        expect(list).toHaveLength(1)
        return list
      })
    } finally {
      await app.stop()
    }
    const exported = receiver.spans.filter((s) => s.traceId === shown[0]!.traceId).map((s) => s.name)
    expect(exported.sort()).toEqual(['GET /items/:id', 'load item'])
    // Nothing of the inspector's own API went out.
    expect(receiver.spans.some((s) => s.name.includes('/_keel'))).toBe(false)
  })

  it('records a request whose caller said "not sampled", and still does not export it', async () => {
    const { app, url, traces } = await exportingApp(1)
    try {
      await fetch(`${url}/items/9`, { headers: { traceparent: unsampledParent } })
      const [trace] = await eventually(async () => {
        const list = await traces('?route=/items/:id')
        expect(list).toHaveLength(1)
        return list
      })
      // The caller's trace continues: same trace id, the server span a child of the remote parent.
      expect(trace!.traceId).toBe(callerTraceId)
    } finally {
      await app.stop()
    }
    expect(receiver.spans.filter((s) => s.traceId === callerTraceId)).toEqual([])
  })
})

describe('payload capture', () => {
  it('keeps request and response bodies of a trace, redacted and cut to maxBytes', async () => {
    const { app, url, traces } = await exportingApp(1, true)
    try {
      const res = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer let-me-in' },
        body: JSON.stringify({ email: 'ada@example.com', sku: 'ABC-12', qty: 2, password: 'hunter2' }),
      })
      expect(res.status).toBe(201)
      const [trace] = await eventually(async () => {
        const list = await traces('?route=/orders')
        expect(list).toHaveLength(1)
        return list
      })
      expect(trace!.hasCapture).toBe(true)
      const detail = await json<{ capture: Captured }>(
        await fetch(`${url}${inspectorPath}/traces/${trace!.traceId}`),
      )
      expect(detail.capture.request.body).toEqual({
        email: 'ada@example.com',
        sku: 'ABC-12',
        qty: 2,
        password: '[REDACTED]',
      })
      expect(detail.capture.request.headers.authorization).toBe('[REDACTED]')
      expect(detail.capture.response).toEqual({
        status: 201,
        body: { ok: true, qty: 2, token: '[REDACTED]' },
      })
      expect(JSON.stringify(detail)).not.toContain('hunter2')
      expect(JSON.stringify(detail)).not.toContain('let-me-in')

      // A failing request keeps the problem the client saw; a big body is cut, never whole.
      await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'x'.repeat(300), sku: 'nope', qty: 0 }),
      })
      const failed = await eventually(async () => {
        const list = await traces('?route=/orders&status=400')
        expect(list).toHaveLength(1)
        return list[0]!
      })
      const failedDetail = await json<{ capture: Captured }>(
        await fetch(`${url}${inspectorPath}/traces/${failed.traceId}`),
      )
      expect(failedDetail.capture.response.status).toBe(400)
      expect(failedDetail.capture.response.body).toMatchObject({ truncated: true })
      expect(failedDetail.capture.response.body?.preview).toHaveLength(200)
      expect(failedDetail.capture.truncated).toBe(true)
    } finally {
      await app.stop()
    }
  })

  it('captures nothing unless enabled', async () => {
    const { app, url, traces } = await exportingApp(1, false)
    try {
      await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com', sku: 'ABC-12', qty: 2 }),
      })
      const [trace] = await eventually(async () => {
        const list = await traces('?route=/orders')
        expect(list).toHaveLength(1)
        return list
      })
      expect(trace!.hasCapture).toBe(false)
      expect(app.guards.some((g) => g.name === 'inspector.capture')).toBe(false)
    } finally {
      await app.stop()
    }
  })
})
