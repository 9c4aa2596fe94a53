// The inspector's cost on the request path: a server process with two apps with the same routes
// and settings, one without the inspector and one with it (spans recorded in-process, export
// off, windows, stall tracking, the trace store), loaded in turn by autocannon from this process.
// Two figures per variant and round: requests per second, and the server process's CPU time per
// request (autocannon's own CPU is not in it). CPU time per request moves far less than
// throughput when other work shares the machine, so it is the steadier of the two; at saturation
// throughput is its inverse. Medians and ranges over rounds; each round runs both variants back
// to back, in alternating order.
// Run: node --conditions=source --import tsx bench/inspector/overhead.ts
// DURATION (s, default 5), ROUNDS (default 4), CONNECTIONS (default 50) and STORE_SPANS
// (inspector.store.maxSpans, default 20 000) override.
import { fork } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import autocannon from 'autocannon'
import { type App, createApp } from '../../src/app/index.ts'
import { inspector } from '../../src/inspector/index.ts'

const duration = Number(process.env.DURATION ?? 5)
const rounds = Number(process.env.ROUNDS ?? 4)
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

interface Load {
  perSecond: number
  /** CPU time of the server process per request, µs. */
  cpuUs: number
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length / 2
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const range = (xs: number[], digits: number) =>
  `${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)}`

/** The server process: both apps; it answers the parent's questions over IPC. */
async function serve(): Promise<void> {
  const plain = build(false)
  const inspected = build(true)
  const urls = { plain: (await plain.start()).url, inspected: (await inspected.start()).url }
  process.on('message', async (message: string) => {
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() })
    if (message === 'stop') {
      await Promise.all([plain.stop(), inspected.stop()])
      process.exit(0)
    }
  })
  process.send!({ urls })
}

/** The load generator: forks the server, loads each app in turn, prints the figures. */
async function measure(): Promise<void> {
  const server = fork(new URL(import.meta.url).pathname, [], {
    env: { ...process.env, KEEL_BENCH_ROLE: 'server' },
  })
  const ask = <T>(question: string | undefined, key: string): Promise<T> =>
    new Promise((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return
        server.off('message', onMessage)
        resolve(message[key] as T)
      }
      server.on('message', onMessage)
      if (question) server.send(question)
    })
  const urls = await ask<{ plain: string; inspected: string }>(undefined, 'urls')
  const load = async (url: string): Promise<Load> => {
    const before = await ask<NodeJS.CpuUsage>('cpu', 'cpu')
    const result = await autocannon({ url, connections, duration, pipelining: 1 })
    const after = await ask<NodeJS.CpuUsage>('cpu', 'cpu')
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
    const usedUs = after.user - before.user + after.system - before.system
    return { perSecond: result.requests.average, cpuUs: usedUs / result.requests.total }
  }

  console.log(
    `inspector overhead: ${rounds} x ${duration} s per variant, ${connections} connections, node ${process.version}`,
  )
  for (const path of ['/hello', '/users/42']) {
    // Warm both (JIT, connection pools) before measuring.
    await autocannon({ url: urls.plain + path, connections, duration: 1 })
    await autocannon({ url: urls.inspected + path, connections, duration: 1 })
    const without: Load[] = []
    const withIt: Load[] = []
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so drift (thermal, other load) does not favour one side.
      if (round % 2 === 0) {
        without.push(await load(urls.plain + path))
        withIt.push(await load(urls.inspected + path))
      } else {
        withIt.push(await load(urls.inspected + path))
        without.push(await load(urls.plain + path))
      }
    }
    // Per round: the pair ran back to back, so their ratio and difference cancel most drift.
    const ratios = withIt.map((w, i) => w.perSecond / without[i]!.perSecond)
    const addedUs = withIt.map((w, i) => w.cpuUs - without[i]!.cpuUs)
    const cpuRatios = withIt.map((w, i) => without[i]!.cpuUs / w.cpuUs)
    const perSecond = (loads: Load[]) => median(loads.map((l) => l.perSecond)).toFixed(0)
    const cpu = (loads: Load[]) => median(loads.map((l) => l.cpuUs)).toFixed(1)
    console.log(
      `GET ${path.padEnd(10)} req/s without ${perSecond(without)}, with ${perSecond(withIt)}: ` +
        `ratio ${median(ratios).toFixed(3)} (rounds ${range(ratios, 2)})\n` +
        `${' '.repeat(14)} server CPU µs/request without ${cpu(without)}, with ${cpu(withIt)}: ` +
        `+${median(addedUs).toFixed(1)} µs (rounds ${range(addedUs, 1)}), ` +
        `CPU ratio ${median(cpuRatios).toFixed(3)} (rounds ${range(cpuRatios, 2)})`,
    )
  }
  const metrics = await fetch(`${urls.inspected}/_keel/inspector/v1/metrics`)
  const { store } = (await metrics.json()) as { store: Record<string, number> }
  console.log(`inspector store after the run: ${JSON.stringify(store)}`)
  server.send('stop')
}

if (process.env.KEEL_BENCH_ROLE === 'server') await serve()
else await measure()
