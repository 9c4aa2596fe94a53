import { type Db, GroupCommit } from '../../data/index.ts'
import type { Checkpoint, ErrorInfo, TimelineEvent } from '../journal.ts'
import type { Fault } from '../outcome.ts'
import { CommitBatcher } from './commit-batch.ts'

/** Where a durable run is. The last four are final (`dead` until someone retries, resumes or discards it). */
export type RunStatus =
  | 'pending'
  | 'running'
  | 'sleeping'
  | 'compensating'
  | 'completed'
  | 'compensated'
  | 'discarded'
  | 'dead'

/** Statuses a worker may claim. */
export const activeStatuses: readonly RunStatus[] = ['pending', 'running', 'sleeping', 'compensating']

/** Why a run is dead: the step that gave up, in which phase, with the last error. */
export interface DeadError extends ErrorInfo {
  readonly step: string
  readonly phase: 'forward' | 'compensation'
}

/** A durable run as stored. */
export interface RunInfo {
  readonly id: string
  readonly flow: string
  readonly version: string
  readonly status: RunStatus
  readonly input: unknown
  readonly output?: unknown
  /** The typed fault being (or that was) compensated. */
  readonly fault?: Fault
  /** Set while the run is dead. */
  readonly error?: DeadError
  readonly context: Record<string, unknown>
  readonly owner?: string
  readonly wakeAt?: Date
  /** How many times a worker has picked the run up (after a submit, a sleep, a drain or a crash). */
  readonly executions: number
  /** How many of those found it still running: its previous worker died or lost it. */
  readonly resumes: number
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly finishedAt?: Date
}

/** A run a worker claimed, with what it needs to execute it beyond {@link RunInfo}. */
export interface ClaimedRun extends RunInfo {
  /** The W3C traceparent of the span that submitted the run, when it was traced. */
  readonly traceParent?: string
}

/** A change to a run, written together with checkpoints and events in one statement. */
export interface RunChange {
  readonly status?: RunStatus
  readonly output?: { readonly value: unknown }
  readonly fault?: { readonly value: Fault | null }
  readonly error?: { readonly value: DeadError | null }
  readonly wakeAt?: number
  /** Give up ownership (parked, finished or draining). */
  readonly release?: boolean
  readonly finished?: boolean
}

interface RunRow {
  id: string
  flow: string
  version: string
  status: RunStatus
  input: unknown
  output: unknown
  fault: Fault | null
  error: DeadError | null
  context: Record<string, unknown> | null
  owner: string | null
  wake_at: Date | null
  executions: number
  resumes: number
  created_at: Date
  updated_at: Date
  finished_at: Date | null
}

interface ClaimedRow extends RunRow {
  trace_parent: string | null
}

const runColumns =
  'id, flow, version, status, input, output, fault, error, context, owner, wake_at, executions, resumes, created_at, updated_at, finished_at'

const claimedColumns = `${runColumns.replace(/(\w+)/g, 'r.$1')}, r.trace_parent`

// jsonb parameters travel wrapped ({ v: value }) and are unwrapped in SQL with -> 'v': both
// drivers then encode every value alike, a bare string included.
const wrap = (value: unknown) => ({ v: value === undefined ? null : value })

/** The SQL of the durable runner, in one place. */
export class FlowStore {
  readonly db: Db
  /** Submits of concurrent callers share transactions, and so WAL flushes. */
  readonly #writes: GroupCommit
  /** Checkpoints of concurrent runs share statements. */
  readonly #commits: CommitBatcher

  constructor(db: Db) {
    this.db = db
    this.#writes = new GroupCommit(db)
    this.#commits = new CommitBatcher(db)
  }

