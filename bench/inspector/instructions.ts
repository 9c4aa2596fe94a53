// The inspector's cost on the request path in machine instructions, which a busy machine does not
// move: each variant's server runs under valgrind's callgrind with counting off, is warmed up,
// then counts only while it answers a fixed number of requests. Instructions per request,
// with the inspector over without, is the overhead the req/s ratio of overhead.ts estimates
// through the noise. All of the process's threads count (the GC's helpers too); the load
// generator, in this process, does not.
//
// usage: node --conditions=source --import tsx bench/inspector/instructions.ts
// env:   WARM (requests before counting, default 30 000: with 10 000 the inspected variant's JIT
//        tier-ups still fell in the counted window), COUNT (counted requests, default 20 000: with
//        5 000 one window in four caught a one-off of some 300 million instructions),
//        RUNS (per variant, default 2), PATHS (default "/hello /users/42"),
//        TRACES_PER_SECOND (the inspector's store.maxTracesPerSecond, default 1: see below),
//        V8_FLAGS (default --predictable: no concurrent compiling or GC, so two processes of one
//        variant make the same JIT decisions; without it their counts differed by up to 13 %)
//
// The trace budget is per wall-clock second, and callgrind slows the server some 50-100 times:
// at the default 100 a second it would keep a third of the requests' traces instead of the
// fraction of a percent it keeps at native speed. The script prints the rate it measured under
// callgrind and the share of requests the budget let it keep, to set beside the native one.
// Needs valgrind (callgrind_control comes with it). Under callgrind the server runs about 100 times
// slower, so a run takes about 16 minutes. With --predictable and the defaults, two processes of one
// variant count within 0.1 % of each other (bench/inspector/README.md).
// The server's timers are not taken off: counted idle for 10 s, they came to under 0.1 % of a
// counted window.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'

const warm = Number(process.env.WARM ?? 30_000)
const count = Number(process.env.COUNT ?? 20_000)
const runs = Number(process.env.RUNS ?? 2)
const budget = Number(process.env.TRACES_PER_SECOND ?? 1)
const v8Flags = (process.env.V8_FLAGS ?? '--predictable').split(' ').filter(Boolean)
const paths = (process.env.PATHS ?? '/hello /users/42').split(' ')
const server = join(import.meta.dirname, 'server.ts')
/** Requests a second the servers answered under callgrind, per measurement. */
const rates: number[] = []

interface Counted {
  readonly child: ChildProcess
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
        TRACES_PER_SECOND: String(budget),
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
    if (up) return { child, outFile }
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

const control = (pid: number, ...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' })

/** Instructions the server executed per request on `path`, counting only the measured requests. */
async function measure(withInspector: boolean, path: string, port: number): Promise<number> {
  const counted = await start(withInspector, port)
  const pid = counted.child.pid!
  try {
    await send(port, path, warm)
    control(pid, '--instr=on')
    const countedFrom = performance.now()
    await send(port, path, count)
    control(pid, '--instr=off')
    rates.push(count / ((performance.now() - countedFrom) / 1000))
    const exited = new Promise((resolve) => counted.child.once('exit', resolve))
    counted.child.kill('SIGTERM')
    await exited
    // callgrind writes the totals of what it counted when the process ends.
    const totals = /^totals: (\d+)/m.exec(readFileSync(counted.outFile, 'utf8'))
    if (!totals) throw new Error(`no totals in ${counted.outFile}`)
    return Number(totals[1]) / count
  } finally {
    counted.child.kill('SIGKILL')
    rmSync(counted.outFile, { force: true })
  }
}

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
console.log(
  `${Math.round(rate)} requests/s under callgrind: a budget of ${budget} trace(s) a second keeps ` +
    `${budget === 0 ? 100 : Math.min(100, (100 * budget) / rate).toFixed(2)} % of them`,
)
