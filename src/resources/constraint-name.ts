import { createHash } from 'node:crypto'

/** PostgreSQL truncates identifiers longer than this many bytes. */
const maxIdentifierBytes = 63

/**
 * A constraint or index name `<table>_<columns…>_<suffix>` (`todos_org_id_done_idx`), as
 * PostgreSQL would choose it. A name over 63 bytes is cut and ends in a short hash of the full
 * name, so two long names never collapse into one (PostgreSQL would silently truncate them).
 */
export function constraintName(table: string, columns: readonly string[], suffix: string): string {
  const full = [table, ...columns, suffix].join('_')
  if (Buffer.byteLength(full) <= maxIdentifierBytes) return full
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8)
  const tail = `_${hash}_${suffix}`
  return `${full.slice(0, maxIdentifierBytes - tail.length)}${tail}`
}
