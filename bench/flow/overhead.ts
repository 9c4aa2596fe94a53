// Per-step overhead of Keel's in-memory flow runner against a plain chain of async functions
// doing the same work. Run: npm run bench:flow-overhead  (ROUNDS, RUNS and STEPS override).
import { Registry } from 'prom-client'
import { flow, runFlow, step } from '../../src/flow/index.ts'

const steps = Number(process.env.STEPS ?? 10)
const runs = Number(process.env.RUNS ?? 50_000)
const rounds = Number(process.env.ROUNDS ?? 7)

const add = (x: number) => x + 1
const fns = Array.from({ length: steps }, () => async (x: number) => add(x))
let builder = flow<number>('bench').andThen(step('s0', add))
for (let i = 1; i < steps; i++) builder = builder.andThen(step(`s${i}`, add))
const chain = builder.build()
const registry = new Registry()

async function plain(): Promise<number> {
  let v = 0
  for (let r = 0; r < runs; r++) {
    v = 0
    for (const fn of fns) v = await fn(v)
  }
  return v
}

async function keel(withMetrics: boolean): Promise<number> {
  let v = 0
  const options = withMetrics ? { timeline: false, registry } : { timeline: false }
  for (let r = 0; r < runs; r++) {
    const result = await runFlow(chain, 0, options)
    if (result.status !== 'completed') throw new Error(`run ended ${result.status}`)
    v = result.output
  }
  return v
}

async function time(fn: () => Promise<number>): Promise<number> {
  const start = process.hrtime.bigint()
  const v = await fn()
  if (v !== steps) throw new Error(`wrong result ${v}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const samples = { plain: [] as number[], keel: [] as number[], metrics: [] as number[] }
await time(plain)
await time(() => keel(false))
await time(() => keel(true))
for (let round = 0; round < rounds; round++) {
  samples.plain.push(await time(plain))
  samples.keel.push(await time(() => keel(false)))
  samples.metrics.push(await time(() => keel(true)))
}
const perStepNs = (ms: number) => ((ms - median(samples.plain)) * 1e6) / (runs * steps)
console.log(
  `flow of ${steps} steps, ${runs} runs per round, median of ${rounds} rounds (node ${process.version})`,
)
console.log(`plain async chain: ${median(samples.plain).toFixed(1)} ms`)
console.log(
  `runFlow:           ${median(samples.keel).toFixed(1)} ms  -> ${perStepNs(median(samples.keel)).toFixed(0)} ns overhead per step`,
)
console.log(
  `runFlow + metrics: ${median(samples.metrics).toFixed(1)} ms  -> ${perStepNs(median(samples.metrics)).toFixed(0)} ns overhead per step`,
)
