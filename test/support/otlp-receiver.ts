import { createServer, type IncomingMessage } from 'node:http'
import { gunzipSync } from 'node:zlib'

/** A span as an OTLP/HTTP JSON export carried it, flattened for assertions. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  /** Empty for a root span. */
  parentSpanId: string
  name: string
  /** OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number
  attributes: Record<string, unknown>
  status: { code?: number; message?: string }
  events: Array<{ name: string; attributes: Record<string, unknown> }>
  resource: Record<string, unknown>
  scope: { name?: string; version?: string }
}

/** The OTLP span kind of a SERVER span. */
export const otlpServerKind = 2

interface OtlpValue {
  stringValue?: string
  intValue?: number | string
  doubleValue?: number
  boolValue?: boolean
}
interface OtlpAttribute {
  key: string
  value: OtlpValue
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] }
    scopeSpans?: Array<{
      scope?: { name?: string; version?: string }
      spans?: Array<{
        traceId: string
        spanId: string
        parentSpanId?: string
        name: string
        kind: number
        attributes?: OtlpAttribute[]
        status?: { code?: number; message?: string }
        events?: Array<{ name: string; attributes?: OtlpAttribute[] }>
      }>
    }>
  }>
}

/**
 * A local OTLP/HTTP trace receiver on 127.0.0.1:0: takes JSON posts on `/v1/traces` (what
 * `@opentelemetry/exporter-trace-otlp-http` sends) and keeps every span.
 */
export async function startOtlpReceiver(): Promise<{
  endpoint: string
  spans: ReceivedSpan[]
  /** Requests that were not a JSON post to /v1/traces, as `METHOD path content-type`. */
  rejected: string[]
  close(): Promise<void>
}> {
  const spans: ReceivedSpan[] = []
  const rejected: string[] = []
  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    if (
      req.method !== 'POST' ||
      req.url !== '/v1/traces' ||
      !req.headers['content-type']?.startsWith('application/json')
    ) {
      rejected.push(`${req.method} ${req.url} ${req.headers['content-type']}`)
      res.writeHead(404).end()
      return
    }
    spans.push(...flatten(JSON.parse(body.toString('utf8')) as OtlpExport))
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body
}

function flatten(data: OtlpExport): ReceivedSpan[] {
  return (data.resourceSpans ?? []).flatMap((rs) => {
    const resource = attributes(rs.resource?.attributes)
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: attributes(span.attributes),
        status: span.status ?? {},
        events: (span.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
        resource,
        scope: ss.scope ?? {},
      })),
    )
  })
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue
    else if (value.intValue !== undefined) out[key] = Number(value.intValue)
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue
    else if (value.boolValue !== undefined) out[key] = value.boolValue
  }
  return out
}
