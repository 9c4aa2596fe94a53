// Resource routes against a hand-written Fastify + postgres.js server, on real PostgreSQL.
//
// usage: npm run bench:resources [-- seconds rounds]      (defaults: 10 3)
// env:   DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), CONNECTIONS (default 64)
//
// Both servers read one seeded table (10,000 rows) in a schema of their own, dropped at the end.
// Scenarios: GET /v1/items/:id with a random id, GET /v1/items (first page of 20). Each round runs
// every server once per scenario, alternating, after a warm-up; the table reports the median
// round and the ratio keel / fastify.
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { baseUrl, itemRows, seedItems } from './seed.ts'

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

function start(name: string, script: string, port: number, execArgv: string[]): Promise<Server> {
  const child = fork(join(here, script), {
    env: { ...process.env, DATABASE_URL: seeded.url, PORT: String(port), KEEL_PROFILE: 'prod' },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ name, port, child }))
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)))
  })
}

const servers = [
  await start('keel', 'keel-server.ts', 41_711, ['--conditions=source', '--import', 'tsx']),
  await start('fastify', 'fastify-server.mjs', 41_712, []),
]

const scenarios = {
  'GET /v1/items/:id': () => `/v1/items/${1 + Math.floor(Math.random() * itemRows)}`,
  'GET /v1/items (20 rows)': () => '/v1/items',
}

async function load(server: Server, path: () => string, duration: number) {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections,
    duration,
    requests: [{ setupRequest: (request) => ({ ...request, path: path() }) }],
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${server.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return { rps: result.requests.average, p99: result.latency.p99 }
}

const results: Record<string, Record<string, { rps: number; p99: number }[]>> = {}
try {
  for (const [scenario, path] of Object.entries(scenarios)) {
    results[scenario] = {}
    for (const server of servers) {
      results[scenario][server.name] = []
      await load(server, path, 2) // warm-up: JIT, pools, plan cache
    }
    for (let round = 0; round < rounds; round++) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        results[scenario][server.name]!.push(await load(server, path, seconds))
      }
    }
  }
} finally {
  for (const server of servers) server.child.kill('SIGTERM')
  await seeded.drop()
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const lines = [
  `${connections} connections, ${seconds} s x ${rounds} rounds, median round; PostgreSQL at ${new URL(baseUrl).host}`,
  '',
  '| route | fastify + postgres.js req/s | keel req/s | keel / fastify | fastify p99 ms | keel p99 ms |',
  '|---|--:|--:|--:|--:|--:|',
]
for (const [scenario, byServer] of Object.entries(results)) {
  const keel = median(byServer.keel!.map((r) => r.rps))
  const fastify = median(byServer.fastify!.map((r) => r.rps))
  lines.push(
    `| ${scenario} | ${Math.round(fastify).toLocaleString('en')} | ${Math.round(keel).toLocaleString('en')} | ${(keel / fastify).toFixed(2)} | ${median(byServer.fastify!.map((r) => r.p99))} | ${median(byServer.keel!.map((r) => r.p99))} |`,
  )
}
console.log(lines.join('\n'))
const out = join(here, '..', 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, `resources-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify(results, null, 2),
)
