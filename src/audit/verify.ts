import type { Queryable } from '../data/index.ts'
import { entryHash } from './entry.ts'
import { genesisHash } from './schema.ts'
import { type EntryRow, toEntry } from './trail.ts'

/** The result of walking the chain. */
export type ChainCheck =
  | { readonly ok: true; readonly entries: number; readonly head: { seq: number; hash: string } }
  | {
      readonly ok: false
      /** Entries that verified before the break. */
      readonly entries: number
      /** The first entry that does not verify (for a head mismatch, the head's sequence number). */
      readonly brokenAt: number
      readonly reason: string
    }

const pageSize = 1000

/**
 * Recomputes every hash in sequence order and checks the links: each entry's `prev_hash` is the
 * hash before it, sequence numbers have no gaps, and the head row names the last entry (a
 * removed tail shows there). Pages by sequence number, so memory stays flat on long chains.
 */
export async function verifyChain(db: Queryable): Promise<ChainCheck> {
  // The head first: an append moves it in the transaction that inserts its entries, so every entry
  // up to the head read here is committed, and appends made during the walk are left for next time.
  const [head] = await db.query<{ seq: number; hash: string }>('select seq, hash from keel_audit_head')
  if (!head) return { ok: false, entries: 0, brokenAt: 1, reason: 'the head row is missing' }
  let expectedSeq = 1
  let prevHash = genesisHash
  for (;;) {
    const rows = await db.query<EntryRow>(
      `select seq, at, actor, action, subject, data, prev_hash, hash from keel_audit_entries
       where seq >= $1 and seq <= $2 order by seq limit $3`,
      [expectedSeq, head.seq, pageSize],
    )
    for (const row of rows) {
      const entry = toEntry(row)
      const broken = (reason: string): ChainCheck => ({
        ok: false,
        entries: expectedSeq - 1,
        brokenAt: entry.seq,
        reason,
      })
      if (entry.seq !== expectedSeq) {
        return {
          ok: false,
          entries: expectedSeq - 1,
          brokenAt: expectedSeq,
          reason: `entry ${expectedSeq} is missing`,
        }
      }
      if (entry.prevHash !== prevHash) {
        return broken(`entry ${entry.seq} does not point at the hash of entry ${entry.seq - 1}`)
      }
      if (entryHash(entry) !== entry.hash) {
        return broken(`entry ${entry.seq} was altered: its content does not match its hash`)
      }
      prevHash = entry.hash
      expectedSeq += 1
    }
    if (rows.length < pageSize) break
  }
  const count = expectedSeq - 1
  if (head.seq !== count || head.hash !== prevHash) {
    return {
      ok: false,
      entries: count,
      brokenAt: head.seq > count ? count + 1 : head.seq,
      reason:
        head.seq > count
          ? `the head names entry ${head.seq} but the chain ends at entry ${count}: entries were removed from its end`
          : `the head names entry ${head.seq} (${head.hash.slice(0, 12)}) but the chain ends at entry ${count} (${prevHash.slice(0, 12)})`,
    }
  }
  return { ok: true, entries: count, head: { seq: head.seq, hash: head.hash } }
}
