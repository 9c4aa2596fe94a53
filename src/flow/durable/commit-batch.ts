import type { Db } from '../../data/index.ts'
import type { Checkpoint, TimelineEvent } from '../journal.ts'
import type { RunChange } from './store.ts'

/** One run's write: a change to the run, its checkpoints and events, fenced by `owner`. */
export interface RunCommit {
  readonly runId: string
  readonly owner: string
  readonly leaseMs: number
  readonly change: RunChange
  readonly checkpoints: readonly Checkpoint[]
  readonly events: readonly TimelineEvent[]
}

interface Pending extends RunCommit {
  resolve(owned: boolean): void
  reject(error: unknown): void
}

// Many runs' commits in one statement. Per commit: the run row is updated only while `owner`
// still holds it (the fence); checkpoints and events are inserted only for commits that passed
// it; the statement returns which passed. One statement is atomic without BEGIN/COMMIT, and one
// statement for a whole batch pays parse, round trip and WAL flush once instead of per step.
const batchSql = `
with input as (
  select * from jsonb_to_recordset(($1::jsonb) -> 'v') as c(
    i integer, run_id text, owner text, release boolean, lease_ms integer, status text,
    set_output boolean, output jsonb, set_fault boolean, fault jsonb, set_error boolean, error jsonb,
    wake_at timestamptz, finished boolean)
), locked as materialized (
  -- Row locks in id order, here and in heartbeats: two statements locking overlapping runs in
  -- different orders could deadlock.
  select r.id from keel_flow_runs r join input c on r.id = c.run_id and r.owner = c.owner
  order by r.id
  for update of r
), fence as (
  update keel_flow_runs r set
    updated_at = now(),
    owner = case when c.release then null else r.owner end,
    lease_until = case when c.release then null else now() + c.lease_ms * interval '1 millisecond' end,
    -- A sleep in one parallel branch must not turn a run that another branch faulted back to
    -- sleeping: after a crash it would resume forward instead of compensating.
    status = case when c.status = 'sleeping' and r.status = 'compensating' then r.status
      else coalesce(c.status, r.status) end,
    output = case when c.set_output then c.output else r.output end,
    fault = case when c.set_fault then nullif(c.fault, 'null'::jsonb) else r.fault end,
    error = case when c.set_error then nullif(c.error, 'null'::jsonb) else r.error end,
    -- Several sleeps (parallel branches): wake for the earliest; a claim clears wake_at.
    wake_at = case when c.wake_at is null then r.wake_at else least(r.wake_at, c.wake_at) end,
    finished_at = case when c.finished then now() else r.finished_at end
  from input c
  where r.id = c.run_id and r.owner = c.owner and r.id in (select id from locked)
  returning r.id, c.i
), checkpoints as (
  insert into keel_flow_checkpoints (run_id, key, seq, kind, status, output, path, fault, wake_at)
  select fence.id, k.key, k.seq, k.kind, k.status, k.output, k.path, k.fault, k.wake_at
  from jsonb_to_recordset(($2::jsonb) -> 'v')
    as k(i integer, key text, seq integer, kind text, status text, output jsonb, path text, fault jsonb, wake_at timestamptz)
  join fence on fence.i = k.i
), events as (
  insert into keel_flow_events (run_id, seq, at, type, step, attempt, duration_ms, error, data)
  select fence.id, e.seq, e.at, e.type, e.step, e.attempt, e.duration_ms, e.error, e.data
  from jsonb_to_recordset(($3::jsonb) -> 'v')
    as e(i integer, seq integer, at timestamptz, type text, step text, attempt integer, duration_ms double precision, error jsonb, data jsonb)
  join fence on fence.i = e.i
)
select i from fence`

/**
 * Collects the commits of concurrently executing runs and writes them in one statement. The
 * first commit goes at once; commits that arrive while a batch is in flight form the next one,
 * so a lone run waits no longer than alone and busy workers get many steps per WAL flush.
 * A run appears at most once per batch (the fence could not tell two of its commits apart);
 * a second commit of the same run, from a parallel branch, waits for the next batch.
 */
export class CommitBatcher {
  readonly #db: Db
  readonly #maxBatch: number
  readonly #writers: number
  #queue: Pending[] = []
  #busy = 0

  /**
   * `writers` batches may be in flight at once, on separate pooled connections, so one batch's
   * WAL flush overlaps the next one's work. PGlite has one connection: one writer.
   */
  constructor(db: Db, options: { maxBatch?: number; writers?: number } = {}) {
    this.#db = db
    this.#maxBatch = options.maxBatch ?? 200
    this.#writers = db.driver === 'pglite' ? 1 : (options.writers ?? 2)
  }

  /** Resolves `true` when written, `false` when the run is no longer `owner`'s (nothing was written). */
  commit(commit: RunCommit): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ ...commit, resolve, reject })
      if (this.#busy < this.#writers) void this.#drain()
    })
  }

  async #drain(): Promise<void> {
    this.#busy++
    while (this.#queue.length > 0) {
      const batch: Pending[] = []
      const later: Pending[] = []
      const runs = new Set<string>()
      for (const pending of this.#queue) {
        if (batch.length < this.#maxBatch && !runs.has(pending.runId)) {
          runs.add(pending.runId)
          batch.push(pending)
        } else later.push(pending)
      }
      this.#queue = later
      try {
        await this.#write(batch)
      } catch (error) {
        // One bad commit must not fail the runs that shared its statement: write them alone.
        if (batch.length === 1) batch[0]!.reject(error)
        else for (const p of batch) await this.#write([p]).catch(p.reject)
      }
    }
    this.#busy--
  }

  async #write(batch: readonly Pending[]): Promise<void> {
    const rows = await this.#db.query<{ i: number }>(batchSql, statementParams(batch))
    const owned = new Set(rows.map((r) => r.i))
    for (const [i, p] of batch.entries()) p.resolve(owned.has(i))
  }
}

function statementParams(batch: readonly RunCommit[]): unknown[] {
  const runs = batch.map((c, i) => ({
    i,
    run_id: c.runId,
    owner: c.owner,
    release: c.change.release === true,
    lease_ms: c.leaseMs,
    status: c.change.status ?? null,
    set_output: c.change.output !== undefined,
    output: c.change.output?.value ?? null,
    set_fault: c.change.fault !== undefined,
    fault: c.change.fault?.value ?? null,
    set_error: c.change.error !== undefined,
    error: c.change.error?.value ?? null,
    wake_at: c.change.wakeAt === undefined ? null : new Date(c.change.wakeAt).toISOString(),
    finished: c.change.finished === true,
  }))
  const checkpoints = batch.flatMap((c, i) =>
    c.checkpoints.map((k) => ({
      i,
      key: k.key,
      seq: k.seq,
      kind: k.kind,
      status: k.status,
      output: k.output === undefined ? null : k.output,
      path: k.path ?? null,
      fault: k.fault ?? null,
      wake_at: k.wakeAt === undefined ? null : new Date(k.wakeAt).toISOString(),
    })),
  )
  const events = batch.flatMap((c, i) =>
    c.events.map((e) => ({
      i,
      seq: e.seq,
      at: new Date(e.at).toISOString(),
      type: e.type,
      step: e.step ?? null,
      attempt: e.attempt ?? null,
      duration_ms: e.durationMs ?? null,
      error: e.error ?? null,
      data: e.data === undefined ? null : e.data,
    })),
  )
  // jsonb parameters travel wrapped ({ v }) so both drivers encode them alike.
  return [{ v: runs }, { v: checkpoints }, { v: events }]
}
