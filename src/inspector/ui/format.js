// Numbers as people read them: durations, rates, percentages, times.

/** `0.42 ms`, `12.3 ms`, `1.25 s`, `2.1 min`. */
export function ms(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–'
  if (value === 0) return '0 ms'
  if (value < 1) return `${value.toFixed(2)} ms`
  if (value < 100) return `${value.toFixed(1)} ms`
  if (value < 1000) return `${Math.round(value)} ms`
  if (value < 60_000) return `${(value / 1000).toFixed(2)} s`
  return `${(value / 60_000).toFixed(1)} min`
}

/** `0.5/s`, `12/s`. */
export function rate(perSecond) {
  if (!perSecond) return '0/s'
  return perSecond < 10 ? `${perSecond.toFixed(2)}/s` : `${Math.round(perSecond)}/s`
}

/** `0 %`, `2.5 %`. */
export function percent(ratio) {
  if (!ratio) return '0 %'
  const value = ratio * 100
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} %`
}

/** Local wall-clock time with milliseconds: `14:03:12.345`. */
export function clock(epochMs) {
  const date = new Date(epochMs)
  const pad = (n, width = 2) => String(n).padStart(width, '0')
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

/** An ISO date as local date and time. */
export function dateTime(iso) {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString()
}

/** `12 KiB`. */
export function bytes(count) {
  if (count < 1024) return `${count} B`
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`
  return `${(count / 1024 / 1024).toFixed(1)} MiB`
}

/** JSON for people: two-space indent. */
export function pretty(value) {
  return JSON.stringify(value, null, 2)
}

/** A status code's class for colouring: `s2`, `s4`, `s5`. */
export function statusClass(code) {
  return code ? `s${String(code)[0]}` : 's0'
}
