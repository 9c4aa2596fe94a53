// The inspector's cost on the request path: two server processes with the same app, one without
// the inspector and one with it (spans recorded in-process, export off, windows, stall tracking,
// the trace store), loaded in turn by autocannon from this process. A process each, so that the
// JIT of one variant does not shape the other's (one process serving both made shared call sites
// polymorphic, and the variant measured second paid for it). Two figures per variant and round:
// requests per second, and the server process's CPU time per request (autocannon's own CPU is
// not in it). CPU time per request moves far less than
// throughput when other work shares the machine, so it is the steadier of the two; at saturation
// throughput is its inverse. Medians and ranges over rounds; each round runs both variants back
// to back, in alternating order.
// Run: node --conditions=source --import tsx bench/inspector/overhead.ts
// DURATION (s, default 5), ROUNDS (default 4), CONNECTIONS (default 50) and STORE_SPANS
// (inspector.store.maxSpans, default 20 000) override; PIN=1 pins servers and load to a CPU each.
import { execFileSync, fork } from 'node:child_process'
import autocannon from 'autocannon'
import { build } from './app.ts'

const duration = Number(process.env.DURATION ?? 5)
const rounds = Number(process.env.ROUNDS ?? 4)
const connections = Number(process.env.CONNECTIONS ?? 50)

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

/** A server process: one app, with the inspector or not; it answers the parent's questions over IPC. */
async function serve(withInspector: boolean): Promise<void> {
  const app = build(withInspector)
  const { url } = await app.start()
  process.on('message', async (message: string) => {
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() })
    if (message === 'stop') {
      await app.stop()
      process.exit(0)
    }
  })
  process.send!({ url })
}

/** A forked server of one variant, and the way to ask it a question. */
async function startServer(withInspector: boolean) {
  const child = fork(new URL(import.meta.url).pathname, [], {
    env: { ...process.env, PORT: '0', KEEL_BENCH_ROLE: withInspector ? 'inspected' : 'plain' },
  })
  const ask = <T>(question: string | undefined, key: string): Promise<T> =>
    new Promise((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return
        child.off('message', onMessage)
        resolve(message[key] as T)
      }
      child.on('message', onMessage)
      if (question) child.send(question)
    })
  const url = await ask<string>(undefined, 'url')
  // PIN=1: each server on CPU 1, autocannon on CPU 0 (Linux taskset), so the scheduler does not
  // move them onto each other's core mid-round; on a 2-CPU machine that is most of the noise.
  if (process.env.PIN === '1') execFileSync('taskset', ['-a', '-cp', '1', String(child.pid)])
  return { url, ask, stop: () => child.send('stop') }
}

/** The load generator: forks the servers, loads each in turn, prints the figures. */
async function measure(): Promise<void> {
  if (process.env.PIN === '1') execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)])
  const servers = { plain: await startServer(false), inspected: await startServer(true) }
  const urls = { plain: servers.plain.url, inspected: servers.inspected.url }
  const serverOf = (url: string) => (url.startsWith(urls.plain) ? servers.plain : servers.inspected)
  const load = async (url: string): Promise<Load> => {
    const { ask } = serverOf(url)
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
  servers.plain.stop()
  servers.inspected.stop()
}

const role = process.env.KEEL_BENCH_ROLE
if (role === 'plain' || role === 'inspected') await serve(role === 'inspected')
else await measure()
