/**
 * A `bigint` column can hold values past ±(2^53 − 1), which no JSON number keeps exactly and which
 * the drivers return as a JS `bigint`. Answers (and resource events) carry such a value as its
 * decimal string, the way the row schema declares; safe values stay numbers.
 */
export function withExactBigints<R extends Record<string, unknown>>(row: R): R {
  // for…in rather than Object.entries: no array per column, on every row of every answer.
  let copy: Record<string, unknown> | undefined
  for (const key in row) {
    const value = row[key]
    if (typeof value !== 'bigint') continue
    copy ??= { ...row }
    copy[key] = value.toString()
  }
  return (copy ?? row) as R
}

/**
 * The first `count` rows (all of them when fewer) through {@link withExactBigints}, in a plain
 * array. A loop rather than `slice().map()`: the drivers' row lists are Array subclasses
 * (postgres.js `Result`), on which both take the engine's slow generic path.
 */
export function exactRows(
  rows: readonly Record<string, unknown>[],
  count = rows.length,
): Record<string, unknown>[] {
  const length = Math.min(count, rows.length)
  const out = new Array<Record<string, unknown>>(length)
  for (let i = 0; i < length; i++) out[i] = withExactBigints(rows[i]!)
  return out
}
