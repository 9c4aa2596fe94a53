/**
 * One worker process of the crash test, run as `node --conditions=source --import tsx crash-worker.ts`.
 * It opens the database (PostgreSQL at CRASH_DATABASE_URL, else PGlite in CRASH_DATA_DIR),
 * starts a FlowRunner with the order saga, submits its share of the orders with fixed run ids
 * (submitting an id that exists starts nothing, so a restarted worker just submits again), and
 * runs until it is killed. It writes JSON lines: `ready`, `submitted`, and `progress` (runs by
 * status, from the database) every 200 ms. SIGTERM stops it cleanly.
 * CRASH_PACE_MS pauses after each chunk of 20 new orders (default none).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type Db, openDb } from 'keel/data'
import { FlowRunner } from 'keel/flow'
import { pino } from 'pino'
import { orderFlow } from '../../../examples/orders/flows.ts'
import { migrateServices, OrderServices } from '../../../examples/orders/services.ts'
import { crashOrder, orderId } from './crash-orders.ts'

const env = process.env
const worker = env.CRASH_WORKER ?? 'a'
const generation = Number(env.CRASH_GENERATION ?? '0')
const total = Number(env.CRASH_ORDERS ?? '200')
// This worker submits orders i with i % of === index.
const [index, of] = (env.CRASH_SHARE ?? '0/1').split('/').map(Number) as [number, number]
const paceMs = Number(env.CRASH_PACE_MS ?? '0')

const say = (record: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ worker, generation, pid: process.pid, ...record })}\n`)

// Listening for SIGTERM from the first line: a stop asked for while the worker still starts
// must end it cleanly too, not by the signal's default action.
let stopping = false
let stop: (() => Promise<void>) | undefined
process.once('SIGTERM', () => {
  stopping = true
  void stop?.()
})

const url = env.CRASH_DATABASE_URL
const db: Db = url ? await openDb({ url, poolSize: 8 }) : await openDb({ dataDir: env.CRASH_DATA_DIR! })
await migrateServices(db)
const services = new OrderServices({
  db,
  caller: `${worker}#${generation}`,
  // The answer takes a few ms to come back after the provider applied the call: a kill in that
  // window leaves an effect without its checkpoint, which the resumed step must not repeat.
  latencyMs: () => 2 + Math.random() * 18,
})
const runner = new FlowRunner({
  db,
  flows: [orderFlow],
  bus: services.bus(),
  concurrency: 16,
  leaseMs: 1000,
  pollMs: 100,
  workerId: `${worker}#${generation}:${process.pid}`,
  // Warnings and errors go to stdout as JSON lines: the test reports them.
  logger: pino({ level: 'warn', base: { worker, generation } }),
})
await runner.start()
say({ msg: 'ready' })

stop = async () => {
  clearInterval(progress)
  await runner.stop(5000)
  await db.close()
  say({ msg: 'stopped' })
  process.exit(0)
}

const progress = setInterval(async () => {
  try {
    const rows = await db.query<{ status: string; n: number }>(
      'select status, count(*)::integer as n from keel_flow_runs group by status',
    )
    const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]))
    const final = (counts.completed ?? 0) + (counts.compensated ?? 0) + (counts.dead ?? 0)
    if (!stopping) say({ msg: 'progress', counts, final, active: runner.activeRuns })
  } catch {
    // The database is closing (SIGTERM): nothing to report.
  }
}, 200)
if (stopping) void stop()

// Submitted in chunks, so the inserts share transactions; a restarted worker finds them there.
const mine = Array.from({ length: total }, (_, k) => k + 1).filter((i) => i % of === index)
let created = 0
for (let k = 0; k < mine.length && !stopping; k += 20) {
  const chunk = mine.slice(k, k + 20)
  const results = await Promise.all(
    chunk.map((i) => runner.submit(orderFlow, crashOrder(i), { runId: orderId(i) })),
  )
  const fresh = results.filter((r) => r.created).length
  created += fresh
  if (fresh > 0 && paceMs > 0) await sleep(paceMs)
}
say({ msg: 'submitted', created })
