import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Db } from 'keel/data'
import { expect } from 'vitest'
import { initialStock } from '../../../examples/orders/services.ts'
import { type LogRecord, type ServiceProcess, startService } from '../../support/service-process.ts'
import { crashOrder, expectedEnd, orderId } from './crash-orders.ts'

const workerEntry = join(import.meta.dirname, 'crash-worker.ts')

/** One crash scenario: workers on one database, each killed `kills` times and restarted. */
export interface CrashScenario {
  /** Seeds the kill delays; print it, and set CRASH_SEED to replay a failing run. */
  readonly seed: number
  readonly orders: number
  /** SIGKILLs per worker before its last, undisturbed start. */
  readonly kills: number
  /** Worker names; worker k submits the orders i with i % count === k. */
  readonly workers: readonly string[]
  readonly database: { readonly url: string } | { readonly dataDir: string }
  /**
   * When a kill lands: after the worker's start, once the database shows this many more runs
   * ended than when the worker first reported (uniform in [min, max]), then after a further
   * random 0-250 ms. Counting ended runs rather than milliseconds keeps the kills inside the
   * workload however fast or loaded the machine is.
   */
  readonly killAfterRuns?: readonly [number, number]
  /** Pause after each chunk of 20 orders a worker submits. Default none. */
  readonly paceMs?: number
  /** How long the last starts get to bring every run to an end. */
  readonly settleTimeoutMs?: number
}

/** One SIGKILL, with what the database said shortly before it. */
export interface Kill {
  readonly worker: string
  readonly generation: number
  /** How long the worker had been ready when it was killed. */
  readonly afterReadyMs: number
  /** Runs that had ended, per the worker's last progress line before the kill. */
  readonly finalBefore: number
  /** Runs not ended then, on any worker (pending, running, compensating). */
  readonly unfinishedBefore: number
  /** Runs the killed process was executing then: the kill interrupted these. */
  readonly activeBefore: number
}

/** What the scenario did. */
export interface CrashRun {
  readonly kills: readonly Kill[]
  readonly starts: number
  readonly durationMs: number
  /** The runners' warnings and errors, counted by message (`warn: flow run interrupted`). */
  readonly logged: Record<string, number>
  /** The most runs one process executed at once, over every progress line (its concurrency is 16). */
  readonly maxActive: number
}

/**
 * Runs the scenario: every worker is started, killed with SIGKILL at a seeded random moment
 * after its `ready` line, restarted, `kills` times, independently of the others; the last starts
 * run until the database shows every run ended, then stop with SIGTERM.
 */
