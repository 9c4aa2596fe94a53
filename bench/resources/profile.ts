// Where a resource server's CPU goes, per request: the evidence that a machine shared with other
// work cannot give as req/s.
//
// usage: node --conditions=source --import tsx bench/resources/profile.ts [seconds] [get|list|both] [keel|fastify]
//        (defaults: 15 both keel; DATABASE_URL as run.ts)
//
// Seeds the table as run.ts does, starts the server under `node --cpu-prof`, loads each scenario
// (64 connections, a 3 s warm-up, then `seconds`), stops it with SIGTERM so the profile is written
// (to bench/results/profile-<time>/), and prints busy µs per request and self time per request by
// file and by function, counting only the samples taken during the measured window of the scenario.
import { fork } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadItems, paths, readyPort } from './load.ts'
import { seedItems } from './seed.ts'

const here = import.meta.dirname
const seconds = Number(process.argv[2] ?? 15)
const only = process.argv[3] ?? 'both'
const script = process.argv[4] === 'fastify' ? 'fastify-server.mjs' : 'keel-server.ts'
const out = join(here, '..', 'results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`)
mkdirSync(out, { recursive: true })
const seeded = await seedItems(`bench_resources_profile_${process.pid}`)

const child = fork(join(here, script), {
  env: { ...process.env, DATABASE_URL: seeded.url, KEEL_PROFILE: 'prod' },
  execArgv: [
    ...(script === 'keel-server.ts' ? ['--conditions=source', '--import', 'tsx'] : []),
    '--cpu-prof',
    `--cpu-prof-dir=${out}`,
    '--cpu-prof-interval=200',
  ],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const port = await readyPort(child, script)

// Windows in CLOCK_MONOTONIC µs, the clock of .cpuprofile timestamps.
const nowUs = () => Number(process.hrtime.bigint() / 1000n)
const windows: { name: string; requests: number; fromUs: number; toUs: number }[] = []
try {
  for (const [name, path] of Object.entries(paths)) {
    if (only !== 'both' && only !== name) continue
    const server = { name: `${script} ${name}`, port }
    await loadItems(server, path, 3)
    const fromUs = nowUs()
    const result = await loadItems(server, path, seconds)
    const toUs = nowUs()
    windows.push({ name, requests: result.requests.total, fromUs, toUs })
  }
} finally {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  await seeded.drop()
}

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}
// The main thread's profile is the largest (the others are loader threads).
const file = readdirSync(out)
  .filter((name) => name.endsWith('.cpuprofile'))
  .map((name) => readFileSync(join(out, name), 'utf8'))
  .sort((a, b) => b.length - a.length)[0]!
const profile = JSON.parse(file) as Profile
const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
const where = (url: string) =>
  url.replace(/^file:\/\//, '').replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1') || '(native)'
const top = (totals: Map<string, number>, requests: number, count: number) =>
  [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => `${(us / requests).toFixed(2).padStart(8)}  ${key}`)
    .join('\n')
for (const window of windows) {
  const byFile = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busy = 0
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!
    if (t < window.fromUs || t > window.toUs) continue
    const frame = frames.get(profile.samples[i]!)!
    const us = profile.timeDeltas[i + 1] ?? 0
    if (frame.functionName === '(idle)') continue
    busy += us
    const file = where(frame.url).replace(`${join(here, '..', '..')}/`, '')
    byFile.set(file, (byFile.get(file) ?? 0) + us)
    const fn = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
  }
  const elapsed = (window.toUs - window.fromUs) / 1e6
  console.log(
    `\n${script} ${window.name}: ${window.requests} requests in ${elapsed.toFixed(1)} s, busy ${(busy / window.requests).toFixed(1)} µs per request (${out})`,
  )
  console.log(`-- self µs per request, by file --\n${top(byFile, window.requests, 25)}`)
  console.log(`-- self µs per request, by function --\n${top(byFunction, window.requests, 25)}`)
}
