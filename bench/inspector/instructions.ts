// The inspector's cost on the request path in machine instructions, which a busy machine does not
// move: each variant's server runs under valgrind's callgrind with counting off, is warmed up,
// then counts only while it answers a fixed number of requests. Instructions per request,
// with the inspector over without, is the overhead the req/s ratio of overhead.ts estimates
// through the noise. All of the process's threads count (the GC's helpers too); the load
// generator, in this process, does not.
//
// usage: node --conditions=source --import tsx bench/inspector/instructions.ts
// env:   WARM (requests before counting, default 10 000), COUNT (counted requests, default 5 000),
//        RUNS (per variant, default 2), PATHS (default "/hello /users/42"),
//        TRACES_PER_SECOND (the inspector's store.maxTracesPerSecond, default 1: see below),
//        IDLE (seconds of idle counting that measure the timers' share, default 10),
//        V8_FLAGS (default --predictable: no concurrent compiling or GC, so two processes of one
//        variant make the same JIT decisions; without it their counts differed by up to 13 %)
//
// The trace budget is per wall-clock second, and callgrind slows the server some 50-100 times:
// at the default 100 a second it would keep a third of the requests' traces instead of the
// fraction of a percent it keeps at native speed. The script prints the rate it measured under
// callgrind and the share of requests the budget let it keep, to set beside the native one.
// Needs valgrind (callgrind_control comes with it). Under callgrind the server runs some 50 times
// slower, so a run takes minutes; the count is repeatable to a fraction of a percent.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import autocannon from 'autocannon'

const warm = Number(process.env.WARM ?? 10_000)
const count = Number(process.env.COUNT ?? 5_000)
const runs = Number(process.env.RUNS ?? 2)
const idleSeconds = Number(process.env.IDLE ?? 10)
const v8Flags = (process.env.V8_FLAGS ?? '--predictable').split(' ').filter(Boolean)
const paths = (process.env.PATHS ?? '/hello /users/42').split(' ')
const server = join(import.meta.dirname, 'server.ts')

interface Counted {
  readonly child: ChildProcess
  readonly port: number
  readonly outFile: string
}

async function start(withInspector: boolean, port: number): Promise<Counted> {
  const outFile = join(tmpdir(), `keel-callgrind-${process.pid}-${port}.out`)
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${outFile}`,
      process.execPath,
      ...v8Flags,
      '--conditions=source',
      '--import',
      'tsx',
      server,
    ],
    {
      env: {
        ...process.env,
        PORT: String(port),
        INSPECTOR: withInspector ? '1' : '',
        TRACES_PER_SECOND: process.env.TRACES_PER_SECOND ?? '1',
      },
      stdio: 'ignore',
    },
  )
  // Started when it answers; under valgrind tsx and Keel take a minute or more to load.
  for (let tries = 0; tries < 600; tries++) {
    if (child.exitCode !== null) throw new Error(`the server under valgrind exited with ${child.exitCode}`)
    const up = await fetch(`http://127.0.0.1:${port}/hello`).then(
      (response) => response.ok,
      () => false,
    )
    if (up) return { child, port, outFile }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  child.kill('SIGKILL')
  throw new Error('the server under valgrind did not answer within 5 minutes')
}

async function send(port: number, path: string, amount: number): Promise<void> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 8, amount })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${path}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
}

/** The totals of each part callgrind wrote to `outFile` and its `.N` siblings, by part number. */
function partTotals(outFile: string): Map<number, number> {
  const parts = new Map<number, number>()
  const dir = dirname(outFile)
  for (const name of readdirSync(dir).filter((n) => join(dir, n).startsWith(outFile))) {
    const text = readFileSync(join(dir, name), 'utf8')
    const part = /^part: (\d+)/m.exec(text)
    const totals = /^totals: (\d+)/m.exec(text)
    if (part && totals) parts.set(Number(part[1]), Number(totals[1]))
    if (!process.env.KEEP) rmSync(join(dir, name), { force: true })
  }
  return parts
}

const control = (pid: number, ...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' })

/**
 * Instructions the server executed per request on `path`. The server's own timers (the
 * inspector's windows turn every second) run per wall-clock second, and under callgrind a second
 * holds a hundredth of the requests it holds at native speed: so an idle stretch is counted
 * first, and its rate of instructions per second is taken off the requests' count.
 */
async function measure(withInspector: boolean, path: string, port: number): Promise<number> {
  const counted = await start(withInspector, port)
  const pid = counted.child.pid!
  try {
    await send(port, path, warm)
    control(pid, '--instr=on')
    const idleFrom = performance.now()
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000))
    control(pid, '--dump=idle')
    const idleMs = performance.now() - idleFrom
    const countedFrom = performance.now()
    await send(port, path, count)
    control(pid, '--dump=requests')
    const countedMs = performance.now() - countedFrom
    control(pid, '--instr=off')
    rates.push(count / (countedMs / 1000))
    const exited = new Promise((resolve) => counted.child.once('exit', resolve))
    counted.child.kill('SIGTERM')
    await exited
    const parts = partTotals(counted.outFile)
    const idle = parts.get(1)
    const requests = parts.get(2)
    if (idle === undefined || requests === undefined)
      throw new Error(`callgrind wrote no parts 1 and 2 to ${counted.outFile}`)
    return (requests - (idle / idleMs) * countedMs) / count
  } finally {
    counted.child.kill('SIGKILL')
  }
}

const rates: number[] = []
console.log(`instructions per request under callgrind: ${warm} warm-up, ${count} counted, ${runs} runs`)
let port = 41_900
for (const path of paths) {
  const without: number[] = []
  const withIt: number[] = []
  for (let run = 0; run < runs; run++) {
    without.push(await measure(false, path, port++))
    withIt.push(await measure(true, path, port++))
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const show = (xs: number[]) => xs.map((x) => Math.round(x).toLocaleString('en')).join(' / ')
  console.log(
    `GET ${path.padEnd(10)} without ${show(without)}, with ${show(withIt)}: ` +
      `+${Math.round(mean(withIt) - mean(without)).toLocaleString('en')} instructions, ` +
      `without / with ${(mean(without) / mean(withIt)).toFixed(3)}`,
  )
}
const rate = rates.reduce((a, b) => a + b, 0) / rates.length
const budget = Number(process.env.TRACES_PER_SECOND ?? 1)
console.log(
  `${Math.round(rate)} requests/s under callgrind: a budget of ${budget} trace(s) a second keeps ` +
    `${budget === 0 ? 100 : Math.min(100, (100 * budget) / rate).toFixed(2)} % of them`,
)
