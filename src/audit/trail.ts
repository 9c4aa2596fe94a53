import type { Registry } from 'prom-client'
import type { Db, Queryable } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
import { checkEvent } from './check-event.ts'
import { type AuditEntry, type AuditEvent, entryHash } from './entry.ts'
import { type AuditMetrics, auditMetrics } from './metrics.ts'
import { type ChainCheck, verifyChain } from './verify.ts'

/** Options of {@link AuditTrail}. */
export interface AuditTrailOptions {
  /** Registers `keel_audit_*` metrics here. */
  readonly registry?: Registry
  /** Most appends committed together under one lock. Default 256. */
  readonly maxBatch?: number
}

/** What {@link AuditTrail.read} filters on; all optional. */
export interface AuditQuery {
  /** Entries after this sequence number (for paging). */
  readonly afterSeq?: number
  readonly actor?: string
  readonly action?: string
  readonly subject?: string
  /** At most this many, 1 to 1,000. Default 100. */
  readonly limit?: number
}

interface Pending {
  readonly event: ReturnType<typeof checkEvent>
  resolve(entry: AuditEntry): void
  reject(error: unknown): void
}

interface EntryRow {
  seq: number
  at: Date
  actor: string | null
  action: string
  subject: string | null
  data: unknown
  prev_hash: string
  hash: string
}

const entryColumns = 'seq, at, actor, action, subject, data, prev_hash, hash'

/**
 * An append-only audit trail with a hash chain, on the app's database. Each entry's hash covers
 * the previous entry's hash and the canonical JSON of the entry, so changing, removing or
 * reordering any entry breaks every hash after it, and {@link verify} names the first one.
 *
 * The chain's head is a row that every append locks, so appends from any number of processes
 * are serialized by the database and never fork the chain; callers never supply a previous hash.
 * Concurrent appends from one process share a commit.
 *
 * @example
 * ```ts
 * const trail = new AuditTrail(db)
 * await trail.append({ action: 'todo.deleted', actor: user.id, subject: `todos/${id}` })
 * // in the same transaction as the change it records:
 * await db.transaction(async (tx) => {
 *   await tx.query('delete from todos where id = $1', [id])
 *   await trail.append({ action: 'todo.deleted', actor: user.id, subject: `todos/${id}` }, { tx })
 * })
 * const check = await trail.verify() // { ok: true, entries: 2, head: { seq: 2, hash: '…' } }
 * ```
 */
export class AuditTrail {
  readonly #db: Db
  readonly #maxBatch: number
  readonly #metrics: AuditMetrics | undefined
  #queue: Pending[] = []
  #flushing: Promise<void> | undefined

  /** The database must have the audit tables: see `auditMigrations`, or use the `audit()` module. */
  constructor(db: Db, options: AuditTrailOptions = {}) {
    this.#db = db
    this.#maxBatch = options.maxBatch ?? 256
    this.#metrics = options.registry ? auditMetrics(options.registry) : undefined
  }

  /**
   * Appends an event and resolves with the stored entry once it is committed. With `tx`, the
   * entry is written in that transaction: it exists only if the transaction commits, and the
   * chain stays locked until it ends.
   *
   * @throws KeelError `KEEL_AUDIT_INVALID_EVENT` when the event is not storable as it is.
   */
  append(event: AuditEvent, options: { tx?: Queryable } = {}): Promise<AuditEntry> {
    let checked: ReturnType<typeof checkEvent>
    try {
      checked = checkEvent(event)
    } catch (error) {
      return Promise.reject(error)
    }
    if (options.tx) return this.#write(options.tx, [checked]).then((entries) => entries[0]!)
    return new Promise<AuditEntry>((resolve, reject) => {
      this.#queue.push({ event: checked, resolve, reject })
      this.#flushing ??= this.#flush()
    })
  }

  /** Entries in sequence order, filtered. */
  async read(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new KeelError(
        'KEEL_AUDIT_INVALID_EVENT',
        `audit read: limit must be an integer from 1 to 1000, got ${limit}`,
        {
          status: 400,
        },
      )
    }
    const where: string[] = ['seq > $1']
    const params: unknown[] = [query.afterSeq ?? 0]
    for (const key of ['actor', 'action', 'subject'] as const) {
      const value = query[key]
      if (value === undefined) continue
      params.push(value)
      where.push(`${key} = $${params.length}`)
    }
    params.push(limit)
    const rows = await this.#db.query<EntryRow>(
      `select ${entryColumns} from keel_audit_entries where ${where.join(' and ')} order by seq limit $${params.length}`,
      params,
    )
    return rows.map(toEntry)
  }

  /** The last entry's sequence number and hash (0 and 64 zeros for an empty trail). */
  async head(): Promise<{ seq: number; hash: string }> {
    const [head] = await this.#db.query<{ seq: number; hash: string }>(
      'select seq, hash from keel_audit_head',
    )
    if (!head)
      throw new KeelError('KEEL_AUDIT_BROKEN', 'the audit head row is missing: the trail was tampered with')
    return head
  }

  /**
   * Walks the whole chain in order and recomputes every hash. Resolves `ok: false` naming the first
   * entry that does not verify (altered, missing, reordered) or a head that does not match the last entry.
   */
  async verify(): Promise<ChainCheck> {
    const check = await verifyChain(this.#db)
    this.#metrics?.verified(check.ok)
    return check
  }

  /** Resolves once every append made so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch)
      try {
        const entries = await this.#db.transaction((tx) =>
          this.#write(
            tx,
            batch.map((p) => p.event),
          ),
        )
        for (const [i, pending] of batch.entries()) pending.resolve(entries[i]!)
      } catch (error) {
        for (const pending of batch) pending.reject(error)
      }
    }
    this.#flushing = undefined
  }

  /** Locks the head, chains the events onto it and writes them: three statements for any batch. */
  async #write(tx: Queryable, events: readonly ReturnType<typeof checkEvent>[]): Promise<AuditEntry[]> {
    const started = performance.now()
    const [head] = await tx.query<{ seq: number; hash: string }>(
      'select seq, hash from keel_audit_head for update',
    )
    if (!head)
      throw new KeelError('KEEL_AUDIT_BROKEN', 'the audit head row is missing: the trail was tampered with')
    let { seq, hash: prevHash } = head
    const at = new Date()
    const entries = events.map((event) => {
      seq += 1
      const unhashed = { seq, at, ...event, prevHash }
      const entry: AuditEntry = { ...unhashed, hash: entryHash(unhashed) }
      prevHash = entry.hash
      return entry
    })
    const rows = entries.map((e) => ({
      ...e,
      at: e.at.toISOString(),
      prev_hash: e.prevHash,
      prevHash: undefined,
    }))
    // One parameter for the whole batch; wrapped because postgres.js would send a bare array as a
    // Postgres array, not as jsonb.
    await tx.query(
      `insert into keel_audit_entries (${entryColumns})
       select ${entryColumns} from jsonb_to_recordset(($1::jsonb)->'rows') as r(
         seq bigint, at timestamptz, actor text, action text, subject text, data jsonb, prev_hash text, hash text)`,
      [{ rows }],
    )
    await tx.query('update keel_audit_head set seq = $1, hash = $2', [seq, prevHash])
    this.#metrics?.committed(entries.length, (performance.now() - started) / 1000)
    return entries
  }
}

/** @internal A stored row as an entry. */
export function toEntry(row: EntryRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

export type { EntryRow }
