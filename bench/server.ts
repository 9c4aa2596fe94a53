/**
 * The Keel peer of the http-peers benchmark: the harness's three routes on a Keel app with the
 * production surface on (see bench/README.md):
 *   - JSON request log to LOG_FILE (default /dev/null), one line per request,
 *   - Prometheus metrics (process defaults + RED per route) on /metrics,
 *   - OpenTelemetry tracing, one SERVER span per request, 100% sampled, OTLP/HTTP JSON to a real
 *     local sink: the harness's `servers/lib/otlp-sink.mjs`, started here as a child process the
 *     way the harness's fastify-prod peer does it (pinned to OTLP_SINK_CPUS when set),
 *   - /live, /ready, /health probes and graceful shutdown on SIGTERM (runApp).
 *
 * Env: PORT (required), LOG_FILE, OTLP_SINK_SCRIPT (path of otlp-sink.mjs; default relative to
 * the harness directory, where run.sh starts this file), OTEL_EXPORTER_OTLP_ENDPOINT (use an
 * existing collector instead of starting the sink).
 *
 * POST /users reads and validates its body by hand: the kernel has no body parsing or schema
 * validation yet. This goes away when typed routes land.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { DiagConsoleLogger, DiagLogLevel, diag } from '@opentelemetry/api'
import { createApp, problem, type RequestContext, runApp, sendProblem } from 'keel'

const port = Number(process.env.PORT)
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('bench/server.ts: set PORT to the TCP port to listen on (127.0.0.1 only)\n')
  process.exit(1)
}
const logFile = process.env.LOG_FILE || '/dev/null'

/** Starts the harness's OTLP sink as a child; its first stdout line is the port it listens on. */
async function startSink(): Promise<string> {
  const script = resolve(process.env.OTLP_SINK_SCRIPT ?? 'servers/lib/otlp-sink.mjs')
  const cpus = process.env.OTLP_SINK_CPUS
  const sink = cpus
    ? spawn('taskset', ['-c', cpus, process.execPath, script], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: sink.stdout })
  const [sinkPort] = (await Promise.race([
    once(lines, 'line'),
    once(sink, 'exit').then(([code]) => {
      throw new Error(`otlp-sink (${script}) exited with ${code} before printing its port`)
    }),
  ])) as [string]
  // The sink prints its span count to stderr when this process exits and its stdin closes.
  return `http://127.0.0.1:${sinkPort.trim()}`
}

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || (await startSink())
// Surfaces the BatchSpanProcessor's "Dropped N spans" warnings, as fastify-prod does.
diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN)

export const app = createApp({
  root: import.meta.dirname,
  overrides: {
    service: { name: 'keel-bench' },
    server: { host: '127.0.0.1', port },
    log: { level: 'info', format: 'json', destination: logFile },
    metrics: { enabled: true, defaultMetrics: true },
    tracing: { enabled: true, endpoint, sampleRatio: 1 },
  },
})

let handled = 0
let lastId = 0

app.get('/hello', () => {
  handled++
  return { hello: 'world' }
})

app.get('/users/:id', (ctx) => {
  handled++
  const id = ctx.params.id!
  return { id, name: `user-${id}` }
})

app.post('/users', async (ctx) => {
  handled++
  const type = ctx.req.headers['content-type'] ?? ''
  if (!type.startsWith('application/json')) {
    return badRequest(ctx, 415, 'content-type must be application/json')
  }
  let text: string
  try {
    text = await readBody(ctx.req, maxBodyBytes)
  } catch (error) {
    if (error instanceof BodyTooLarge) return badRequest(ctx, 413, `body exceeds ${maxBodyBytes} bytes`)
    throw error
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return badRequest(ctx, 400, 'body is not valid JSON')
  }
  const problemText = userProblem(body)
  if (problemText) return badRequest(ctx, 400, problemText)
  ctx.status = 201
  return { ...(body as NewUser), id: String(++lastId) }
})

app.onStateChange(({ to }) => {
  if (to === 'stopped') process.stderr.write(`keel-bench: requests handled=${handled}\n`)
})

// --- body reading and validation, by hand until typed routes land -------------------------------

const maxBodyBytes = 1024 * 1024

class BodyTooLarge extends Error {}

/** The request body as UTF-8 text, at most `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        req.resume()
        reject(new BodyTooLarge())
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => {
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'))
    })
    req.once('error', reject)
  })
}

interface NewUser {
  name: string
  email: string
  age: number
}

/**
 * What is wrong with a POST /users body, or undefined when it is valid. The same strict contract
 * as the harness's JSON schema: `name` string of 1..100 characters (code points, as Ajv counts),
 * `email` string, `age` integer 0..150, all three required, no other properties, no coercion.
 */
function userProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object'
  const user = body as Record<string, unknown>
  for (const key of Object.keys(user)) {
    if (key !== 'name' && key !== 'email' && key !== 'age') return `unknown property "${key}"`
  }
  const { name, email, age } = user
  if (typeof name !== 'string') return 'name: required string'
  const length = name.length > 100 ? codePoints(name) : name.length
  if (length < 1 || length > 100) return 'name: must be 1..100 characters'
  if (typeof email !== 'string') return 'email: required string'
  if (typeof age !== 'number' || !Number.isInteger(age)) return 'age: required integer'
  if (age < 0 || age > 150) return 'age: must be 0..150'
  return undefined
}

/** Length in Unicode code points (a surrogate pair counts once), as JSON Schema defines it. */
function codePoints(text: string): number {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) i++
    }
    count++
  }
  return count
}

function badRequest(ctx: RequestContext, status: number, detail: string): undefined {
  sendProblem(ctx.res, problem('BENCH_INVALID_BODY', status, detail, { requestId: ctx.requestId }))
  return undefined
}

await runApp(app)
