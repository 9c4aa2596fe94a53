/**
 * A `bigint` column can hold values past ±(2^53 − 1), which no JSON number keeps exactly and which
 * the drivers return as a JS `bigint`. Answers (and resource events) carry such a value as its
 * decimal string, the way the row schema declares; safe values stay numbers.
 */
export function withExactBigints<R extends Record<string, unknown>>(row: R): R {
  let copy: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(row)) {
    if (typeof value !== 'bigint') continue
    copy ??= { ...row }
    copy[key] = value.toString()
  }
  return (copy ?? row) as R
}
