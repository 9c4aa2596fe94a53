import type { Queryable } from '../../data/index.ts'

/** A write through a resource endpoint, as the hooks that follow it see it. */
export interface ResourceChange {
  readonly resource: string
  readonly type: 'created' | 'updated' | 'deleted'
  /** The primary key of the row. */
  readonly id: unknown
  /** The row as the endpoint answered it (sensitive fields left out). */
  readonly row: Readonly<Record<string, unknown>>
  /** For `updated`: the fields the request set. */
  readonly changed?: readonly string[]
  /** The JWT subject of the caller, if any. */
  readonly actor?: string
  /** The tenant of the row, for tenant-scoped resources. */
  readonly tenant?: string
  /** True when the resource lists this change in its `events`: hooks that publish events check it. */
  readonly isDeclaredEvent: boolean
}

/**
 * Runs after a write inside its transaction: what it writes with `tx` (an audit entry, a job that
 * delivers a webhook) commits with the row or not at all. A throw rolls the write back (500).
 */
export type ResourceChangeHook = (change: ResourceChange, tx: Queryable) => unknown
