// What one request span costs with the inspector's recorder against the OpenTelemetry SDK
// alone (a provider with no processor), in the same process: the recorder's share of the
// inspector overhead. Run: node --conditions=source --import tsx bench/inspector/span-cost.ts
import { SpanKind } from '@opentelemetry/api'
import { AlwaysOnSampler, BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import {
  InFlight,
  runningOperationOf,
  SpanRecorder,
  TraceStore,
  WindowSet,
} from '../../src/inspector/index.ts'

const N = Number(process.env.SPANS ?? 200_000)
const rounds = Number(process.env.ROUNDS ?? 5)

function tracer(processors: SpanProcessor[]) {
  return new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: processors }).getTracer(
    'bench',
  )
}

const windows = {
  bucketMs: 1000,
  buckets: 60,
  maxSeries: 2000,
  describe: (a: string, b: string) => ({ key: `${a} ${b}`, labels: { a, b } }),
}
const recorder = new SpanRecorder({
  store: new TraceStore({
    maxSpans: Number(process.env.MAX_SPANS ?? 20_000),
    maxBytes: 32 * 1024 * 1024,
    maxSpansPerTrace: 1000,
  }),
  routes: new WindowSet(windows),
  steps: new WindowSet(windows),
  flows: new WindowSet(windows),
  inFlight: new InFlight(runningOperationOf),
  onTrace: () => {},
  // The default: 100 traces a second kept (PER_SECOND=0 keeps every trace).
  maxTracesPerSecond: Number(process.env.PER_SECOND ?? 100),
})
const bare = tracer([])
const recorded = tracer([recorder])

function run(t: ReturnType<typeof tracer>): number {
  const start = performance.now()
  for (let i = 0; i < N; i++) {
    const span = t.startSpan('GET', {
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

run(bare)
run(recorded)
const ns = { bare: [] as number[], recorded: [] as number[] }
for (let r = 0; r < rounds; r++) {
  ns.bare.push(run(bare))
  ns.recorded.push(run(recorded))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`${N} request spans per round, median of ${rounds} (node ${process.version})`)
console.log(`OpenTelemetry SDK span alone:  ${median(ns.bare).toFixed(0)} ns/span`)
console.log(
  `with the inspector's recorder: ${median(ns.recorded).toFixed(0)} ns/span (+${(median(ns.recorded) - median(ns.bare)).toFixed(0)} ns)`,
)