export async function runCrashScenario(scenario: CrashScenario): Promise<CrashRun> {
  const began = Date.now()
  const [minRuns, maxRuns] = scenario.killAfterRuns ?? [5, 30]
  const live = new Set<ServiceProcess>()
  const all: ServiceProcess[] = []
  const kills: Kill[] = []
  let starts = 0
  const start = (name: string, generation: number) => {
    starts++
    const env: Record<string, string> = {
      CRASH_WORKER: name,
      CRASH_GENERATION: String(generation),
      CRASH_ORDERS: String(scenario.orders),
      CRASH_SHARE: `${scenario.workers.indexOf(name)}/${scenario.workers.length}`,
      CRASH_PACE_MS: String(scenario.paceMs ?? 0),
      ...('url' in scenario.database
        ? { CRASH_DATABASE_URL: scenario.database.url }
        : { CRASH_DATA_DIR: scenario.database.dataDir }),
    }
    const child = startService(workerEntry, { env })
    all.push(child)
    live.add(child)
    void child.exited.then(() => live.delete(child))
    return child
  }
  const ready = (child: ServiceProcess) => child.waitForRecord((r) => r.msg === 'ready', 60_000)

  // Each worker's life, on its own random stream: start, wait for ready, kill, and again.
  const lifetimes = scenario.workers.map(async (name, w) => {
    const random = mulberry32(scenario.seed + w * 7919)
    for (let generation = 0; generation < scenario.kills; generation++) {
      const child = start(name, generation)
      await ready(child)
      const readyAt = Date.now()
      const first = await child.waitForRecord((r) => r.msg === 'progress', 60_000)
      const target = Number(first.final) + minRuns + Math.floor(random() * (maxRuns - minRuns + 1))
      const extraMs = Math.floor(random() * 250)
      await until(
        () => Number(lastProgress(child)?.final ?? 0) >= Math.min(target, scenario.orders),
        () => child.exit !== undefined,
        60_000,
      )
      await sleep(extraMs)
      if (child.exit) throw new Error(`worker ${name} exited before its kill\n${child.output}`)
      const last = lastProgress(child)
      const afterReadyMs = Date.now() - readyAt
      child.signal('SIGKILL')
      const exit = await child.waitForExit(10_000)
      expect(exit.signal, `worker ${name} #${generation} died by SIGKILL`).toBe('SIGKILL')
      kills.push({
        worker: name,
        generation,
        afterReadyMs,
        finalBefore: Number(last?.final ?? 0),
        unfinishedBefore: unfinished(last),
        activeBefore: Number(last?.active ?? 0),
      })
    }
    const child = start(name, scenario.kills)
    await ready(child)
    return child
  })

  try {
    const finals = await Promise.all(lifetimes)
    const deadline = Date.now() + (scenario.settleTimeoutMs ?? 120_000)
    for (;;) {
      const ended = finals.some((child) => Number(lastProgress(child)?.final ?? 0) === scenario.orders)
      if (ended) break
      const gone = finals.find((child) => child.exit)
      if (gone) throw new Error(`a worker exited before the runs ended\n${gone.output}`)
      if (Date.now() > deadline) {
        const progress = finals.map((child) => JSON.stringify(lastProgress(child)))
        throw new Error(`the runs did not all end in time; last progress: ${progress.join(' / ')}`)
      }
      await sleep(100)
    }
    for (const child of finals) child.signal('SIGTERM')
    for (const child of finals) {
      const exit = await child.waitForExit(15_000)
      expect(exit, `worker stopped cleanly\n${child.output}`).toMatchObject({ code: 0, signal: null })
    }
  } finally {
    await Promise.allSettled(lifetimes)
    await Promise.all([...live].map((child) => child.kill()))
  }
  const logged: Record<string, number> = {}
  for (const record of all.flatMap((child) => child.records)) {
    const level = Number(record.level)
    if (!(level >= 40)) continue
    const key = `${level >= 50 ? 'error' : 'warn'}: ${record.msg}`
    logged[key] = (logged[key] ?? 0) + 1
  }
  const maxActive = Math.max(
    0,
    ...all.flatMap((child) => child.records.filter((r) => r.msg === 'progress').map((r) => Number(r.active))),
  )
  return { kills, starts, durationMs: Date.now() - began, logged, maxActive }
}

/** What the database holds after the scenario, checked against what each order must have become. */
export interface CrashOutcome {
  readonly runs: number
  readonly byStatus: Record<string, number>
  /** Runs a worker picked up more than once (they resumed after a kill). */
  readonly resumedRuns: number
  /** Provider calls that found their effect already there: a step re-ran after a kill, absorbed. */
  readonly duplicateCalls: number
  /** Idempotency keys called more than once. */
  readonly keysCalledTwice: number
  /** Ledger rows: effects that landed. */
  readonly effects: number
  /** Orders whose calls came from more than one worker process (a restart, or the other worker). */
  readonly ordersAcrossProcesses: number
  /** Orders whose calls came from more than one worker (`a` and `b`): one took over the other's run. */
  readonly ordersAcrossWorkers: number
}

/**
 * Checks the database after the scenario: every order has its run, ended as its input says it
 * must, with exactly the effects it must have (each once, in order, nothing after a fault), the
 * stock adds up, and nobody is dead. Returns the figures for the report.
 */
