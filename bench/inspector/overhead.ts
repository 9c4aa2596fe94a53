// The inspector's cost on the request path: one process, two apps with the same routes and
// settings, one without the inspector and one with it (spans recorded in-process, export off,
// windows, stall tracking, the trace store), loaded in turn by autocannon in the same run.
// Run: node --conditions=source --import tsx bench/inspector/overhead.ts
// DURATION (s, default 5), ROUNDS (default 2), CONNECTIONS (default 50) and STORE_SPANS
// (inspector.store.maxSpans, default 20 000) override.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import autocannon from 'autocannon'
import { type App, createApp } from '../../src/app/index.ts'
import { inspector } from '../../src/inspector/index.ts'

const duration = Number(process.env.DURATION ?? 5)
const rounds = Number(process.env.ROUNDS ?? 2)
const connections = Number(process.env.CONNECTIONS ?? 50)

const silent = { write() {} }

function build(withInspector: boolean): App {
  const app = createApp({
    root: mkdtempSync(join(tmpdir(), 'keel-bench-')),
    env: {},
    logStream: silent,
    modules: withInspector ? [inspector()] : [],
    overrides: {
      server: { port: 0, host: '127.0.0.1' },
      log: { level: 'warn' },
      metrics: { defaultMetrics: false },
      ...(withInspector && process.env.STORE_SPANS
        ? { inspector: { store: { maxSpans: Number(process.env.STORE_SPANS) } } }
        : {}),
    },
  })
  app.get('/hello', () => ({ hello: 'world' }))
  app.get(
    '/users/:id',
    {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ id: Type.Integer(), name: Type.String() }) },
    },
    (ctx) => ({ id: ctx.params.id, name: 'Ada' }),
  )
  return app
}

async function load(url: string): Promise<number> {
  const result = await autocannon({ url, connections, duration, pipelining: 1 })
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result.requests.average
}

const plain = build(false)
const inspected = build(true)
const plainUrl = (await plain.start()).url
const inspectedUrl = (await inspected.start()).url

console.log(
  `inspector overhead: ${rounds} x ${duration} s per variant, ${connections} connections, node ${process.version}`,
)
for (const path of ['/hello', '/users/42']) {
  // Warm both (JIT, connection pools) before measuring.
  await autocannon({ url: plainUrl + path, connections, duration: 1 })
  await autocannon({ url: inspectedUrl + path, connections, duration: 1 })
  const without: number[] = []
  const withIt: number[] = []
  for (let round = 0; round < rounds; round++) {
    // Alternate the order, so drift (thermal, other load) does not favour one side.
    if (round % 2 === 0) {
      without.push(await load(plainUrl + path))
      withIt.push(await load(inspectedUrl + path))
    } else {
      withIt.push(await load(inspectedUrl + path))
      without.push(await load(plainUrl + path))
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const ratio = mean(withIt) / mean(without)
  console.log(
    `GET ${path.padEnd(10)} without: ${mean(without).toFixed(0)} req/s  with: ${mean(withIt).toFixed(0)} req/s  ratio ${ratio.toFixed(3)} (overhead ${((1 - ratio) * 100).toFixed(1)} %)  rounds: ${without.map((x) => x.toFixed(0)).join('/')} vs ${withIt.map((x) => x.toFixed(0)).join('/')}`,
  )
}
const store = (await fetch(`${inspectedUrl}/_keel/inspector/v1/metrics`).then((r) => r.json())) as {
  store: Record<string, number>
}
console.log(`inspector store after the run: ${JSON.stringify(store.store)}`)
await Promise.all([plain.stop(), inspected.stop()])
