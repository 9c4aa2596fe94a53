// Durable steps per second: a steady stream of 5-step runs on PGlite (default) or PostgreSQL
// (DATABASE_URL), with CONCURRENCY runs in flight. PGLITE_DIR puts PGlite on disk instead of in memory. Run: npm run bench:flow-durable
import { openDb } from '../../src/data/index.ts'
import { FlowRunner, flow, step } from '../../src/flow/index.ts'

const url = process.env.DATABASE_URL
const concurrency = Number(process.env.CONCURRENCY ?? 64)
const total = Number(process.env.RUNS ?? 2_000)
const stepsPerRun = 5

// PostgreSQL: a fresh schema of its own each time, so runs do not accumulate or touch other data.
if (url) {
  const admin = await openDb({ url })
  await admin.execute('drop schema if exists keel_bench cascade; create schema keel_bench')
  await admin.close()
}
const dataDir = process.env.PGLITE_DIR
const db = await openDb(
  url ? { url: withSearchPath(url, 'keel_bench'), poolSize: 10 } : dataDir ? { dataDir } : {},
)

function withSearchPath(base: string, schema: string): string {
  const parsed = new URL(base)
  parsed.searchParams.set('search_path', schema)
  return parsed.toString()
}
const pass = (name: string) => step(name, (x: { n: number }) => x)
let builder = flow<{ n: number }>('bench').andThen(pass('s1'))
for (let i = 2; i <= stepsPerRun; i++) builder = builder.andThen(pass(`s${i}`))
const benchFlow = builder.build()
const runner = new FlowRunner({ db, flows: [benchFlow], concurrency, pollMs: 50 })
await runner.start()

async function stream(n: number): Promise<number> {
  const start = performance.now()
  let next = 0
  const worker = async () => {
    while (next < n) {
      const run = await runner.run(benchFlow, { n: next++ })
      if (run.status !== 'completed') throw new Error(`run ${run.id} ended ${run.status}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return performance.now() - start
}

await stream(Math.min(200, total / 5)) // warm-up
const ms = await stream(total)
const stepsPerSecond = Math.round((total * stepsPerRun) / (ms / 1000))
console.log(
  `${db.driver}: ${total} runs x ${stepsPerRun} steps, ${concurrency} in flight: ${ms.toFixed(0)} ms, ${stepsPerSecond} durable steps/s, ${Math.round(total / (ms / 1000))} runs/s`,
)
await runner.stop()
await db.close()
if (url) {
  const admin = await openDb({ url })
  await admin.execute('drop schema if exists keel_bench cascade')
  await admin.close()
}
