// postgres.js under more concurrent queries than connections, as Keel's PostgreSQL driver runs
// it: 64 workers run `select 1` through openPostgresDb with a pool of 10, in batches of 25,600
// queries; each batch prints queries per second and this process's CPU time per query.
//
// What it shows (postgres.js 3.4.9): with every connection busy, postgres.js pipelines the next
// query onto a busy one (`go(busy.shift(), query)`, then `move(c, busy)`); `move` looks the
// connection up in its queue with `indexOf`, misses it (the shift took it out, leaving a hole)
// and pushes it again, so the busy queue's array gains a slot per pipelined query and is only
// emptied when a later shift takes its last entry, which steady saturation never does. CPU per
// query climbs batch after batch. Holding queries in Keel so that no more than the pool size are
// in flight removed the climb but cost a quarter of the throughput of pipelining on the
// resources bench (0.88 → 0.74 of the peer), so Keel does not; see docs/data.md.
// Run: node --conditions=source --import tsx bench/data/pool-saturation.ts
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BATCHES (default 6) override.
import { openPostgresDb } from '../../src/data/index.ts'

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const batches = Number(process.env.BATCHES ?? 6)
const workers = 64
const perWorker = 400

const db = await openPostgresDb({ url, poolSize: 10 })
console.log(`${workers} workers, pool of 10, ${workers * perWorker} queries per batch`)
for (let batch = 0; batch < batches; batch++) {
  const startedAt = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < perWorker; i++) await db.query('select 1 as x')
    }),
  )
  const used = process.cpuUsage(cpu)
  const count = workers * perWorker
  const perSecond = count / ((performance.now() - startedAt) / 1000)
  const cpuUs = (used.user + used.system) / count
  console.log(`  batch ${batch + 1}: ${perSecond.toFixed(0)} queries/s, ${cpuUs.toFixed(1)} µs CPU/query`)
}
await db.close()