  /** Inserts a run unless one with this id exists; `owner` set means the caller executes it now. */
  async insert(run: {
    id: string
    flow: string
    version: string
    input: unknown
    context: Record<string, unknown>
    owner: string | undefined
    leaseMs: number
    /** The submitter's W3C traceparent, when it was traced. */
    traceParent?: string | undefined
  }): Promise<boolean> {
    const rows = await this.#writes.query<{ created: number }>(
      `with inserted as (
        insert into keel_flow_runs (id, flow, version, status, input, context, owner, lease_until, executions, trace_parent)
        values ($1, $2, $3, case when $6::text is null then 'pending' else 'running' end, ($4::jsonb) -> 'v', ($5::jsonb) -> 'v', $6::text,
          case when $6::text is null then null else now() + $7::integer * interval '1 millisecond' end,
          case when $6::text is null then 0 else 1 end, $8::text)
        on conflict (id) do nothing
        returning id
      ), started as (
        insert into keel_flow_events (run_id, seq, at, type, data)
        select id, 1, now(), 'run.started', null from inserted
      )
      select count(*)::integer as created from inserted`,
      [
        run.id,
        run.flow,
        run.version,
        wrap(run.input),
        wrap(run.context),
        run.owner ?? null,
        run.leaseMs,
        run.traceParent ?? null,
      ],
    )
    return rows[0]?.created === 1
  }

  /**
   * Claims up to `limit` runs that are due: active, not leased (or the lease ran out: the owner
   * died), and awake. `skip locked` lets several workers claim at once without blocking or
   * taking the same run. `executing` are runs the caller still executes: their lease may have
   * lapsed (a long pause), but claiming one would start a second execution under the same
   * owner, which the ownership fence cannot tell apart from the first.
   */
  async claim(
    owner: string,
    flows: readonly string[],
    limit: number,
    leaseMs: number,
    now: number,
    executing: readonly string[] = [],
  ): Promise<ClaimedRun[]> {
    const rows = await this.db.query<ClaimedRow>(
      // Materialized: as a plain subquery, PostgreSQL may run the limited, locking select more than
      // once inside the join and claim more than `limit` runs.
      `with picked as materialized (
        select id from keel_flow_runs
        where status in ('pending', 'running', 'sleeping', 'compensating')
          and (owner is null or lease_until < now())
          and (wake_at is null or wake_at <= $3::timestamptz)
          and flow in (select jsonb_array_elements_text(($4::jsonb) -> 'v'))
          and id not in (select jsonb_array_elements_text(($6::jsonb) -> 'v'))
        order by coalesce(wake_at, created_at)
        limit $5
        for update skip locked
      )
      update keel_flow_runs r set
        owner = $1,
        lease_until = now() + $2::integer * interval '1 millisecond',
        executions = r.executions + 1,
        resumes = r.resumes + case when r.status in ('running', 'compensating') then 1 else 0 end,
        status = case when r.status in ('pending', 'sleeping') then 'running' else r.status end,
        wake_at = null,
        updated_at = now()
      from picked
      where r.id = picked.id
      returning ${claimedColumns}`,
      [owner, leaseMs, new Date(now).toISOString(), wrap(flows), limit, wrap(executing)],
    )
    return rows.map((row) =>
      row.trace_parent === null ? toRunInfo(row) : { ...toRunInfo(row), traceParent: row.trace_parent },
    )
  }

  /** Extends the leases this worker holds; returns the ids it still owns. */
  async heartbeat(owner: string, ids: readonly string[], leaseMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.db.query<{ id: string }>(
      `update keel_flow_runs set lease_until = now() + $2::integer * interval '1 millisecond'
       where id in (
         select id from keel_flow_runs
         where owner = $1 and id in (select jsonb_array_elements_text(($3::jsonb) -> 'v'))
         order by id
         for update)
       returning id`,
      [owner, leaseMs, wrap(ids)],
    )
    return new Set(rows.map((r) => r.id))
  }

  /** Checkpoints of a run, and the last event seq, to replay it. */
  async load(runId: string): Promise<{ checkpoints: Checkpoint[]; lastEventSeq: number }> {
    const [checkpoints, seq] = await Promise.all([
      this.db.query<{
        key: string
        seq: number
        kind: Checkpoint['kind']
        status: Checkpoint['status']
        output: unknown
        path: string | null
        fault: Fault | null
        wake_at: Date | null
      }>(
        'select key, seq, kind, status, output, path, fault, wake_at from keel_flow_checkpoints where run_id = $1 order by seq',
        [runId],
      ),
      this.db.query<{ seq: number }>(
        'select coalesce(max(seq), 0)::integer as seq from keel_flow_events where run_id = $1',
        [runId],
      ),
    ])
    return {
      checkpoints: checkpoints.map((c) => ({
        key: c.key,
        seq: c.seq,
        kind: c.kind,
        status: c.status,
        ...(c.output === null ? {} : { output: c.output }),
        ...(c.path === null ? {} : { path: c.path }),
        ...(c.fault === null ? {} : { fault: c.fault }),
        ...(c.wake_at === null ? {} : { wakeAt: c.wake_at.getTime() }),
      })),
      lastEventSeq: seq[0]?.seq ?? 0,
    }
  }

  /** Writes a run change, checkpoints and events, if `owner` still owns the run (else resolves false). */
  commit(
    runId: string,
    owner: string,
    leaseMs: number,
    change: RunChange,
    checkpoints: readonly Checkpoint[],
    events: readonly TimelineEvent[],
  ): Promise<boolean> {
    return this.#commits.commit({ runId, owner, leaseMs, change, checkpoints, events })
  }

  async get(runId: string): Promise<RunInfo | undefined> {
    const rows = await this.db.query<RunRow>(`select ${runColumns} from keel_flow_runs where id = $1`, [
      runId,
    ])
    return rows[0] ? toRunInfo(rows[0]) : undefined
  }

  async list(filter: { status?: RunStatus; flow?: string; limit: number }): Promise<RunInfo[]> {
    const rows = await this.db.query<RunRow>(
      `select ${runColumns} from keel_flow_runs
       where ($1::text is null or status = $1) and ($2::text is null or flow = $2)
       order by updated_at desc limit $3`,
      [filter.status ?? null, filter.flow ?? null, filter.limit],
    )
    return rows.map(toRunInfo)
  }

  async timeline(runId: string): Promise<TimelineEvent[]> {
    const rows = await this.db.query<{
      seq: number
      at: Date
      type: TimelineEvent['type']
      step: string | null
      attempt: number | null
      duration_ms: number | null
      error: TimelineEvent['error'] | null
      data: unknown
    }>(
      'select seq, at, type, step, attempt, duration_ms, error, data from keel_flow_events where run_id = $1 order by seq',
      [runId],
    )
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at.getTime(),
      type: r.type,
      ...(r.step === null ? {} : { step: r.step }),
      ...(r.attempt === null ? {} : { attempt: r.attempt }),
      ...(r.duration_ms === null ? {} : { durationMs: r.duration_ms }),
      ...(r.error === null ? {} : { error: r.error }),
      ...(r.data === null ? {} : { data: r.data }),
    }))
  }

  /**
   * An operator's change to a run nobody should be executing (dead, or parked): applied only
   * when the run is in one of `from`, with an event; it also drops any owner, so a worker still
   * holding the run loses its lease at the next write.
   */
  async transition(
    runId: string,
    from: readonly RunStatus[],
    change: { status: RunStatus; fault?: Fault | null; finished?: boolean },
    event: { type: TimelineEvent['type']; data?: unknown },
    checkpoint?: Omit<Checkpoint, 'seq'>,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<{ status: RunStatus }>(
        'select status from keel_flow_runs where id = $1 for update',
        [runId],
      )
      const status = locked[0]?.status
      if (!status || !from.includes(status)) return false
      const [{ seq: eventSeq } = { seq: 0 }] = await tx.query<{ seq: number }>(
        'select coalesce(max(seq), 0)::integer as seq from keel_flow_events where run_id = $1',
        [runId],
      )
      if (checkpoint) {
        const [{ seq } = { seq: 0 }] = await tx.query<{ seq: number }>(
          'select coalesce(max(seq), 0)::integer as seq from keel_flow_checkpoints where run_id = $1',
          [runId],
        )
        await tx.query(
          `insert into keel_flow_checkpoints (run_id, key, seq, kind, status, output, path)
           values ($1, $2, $3, $4, $5, ($6::jsonb) -> 'v', $7)
           on conflict (run_id, key) do update set status = excluded.status, output = excluded.output, seq = excluded.seq`,
          [
            runId,
            checkpoint.key,
            seq + 1,
            checkpoint.kind,
            checkpoint.status,
            wrap(checkpoint.output),
            checkpoint.path ?? null,
          ],
        )
      }
      await tx.query(
        `update keel_flow_runs set status = $2, owner = null, lease_until = null, wake_at = null, error = null, resumes = 0,
           fault = case when $3::boolean then nullif(($4::jsonb) -> 'v', 'null'::jsonb) else fault end,
           finished_at = case when $5::boolean then now() else null end, updated_at = now()
         where id = $1`,
        [
          runId,
          change.status,
          change.fault !== undefined,
          wrap(change.fault ?? null),
          change.finished === true,
        ],
      )
      await tx.query(
        `insert into keel_flow_events (run_id, seq, at, type, data) values ($1, $2, now(), $3, ($4::jsonb) -> 'v')`,
        [runId, eventSeq + 1, event.type, wrap(event.data ?? null)],
      )
      return true
    })
  }
}

function toRunInfo(r: RunRow): RunInfo {
  return {
    id: r.id,
    flow: r.flow,
    version: r.version,
    status: r.status,
    input: r.input,
    ...(r.output === null ? {} : { output: r.output }),
    ...(r.fault === null ? {} : { fault: r.fault }),
    ...(r.error === null ? {} : { error: r.error }),
    context: r.context ?? {},
    ...(r.owner === null ? {} : { owner: r.owner }),
    ...(r.wake_at === null ? {} : { wakeAt: r.wake_at }),
    executions: r.executions,
    resumes: r.resumes,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.finished_at === null ? {} : { finishedAt: r.finished_at }),
  }
}
