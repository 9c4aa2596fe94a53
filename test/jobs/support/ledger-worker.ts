/**
 * One worker process of the jobs crash and ledger tests, run as
 * `node --conditions=source --import tsx ledger-worker.ts`. It starts an app with a database
 * (PostgreSQL at JOBS_DATABASE_URL, else PGlite in JOBS_DATA_DIR) and a jobs module with one queue,
 * `ledger`, whose handler counts each execution and writes the job's effect once, keyed by the
 * job id. It sends JOBS_SEND jobs (if any), then works until SIGTERM. JOBS_HANG=1 makes the
 * handler announce the job and never finish (the test kills the process there).
 * It writes JSON lines: the app's log, plus `ready`, `sent`, `job started` and `job done`.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createApp } from 'keel/app'
import { database } from 'keel/data'
import { jobs, queue } from 'keel/jobs'

const env = process.env
const worker = env.JOBS_WORKER ?? 'a'
const hang = env.JOBS_HANG === '1'
const say = (record: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ worker, pid: process.pid, ...record })}\n`)

const data = database({ migrations: false })
const ledger = queue('ledger', {
  data: Type.Object({ n: Type.Integer() }),
  expireInSeconds: 2,
  retryLimit: 5,
  handler: async ({ n }, ctx) => {
    say({ msg: 'job started', id: ctx.id, n, attempt: ctx.attempt })
    if (hang) await new Promise(() => {})
    await data.db.query('insert into jobs_executions (job_id, worker) values ($1, $2)', [ctx.id, worker])
    // The effect, made exactly-once by the job id: a second delivery conflicts and adds nothing.
    await data.db.query(
      'insert into jobs_ledger (job_id, n, worker, attempt) values ($1, $2, $3, $4) on conflict (job_id) do nothing',
      [ctx.id, n, worker, ctx.attempt],
    )
    if (!hang) say({ msg: 'job done', id: ctx.id, n, attempt: ctx.attempt })
  },
})
const module = jobs({ database: data, queues: [ledger] })
const app = createApp({
  env: {},
  root: mkdtempSync(join(tmpdir(), 'keel-jobs-worker-')),
  modules: [data, module],
  overrides: {
    server: { port: 0, host: '127.0.0.1' },
    log: { level: 'warn' },
    metrics: { defaultMetrics: false },
    ...(env.JOBS_DATABASE_URL ? { database: { url: env.JOBS_DATABASE_URL } } : {}),
    ...(env.JOBS_DATA_DIR ? { data: { dataDir: env.JOBS_DATA_DIR } } : {}),
    jobs: {
      schema: env.JOBS_SCHEMA ?? 'keel_jobs',
      pollingIntervalSeconds: 0.5,
      maintenanceIntervalSeconds: 1,
      concurrency: Number(env.JOBS_CONCURRENCY ?? '4'),
    },
  },
})

process.once('SIGTERM', () => {
  void app.stop().then(() => {
    say({ msg: 'stopped' })
    process.exit(0)
  })
})

await app.start()
// Under a lock: two workers creating the same table at once would collide in the catalog.
await data.db.transaction(async (tx) => {
  await tx.query("select pg_advisory_xact_lock(hashtext('keel.test.jobs.ledger'))")
  await tx.query(
    'create table if not exists jobs_executions (id bigserial primary key, job_id uuid not null, worker text not null)',
  )
  await tx.query(
    'create table if not exists jobs_ledger (job_id uuid primary key, n integer not null, worker text not null, attempt integer not null)',
  )
})
say({ msg: 'ready' })
const total = Number(env.JOBS_SEND ?? '0')
const offset = Number(env.JOBS_SEND_FROM ?? '0')
for (let k = 0; k < total; k += 50) {
  const chunk = Array.from({ length: Math.min(50, total - k) }, (_, i) => offset + k + i)
  await Promise.all(chunk.map((n) => module.send(ledger, { n })))
}
if (total > 0) say({ msg: 'sent', count: total })
