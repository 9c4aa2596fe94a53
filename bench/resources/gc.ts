// How a resource server's garbage collector behaves under load: whether it settles in the state
// that promotes about 12% of what it allocates (Keel's server on a quiet machine, either server on
// a loaded one), which costs up to a fifth of its req/s.
//
// usage: node --conditions=source --import tsx bench/resources/gc.ts [keel|fastify] [get|list] [seconds] [processes] [-- v8 flags]
//        (defaults: keel list 5 4; DATABASE_URL as run.ts; SERVER, below)
//
// Starts `processes` fresh servers one after another, each under --trace-gc-nvp (plus any V8 flags
// after `--`, e.g. --max-semi-space-size=8), loads it as run.ts does (64 connections, a 3 s
// warm-up, then `seconds`) and prints, per process, req/s, latency and what its scavenges did in
// the measured window: bytes promoted to the old generation per scavenge, pause, mark-compacts.
// A process either promotes a few KB per scavenge or about 12% of what it allocates, and stays so;
// bench/README.md ("Two GC states") says what was found.
import { fork } from 'node:child_process'
import { join } from 'node:path'
import { loadItems, paths, readyPort } from './load.ts'
import { seedItems } from './seed.ts'

const here = import.meta.dirname
const flagsAt = process.argv.indexOf('--')
const args = flagsAt === -1 ? process.argv.slice(2) : process.argv.slice(2, flagsAt)
const v8Flags = flagsAt === -1 ? [] : process.argv.slice(flagsAt + 1)
const [server = 'keel', scenario = 'list', seconds = '5', processes = '4'] = args
// SERVER: another server script (resolved from here) that takes DATABASE_URL, listens on a port
// of its choice and sends `{ port }` over IPC once ready, as the two below do: how the bisect in bench/README.md ran its one-route apps.
const script = process.env.SERVER ?? (server === 'fastify' ? 'fastify-server.mjs' : 'keel-server.ts')
const path = scenario === 'get' ? paths.get : paths.list
const seeded = await seedItems(`bench_resources_gc_${process.pid}`)

/** One `--trace-gc-nvp` line as its key=value pairs. */
const fieldsOf = (line: string) =>
  Object.fromEntries(line.split(/\s+/).flatMap((pair) => (pair.includes('=') ? [pair.split('=')] : [])))

try {
  for (let run = 1; run <= Number(processes); run++) {
    const child = fork(join(here, script), {
      env: { ...process.env, DATABASE_URL: seeded.url, KEEL_PROFILE: 'prod' },
      execArgv: [
        ...(script.endsWith('.ts') ? ['--conditions=source', '--import', 'tsx'] : []),
        '--trace-gc-nvp',
        ...v8Flags,
      ],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    let trace = ''
    child.stdout!.on('data', (chunk) => {
      trace += chunk
    })
    const port = await readyPort(child, script)
    await loadItems({ name: script, port }, path, 3)
    const from = trace.length
    const result = await loadItems({ name: script, port }, path, Number(seconds))
    const gcs = trace
      .slice(from)
      .split('\n')
      .filter((line) => line.includes(' gc='))
      .map(fieldsOf)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    const scavenges = gcs.filter((gc) => gc.gc === 's')
    const sum = (key: string) => scavenges.reduce((total, gc) => total + Number(gc[key]), 0)
    const perScavenge = (key: string) => Math.round(sum(key) / scavenges.length / 1024)
    console.log(
      JSON.stringify({
        server,
        scenario,
        process: run,
        rps: Math.round(result.requests.average),
        latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
        scavenges: scavenges.length,
        promotedKBPerScavenge: perScavenge('promoted'),
        allocatedKBPerScavenge: perScavenge('allocated'),
        scavengePauseMs: Number((sum('pause') / scavenges.length).toFixed(2)),
        markCompacts: gcs.filter((gc) => gc.gc === 'mc').length,
      }),
    )
  }
} finally {
  await seeded.drop()
}