export async function verifyCrashOutcome(db: Db, orders: number, seed: number): Promise<CrashOutcome> {
  const because = (what: string) => `${what} (seed ${seed})`
  const runs = await db.query<{
    id: string
    status: string
    fault: { code: string } | null
    executions: number
  }>('select id, status, fault, executions from keel_flow_runs order by id')
  const ledger = await db.query<{ order_id: string; effect: string; idempotency_key: string }>(
    'select order_id, effect, idempotency_key from orders_ledger order by at, idempotency_key',
  )
  const calls = await db.query<{ idempotency_key: string; order_id: string; result: string; caller: string }>(
    'select idempotency_key, order_id, result, caller from orders_calls order by id',
  )
  const stock = await db.query<{ sku: string; stock: number }>('select sku, stock from orders_stock')

  const ids = Array.from({ length: orders }, (_, k) => orderId(k + 1))
  expect(
    runs.map((r) => r.id),
    because('every order has exactly one run, none lost'),
  ).toEqual(ids)

  const byStatus: Record<string, number> = {}
  for (const run of runs) byStatus[run.status] = (byStatus[run.status] ?? 0) + 1
  expect(byStatus.dead ?? 0, because('no run is dead')).toBe(0)

  const effectsOf = new Map<string, string[]>()
  for (const row of ledger) effectsOf.set(row.order_id, [...(effectsOf.get(row.order_id) ?? []), row.effect])
  const expectedStock: Record<string, number> = { ...initialStock }
  const mismatches: string[] = []
  for (let i = 1; i <= orders; i++) {
    const run = runs[i - 1]!
    const expected = expectedEnd(i)
    const actual = {
      status: run.status,
      fault: run.fault?.code,
      effects: effectsOf.get(run.id) ?? [],
    }
    const wanted = { status: expected.status, fault: expected.fault, effects: expected.effects }
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
      mismatches.push(`${run.id}: ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`)
    }
    if (expected.status === 'completed') {
      for (const { sku, qty } of crashOrder(i).items) expectedStock[sku] = (expectedStock[sku] ?? 0) - qty
    }
  }
  expect(mismatches, because('each order ends as its input says, with each effect exactly once')).toEqual([])
  expect(
    ledger.filter((row) => !ids.includes(row.order_id)),
    because('no effect belongs to an unknown order'),
  ).toEqual([])
  expect(
    Object.fromEntries(stock.map((s) => [s.sku, s.stock])),
    because('stock = initial - completed orders (released reservations came back once)'),
  ).toEqual(expectedStock)

  const perKey = new Map<string, number>()
  for (const call of calls) perKey.set(call.idempotency_key, (perKey.get(call.idempotency_key) ?? 0) + 1)
  const callers = new Map<string, Set<string>>()
  for (const call of calls) {
    const set = callers.get(call.order_id) ?? new Set()
    set.add(call.caller)
    callers.set(call.order_id, set)
  }
  return {
    runs: runs.length,
    byStatus,
    resumedRuns: runs.filter((r) => r.executions > 1).length,
    duplicateCalls: calls.filter((c) => c.result === 'duplicate').length,
    keysCalledTwice: [...perKey.values()].filter((n) => n > 1).length,
    effects: ledger.length,
    ordersAcrossProcesses: [...callers.values()].filter((s) => s.size > 1).length,
    ordersAcrossWorkers: [...callers.values()].filter(
      (s) => new Set([...s].map((caller) => caller.split('#')[0])).size > 1,
    ).length,
  }
}

/** A seed for the kill delays: CRASH_SEED when set (to replay a run), else a fresh one. */
export function crashSeed(): number {
  const fixed = process.env.CRASH_SEED
  return fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 31)
}

/** Waits until `done()` (or `stop()`, or the timeout: the kill then lands anyway). */
async function until(done: () => boolean, stop: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done() && !stop() && Date.now() < deadline) await sleep(20)
}

function lastProgress(child: ServiceProcess): LogRecord | undefined {
  return child.records.findLast((r) => r.msg === 'progress')
}

function unfinished(progress: LogRecord | undefined): number {
  const counts = (progress?.counts ?? {}) as Record<string, number>
  return (counts.pending ?? 0) + (counts.running ?? 0) + (counts.compensating ?? 0) + (counts.sleeping ?? 0)
}

/** A small seeded PRNG (mulberry32): the same seed gives the same kill moments. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * What every crash scenario must show: each kill landed, every order ended as its input says
 * (the counts come from `expectedEnd`), no worker ran more than its concurrency, and the kills
 * landed mid-flow: runs were picked up again, and steps that had already applied their effect
 * ran again and found it there.
 */
export function expectSurvived(run: CrashRun, outcome: CrashOutcome, seed: number, kills: number): void {
  const wanted: Record<string, number> = {}
  for (let i = 1; i <= outcome.runs; i++) {
    const { status } = expectedEnd(i)
    wanted[status] = (wanted[status] ?? 0) + 1
  }
  expect(run.kills).toHaveLength(kills)
  expect(outcome.byStatus).toEqual(wanted)
  expect(run.maxActive, 'a worker never executes more runs than its concurrency').toBeLessThanOrEqual(16)
  expect(outcome.resumedRuns, `seed ${seed}`).toBeGreaterThan(0)
  expect(outcome.duplicateCalls, `seed ${seed}`).toBeGreaterThan(0)
}
