/**
 * The Keel peer of the http-peers benchmark: the harness's three routes on a Keel app with the
 * production surface on (see bench/README.md):
 *   - JSON request log to LOG_FILE (default /dev/null), one line per request,
 *   - Prometheus metrics (process defaults + RED per route) on /metrics,
 *   - OpenTelemetry tracing, one SERVER span per request, 100% sampled, OTLP/HTTP JSON to a real
 *     local sink: the harness's `servers/lib/otlp-sink.mjs`, started here as a child process the
 *     way the harness's fastify-prod peer does it (pinned to OTLP_SINK_CPUS when set),
 *   - CORS (one allowed origin), security headers and a rate limit, as fastify-prod has,
 *   - /live, /ready, /health probes and graceful shutdown on SIGTERM (runApp).
 *
 * Env: PORT (required), LOG_FILE, OTLP_SINK_SCRIPT (path of otlp-sink.mjs; default relative to
 * the harness directory, where run.sh starts this file), OTEL_EXPORTER_OTLP_ENDPOINT (use an
 * existing collector instead of starting the sink).
 *
 * POST /users is a typed route: Keel reads, parses and validates the body against its schema
 * and serializes the response through the response schema.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { DiagConsoleLogger, DiagLogLevel, diag } from '@opentelemetry/api'
import { createApp, runApp, Type } from 'keel'
import { cors, rateLimit, securityHeaders } from 'keel/http'

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

// KEEL_BENCH_MODE=bare measures the framework alone: no tracing, no access log, no guards
// (metrics stay: they are part of every Keel app). The default is the production stack.
const isBare = process.env.KEEL_BENCH_MODE === 'bare'
const endpoint = isBare
  ? 'http://127.0.0.1:4318'
  : process.env.OTEL_EXPORTER_OTLP_ENDPOINT || (await startSink())
// Surfaces the BatchSpanProcessor's "Dropped N spans" warnings, as fastify-prod does.
diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN)

export const app = createApp({
  root: import.meta.dirname,
  overrides: {
    service: { name: 'keel-bench' },
    server: { host: '127.0.0.1', port },
    log: { level: isBare ? 'warn' : 'info', format: 'json', destination: logFile },
    metrics: { enabled: true, defaultMetrics: true },
    tracing: { enabled: !isBare, endpoint, sampleRatio: 1 },
  },
})

// The same guards as fastify-prod: CORS with one allowed origin, security headers (helmet's
// defaults), and a rate limit high enough never to trigger (10,000,000 per minute per IP).
if (!isBare) {
  app.guard(
    cors({ origins: [process.env.CORS_ORIGIN || 'https://app.example.com'] }),
    securityHeaders(),
    rateLimit({ limit: 10_000_000, windowMs: 60_000 }),
  )
}

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

const NewUser = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  email: Type.String(),
  age: Type.Integer({ minimum: 0, maximum: 150 }),
})
const User = Type.Object({
  id: Type.String(),
  name: Type.String(),
  email: Type.String(),
  age: Type.Integer(),
})

// A typed route: the body is read, parsed and validated (fail closed: unknown fields are 400s),
// the response serialized through its schema.
app.post('/users', { body: NewUser, response: { 201: User } }, (ctx) => {
  handled++
  ctx.status = 201
  return { ...ctx.body, id: String(++lastId) }
})

app.onStateChange(({ to }) => {
  if (to === 'stopped') process.stderr.write(`keel-bench: requests handled=${handled}\n`)
})

await runApp(app)
