// Where an HTTP server's CPU goes, per request, at a fixed request rate: Keel's bench server or a
// peer of the harness, so two servers can be compared function by function.
//
// usage: node --conditions=source --import tsx bench/profile-http.ts <prod|bare> <path> [rate] [seconds] [server]
//   path     /hello, /users/42, or /users (a valid POST /users)
//   rate     requests per second, held by autocannon (default 8000); keep it under both servers'
//            saturation so each does the same work
//   server   a server script (default bench/server.ts); peers: bench/results/http-peers/servers/*.mjs
//            (copied there by bench/run.sh)
//
// The server runs under `node --cpu-prof` pinned to CPU 1 (as the harness pins it), gets 3 s of
// warm-up at the same rate, then `seconds` measured. Only the samples taken in the measured
// window count: both clocks are CLOCK_MONOTONIC, so the profile's timestamps and this process's
// `process.hrtime` agree. Prints busy µs per request, by group and by function, and writes the
// per-function table to bench/results/profile-http-<time>.json for a later diff.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import autocannon from 'autocannon'

const [mode = 'bare', path = '/hello', rate = '8000', seconds = '8', server = 'bench/server.ts'] =
  process.argv.slice(2)
if (mode !== 'bare' && mode !== 'prod') throw new Error(`mode must be prod or bare, got "${mode}"`)
const root = resolve(import.meta.dirname, '..')
const profileDir = mkdtempSync(join(tmpdir(), 'keel-profile-'))
const port = 39_000 + (process.pid % 500)
const sink = join(root, 'bench/results/http-peers/servers/lib/otlp-sink.mjs')

const child = spawn(
  'taskset',
  [
    '-c',
    '1',
    process.execPath,
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
    '--conditions=source',
    '--import',
    'tsx',
    // Peers do not exit on SIGTERM by themselves, and a profile is written only on exit.
    '--import',
    'data:text/javascript,process.once("SIGTERM",()=>process.exit(0))',
    resolve(root, server),
  ],
  {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      LOG_FILE: join(profileDir, 'access.log'),
      KEEL_BENCH_MODE: mode === 'bare' ? 'bare' : '',
      OTLP_SINK_SCRIPT: sink,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
)
await waitForServer(`http://127.0.0.1:${port}/hello`)

const body =
  path === '/users' ? JSON.stringify({ name: 'Ada', email: 'ada@example.com', age: 36 }) : undefined
const load = {
  url: `http://127.0.0.1:${port}${path}`,
  connections: 64,
  overallRate: Number(rate),
  method: body ? ('POST' as const) : ('GET' as const),
  ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
}
await autocannon({ ...load, duration: 3 })
const from = process.hrtime.bigint() / 1000n
const measured = await autocannon({ ...load, duration: Number(seconds) })
const to = process.hrtime.bigint() / 1000n
child.kill('SIGTERM')
await new Promise((done) => child.once('exit', done))

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'))
if (!file) throw new Error(`no profile written in ${profileDir}`)
const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}
const selfUs = new Map<number, number>()
let at = profile.startTime
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0
  at += delta
  if (at >= Number(from) && at <= Number(to)) selfUs.set(id, (selfUs.get(id) ?? 0) + delta)
})

const requests = measured.requests.total
const byGroup = new Map<string, number>()
const byFunction = new Map<string, number>()
for (const node of profile.nodes) {
  const us = selfUs.get(node.id)
  if (!us) continue
  const { functionName, url, lineNumber } = node.callFrame
  if (functionName === '(idle)') continue
  const place = url.replace(`file://${root}/`, '').replace(/.*node_modules\//, '')
  add(byGroup, groupOf(url, functionName))
  add(byFunction, `${functionName || '(anonymous)'} ${place}:${lineNumber}`)
  function add(map: Map<string, number>, key: string) {
    map.set(key, (map.get(key) ?? 0) + us! / requests)
  }
}
const busy = [...byGroup.values()].reduce((sum, us) => sum + us, 0)
console.log(`${server} ${mode} ${load.method} ${path}: ${requests} requests in ${seconds} s at ${rate}/s`)
console.log(`busy ${busy.toFixed(1)} µs per request`)
print('by group', byGroup, 12)
print('by function', byFunction, 30)
mkdirSync(join(root, 'bench/results'), { recursive: true })
const out = join(root, `bench/results/profile-http-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(out, JSON.stringify(Object.fromEntries(byFunction)))
console.log(`per-function table: ${out}`)

function print(title: string, map: Map<string, number>, top: number) {
  console.log(`-- self µs per request, ${title} --`)
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${us.toFixed(2).padStart(8)}  ${key}`)
  }
}

function groupOf(url: string, functionName: string): string {
  if (url.includes(`${root}/src/`)) return 'keel src/'
  const nm = url.split('node_modules/')[1]
  if (nm)
    return nm
      .split('/')
      .slice(0, nm.startsWith('@') ? 2 : 1)
      .join('/')
  if (url.startsWith('node:')) return 'node core'
  return functionName
}

async function waitForServer(url: string) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    await new Promise((done) => setTimeout(done, 100))
  }
  child.kill('SIGTERM')
  throw new Error(`${server} did not answer ${url} within 30 s`)
}
