// What the inspector's tracing adds to one request, in ns, without sockets: the calls the HTTP
// server makes per request (start the server span, run the handler in its context, end it),
// many times over, in the same process and rounds interleaved.
// Run: node --conditions=source --import tsx bench/inspector/span-cost.ts
//
// Variants:
// - no tracing: the request context alone (`runWithContext`), what an app without the
//   inspector and without export does;
// - inspector (the default): tracing observes requests, makes a recorded span only for the
//   traces the inspector keeps (`PER_SECOND`, default 100; 0 keeps all), the rest feed the
//   route windows and the in-flight set;
// - every request spanned: the same recorder beside a second (no-op) processor, which makes
//   tracing record every request, the inspector's behaviour before head decisions;
// - SDK span alone / SDK span + recorder: a bare OpenTelemetry provider, the recorder as a plain
//   processor (no request observation), as earlier versions of this benchmark measured.
// SPANS (requests per round, default 200 000), ROUNDS (default 7), MAX_SPANS override.
import { SpanKind } from '@opentelemetry/api'
import { AlwaysOnSampler, BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import {
  hasOperationEnded,
  InFlight,
  runningOperationOf,
  SpanRecorder,
  TraceStore,
  WindowSet,
} from '../../src/inspector/index.ts'
import { runWithContext } from '../../src/log/index.ts'
import { createTracing } from '../../src/telemetry/index.ts'

const N = Number(process.env.SPANS ?? 200_000)
const rounds = Number(process.env.ROUNDS ?? 7)

const windows = {
  bucketMs: 1000,
  buckets: 60,
  maxSeries: 2000,
  describe: (a: string, b: string) => ({ key: `${a} ${b}`, labels: { a, b } }),
}
const recorder = () =>
  new SpanRecorder({
    store: new TraceStore({
      maxSpans: Number(process.env.MAX_SPANS ?? 20_000),
      maxBytes: 32 * 1024 * 1024,
      maxSpansPerTrace: 1000,
    }),
    routes: new WindowSet(windows),
    steps: new WindowSet(windows),
    flows: new WindowSet(windows),
    inFlight: new InFlight(runningOperationOf, hasOperationEnded),
    onTrace: () => {},
    maxTracesPerSecond: Number(process.env.PER_SECOND ?? 100),
  })
const noop: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
}
const tracingOptions = {
  enabled: false,
  endpoint: 'http://127.0.0.1:1',
  sampleRatio: 1,
  headers: {},
  exportTimeoutMs: 1000,
  serviceName: 'bench',
  serviceVersion: '0.0.0',
}
const observing = await createTracing({ ...tracingOptions, processors: [recorder()] })
const everySpanned = await createTracing({ ...tracingOptions, processors: [recorder(), noop] })
const headers = { host: '127.0.0.1', 'user-agent': 'autocannon' }
const handler = (n: number) => n + 1

function noTracing(): number {
  const start = performance.now()
  for (let i = 0; i < N; i++) {
    runWithContext({ requestId: 'r', traceId: 't', spanId: undefined }, handler, i)
  }
  return ((performance.now() - start) * 1e6) / N
}

function traced(tracing: typeof observing) {
  return (): number => {
    const start = performance.now()
    for (let i = 0; i < N; i++) {
      const span = tracing.startServerSpan('GET', '/users/42', headers)!
      span.run(handler, { requestId: 'r', traceId: span.traceId, spanId: span.spanId }, i)
      span.end(200, '/users/:id')
    }
    return ((performance.now() - start) * 1e6) / N
  }
}

function sdk(processors: SpanProcessor[]) {
  const tracer = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: processors,
  }).getTracer('bench')
  return (): number => {
    const start = performance.now()
    for (let i = 0; i < N; i++) {
      const span = tracer.startSpan('GET', {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'url.path': '/users/42',
          'user_agent.original': 'autocannon',
        },
      })
      span.updateName('GET /users/:id')
      span.setAttribute('http.route', '/users/:id')
      span.setAttribute('http.response.status_code', 200)
      span.end()
    }
    return ((performance.now() - start) * 1e6) / N
  }
}

const variants: Record<string, () => number> = {
  'no tracing (request context only)': noTracing,
  'inspector (default)': traced(observing),
  'every request spanned': traced(everySpanned),
  'SDK span alone': sdk([]),
  'SDK span + recorder': sdk([recorder()]),
}
const ns: Record<string, number[]> = {}
for (const [name, run] of Object.entries(variants)) {
  run() // warm-up (JIT)
  ns[name] = []
}
for (let r = 0; r < rounds; r++) for (const [name, run] of Object.entries(variants)) ns[name]!.push(run())
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`${N} requests per round, median (min..max) of ${rounds} rounds, node ${process.version}`)
const base = median(ns['no tracing (request context only)']!)
for (const [name, values] of Object.entries(ns)) {
  const m = median(values)
  const added = name.startsWith('SDK') ? '' : `  (+${(m - base).toFixed(0)} ns over no tracing)`
  console.log(
    `${name.padEnd(34)} ${m.toFixed(0).padStart(5)} ns/request (${Math.min(...values).toFixed(0)}..${Math.max(...values).toFixed(0)})${added}`,
  )
}
await Promise.all([observing.shutdown(), everySpanned.shutdown()])
