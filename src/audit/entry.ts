import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

/** What a caller appends: who did what to which subject, with any JSON details. */
export interface AuditEvent {
  /** What happened, e.g. `todo.created`, `auth.login_failed`. */
  readonly action: string
  /** Who did it: a user id, a service name; omitted for the system. */
  readonly actor?: string
  /** What it was done to, e.g. `todos/42`; lets a reader list one subject's history. */
  readonly subject?: string
  /** Details as plain JSON. Redact secrets before appending: the trail keeps them forever. */
  readonly data?: unknown
}

/** One stored entry of the chain. */
export interface AuditEntry {
  readonly seq: number
  readonly at: Date
  readonly actor: string | null
  readonly action: string
  readonly subject: string | null
  readonly data: unknown
  /** The hash of the entry before (64 zeros for the first). */
  readonly prevHash: string
  /** SHA-256 over the previous hash and the canonical JSON (RFC 8785) of this entry. */
  readonly hash: string
}

/**
 * The hash of an entry: SHA-256, hex, over the canonical JSON (RFC 8785: sorted keys, no
 * whitespace, fixed number forms) of its fields including the previous hash. Canonical JSON
 * makes the hash independent of key order and of how the database returns `jsonb`.
 */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const canonical = canonicalize({
    seq: entry.seq,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    data: entry.data,
    prevHash: entry.prevHash,
  })
  return createHash('sha256')
    .update(canonical as string)
    .digest('hex')
}
