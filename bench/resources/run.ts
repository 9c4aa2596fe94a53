// Resource routes against a hand-written Fastify + postgres.js server, on real PostgreSQL.
//
// usage: npm run bench:resources [-- seconds rounds]      (defaults: 10 3)
// env:   DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), CONNECTIONS (default 64)
//
// Both servers read one seeded table (10,000 rows) in a schema of their own, dropped at the end.
// Scenarios: GET /v1/items/:id with a random id, GET /v1/items (first page of 20). Each round runs
// every server once per scenario, alternating, each in a process of its own started for the round
// and warmed up first. A fresh process per round matters: postgres.js's connection queues grow
// with every statement pipelined onto a busy connection and never shrink back (see
// bench/README.md), so a server's cost per request rises with the statements it has served, and
// the faster server would pay more for it in later rounds. The table reports the median
// round, the ratio keel / fastify of those medians, the median of the rounds' own ratios (each
// pair ran back to back, so it shares the machine's state of the moment), and each server's CPU
// time per request (its process.cpuUsage() over the round, asked over IPC). On a machine where
// the load generator and PostgreSQL share the cores with the server, req/s moves with whatever
// else runs; CPU per request moves far less.
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadItems, paths, readyPort } from './load.ts'
import { baseUrl, seedItems } from './seed.ts'

const here = import.meta.dirname
const seconds = Number(process.argv[2] ?? 10)
const rounds = Number(process.argv[3] ?? 3)
const connections = Number(process.env.CONNECTIONS ?? 64)
const seeded = await seedItems(`bench_resources_${process.pid}`)

interface Server {
  readonly name: string
  readonly port: number
  readonly child: ChildProcess
}

/** The server's own CPU time so far, in µs (user + system), asked over IPC. */
function cpuOf(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (usage) => {
      const { user, system } = usage as NodeJS.CpuUsage
      resolve(user + system)
    })
    server.child.send('cpu')
  })
}

async function start(name: string, script: string, execArgv: string[]): Promise<Server> {
  const child = fork(join(here, script), {
    env: { ...process.env, DATABASE_URL: seeded.url, KEEL_PROFILE: 'prod' },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return { name, port: await readyPort(child, name), child }
}

const servers = {
  keel: () => start('keel', 'keel-server.ts', ['--conditions=source', '--import', 'tsx']),
  fastify: () => start('fastify', 'fastify-server.mjs', []),
}

function stop(server: Server): Promise<void> {
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()))
  server.child.kill('SIGTERM')
  return exited
}

const scenarios = {
  'GET /v1/items/:id': paths.get,
  'GET /v1/items (20 rows)': paths.list,
}

async function load(server: Server, path: () => string, duration: number) {
  const result = await loadItems(server, path, duration, connections)
  return { rps: result.requests.average, p99: result.latency.p99, requests: result.requests.total }
}

interface Round {
  rps: number
  p99: number
  cpuUsPerRequest: number
}

async function measure(server: Server, path: () => string, duration: number): Promise<Round> {
  const before = await cpuOf(server)
  const { rps, p99, requests } = await load(server, path, duration)
  return { rps, p99, cpuUsPerRequest: ((await cpuOf(server)) - before) / requests }
}

const results: Record<string, Record<string, Round[]>> = {}
try {
  for (const [scenario, path] of Object.entries(scenarios)) {
    results[scenario] = { keel: [], fastify: [] }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['keel', 'fastify'] as const) : (['fastify', 'keel'] as const)
      for (const name of order) {
        const server = await servers[name]()
        try {
          await load(server, path, 2) // warm-up: JIT, pools, plan cache
          results[scenario][name]!.push(await measure(server, path, seconds))
        } finally {
          await stop(server)
        }
      }
    }
  }
} finally {
  await seeded.drop()
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const lines = [
  `${connections} connections, ${seconds} s x ${rounds} rounds, median round; PostgreSQL at ${new URL(baseUrl).host}`,
  '',
  '| route | fastify + postgres.js req/s | keel req/s | keel / fastify | median of round ratios | fastify CPU µs/req | keel CPU µs/req | CPU fastify / keel | fastify p99 ms | keel p99 ms |',
  '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
]
for (const [scenario, byServer] of Object.entries(results)) {
  const keel = byServer.keel!
  const fastify = byServer.fastify!
  const rps = (rounds: Round[]) => median(rounds.map((r) => r.rps))
  const cpu = (rounds: Round[]) => median(rounds.map((r) => r.cpuUsPerRequest))
  const roundRatios = keel.map((round, i) => round.rps / fastify[i]!.rps)
  lines.push(
    `| ${scenario} | ${Math.round(rps(fastify)).toLocaleString('en')} | ${Math.round(rps(keel)).toLocaleString('en')} | ${(rps(keel) / rps(fastify)).toFixed(2)} | ${median(roundRatios).toFixed(2)} | ${cpu(fastify).toFixed(0)} | ${cpu(keel).toFixed(0)} | ${(cpu(fastify) / cpu(keel)).toFixed(2)} | ${median(fastify.map((r) => r.p99))} | ${median(keel.map((r) => r.p99))} |`,
  )
}
console.log(lines.join('\n'))
const out = join(here, '..', 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, `resources-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify(results, null, 2),
)
