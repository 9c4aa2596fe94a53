import { escapeHtml } from './html-escape.ts'
import type { LatencyBucket } from './latency-histogram.ts'
import type { SecondSample } from './measure-scenario.ts'

// Inline SVG (no script, no external file): the report opens anywhere, offline, under a CSP
// that forbids everything but inline styles.

const width = 640
const height = 220
const margin = { top: 16, right: 16, bottom: 40, left: 72 }
const plotWidth = width - margin.left - margin.right
const plotHeight = height - margin.top - margin.bottom

const num = (value: number) => String(Math.round(value * 10) / 10)
/** An axis label: whole numbers from 100 up, one decimal below. */
const tickLabel = (value: number) => (value >= 100 ? String(Math.round(value)) : num(value))
const msLabel = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`)

function frame(label: string, body: string): string {
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${body}</svg>`
}

function axes(yMax: number, yUnit: string): string {
  const x0 = margin.left
  const y0 = margin.top + plotHeight
  const ticks = [0, 0.5, 1].map((share) => {
    const y = y0 - share * plotHeight
    return `<line class="grid" x1="${x0}" y1="${num(y)}" x2="${x0 + plotWidth}" y2="${num(y)}"/><text class="tick" x="${x0 - 6}" y="${num(y + 4)}" text-anchor="end">${tickLabel(share * yMax)}</text>`
  })
  return `${ticks.join('')}<line class="axis" x1="${x0}" y1="${y0}" x2="${x0 + plotWidth}" y2="${y0}"/><text class="unit" x="14" y="${margin.top + plotHeight / 2}" transform="rotate(-90 14 ${margin.top + plotHeight / 2})" text-anchor="middle">${escapeHtml(yUnit)}</text>`
}

/** Bars of responses per latency bucket (1-2-5 ms edges). */
export function latencyHistogramChart(buckets: readonly LatencyBucket[]): string {
  const label = 'latency histogram: responses per latency bucket'
  if (buckets.length === 0)
    return frame(
      label,
      `<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no responses</text>`,
    )
  const yMax = Math.max(1, ...buckets.map((bucket) => bucket.count))
  const slot = plotWidth / buckets.length
  const bars = buckets.map((bucket, index) => {
    const barHeight = (bucket.count / yMax) * plotHeight
    const x = margin.left + index * slot + slot * 0.1
    const y = margin.top + plotHeight - barHeight
    const range = `${msLabel(bucket.fromMs)}–${msLabel(bucket.toMs)}`
    return `<rect class="bar" x="${num(x)}" y="${num(y)}" width="${num(slot * 0.8)}" height="${num(barHeight)}"><title>${escapeHtml(`${range}: ${bucket.count}`)}</title></rect><text class="tick" x="${num(x + slot * 0.4)}" y="${margin.top + plotHeight + 14}" text-anchor="middle">&lt;${escapeHtml(msLabel(bucket.toMs))}</text>`
  })
  return frame(
    label,
    `${axes(yMax, 'responses')}${bars.join('')}<text class="unit" x="${margin.left + plotWidth / 2}" y="${height - 4}" text-anchor="middle">latency</text>`,
  )
}

/**
 * Responses per second over the run: a column per second for runs up to a minute (a short run
 * has too few points for a line), a line over an area for longer ones.
 */
export function throughputChart(samples: readonly SecondSample[]): string {
  const label = 'throughput over time: responses per second'
  if (samples.length === 0) return frame(label, '')
  const yMax = Math.max(1, ...samples.map((sample) => sample.rps))
  const baseline = margin.top + plotHeight
  const slot = plotWidth / samples.length
  const xOf = (index: number) => margin.left + index * slot + slot / 2
  const yOf = (rps: number) => baseline - (rps / yMax) * plotHeight
  const tip = (sample: SecondSample) =>
    `<title>${escapeHtml(`second ${sample.second + 1}: ${sample.rps} rps, ${sample.errors} errors`)}</title>`
  let marks: string
  if (samples.length <= 60) {
    marks = samples
      .map((sample, index) => {
        const y = yOf(sample.rps)
        return `<rect class="bar" x="${num(xOf(index) - slot * 0.4)}" y="${num(y)}" width="${num(slot * 0.8)}" height="${num(baseline - y)}">${tip(sample)}</rect>`
      })
      .join('')
  } else {
    const line = samples.map((sample, index) => `${num(xOf(index))},${num(yOf(sample.rps))}`).join(' ')
    const area = `${num(xOf(0))},${baseline} ${line} ${num(xOf(samples.length - 1))},${baseline}`
    marks = `<polygon class="area" points="${area}"/><polyline class="line" points="${line}"/>`
  }
  const labelEvery = Math.max(1, Math.ceil(samples.length / 10))
  const xTicks = samples
    .map((sample, index) => ({ sample, index }))
    .filter(({ index }) => index % labelEvery === 0)
    .map(
      ({ sample, index }) =>
        `<text class="tick" x="${num(xOf(index))}" y="${baseline + 14}" text-anchor="middle">${sample.second + 1}</text>`,
    )
  return frame(
    label,
    `${axes(yMax, 'rps')}${marks}${xTicks.join('')}<text class="unit" x="${margin.left + plotWidth / 2}" y="${height - 4}" text-anchor="middle">second</text>`,
  )
}

/** Horizontal bars of responses per status code, coloured by class. */
export function statusCodesChart(statusCodes: Readonly<Record<string, number>>, errors: number): string {
  const label = 'status codes: responses per status, transport errors last'
  const entries = Object.entries(statusCodes).sort(([a], [b]) => Number(a) - Number(b))
  if (errors > 0) entries.push(['errors', errors])
  if (entries.length === 0) return frame(label, '')
  const rowHeight = 26
  const chartHeight = margin.top + entries.length * rowHeight + 8
  const max = Math.max(...entries.map(([, count]) => count))
  const bars = entries.map(([status, count], index) => {
    const y = margin.top + index * rowHeight
    const barWidth = Math.max(1, (count / max) * (plotWidth - 80))
    const kind = status === 'errors' ? 'error' : `s${status[0]}xx`
    return `<text class="tick" x="${margin.left - 6}" y="${y + 16}" text-anchor="end">${escapeHtml(status)}</text><rect class="status ${kind}" x="${margin.left}" y="${y + 4}" width="${num(barWidth)}" height="${rowHeight - 8}"/><text class="tick" x="${num(margin.left + barWidth + 6)}" y="${y + 16}">${count}</text>`
  })
  return `<svg class="chart" viewBox="0 0 ${width} ${chartHeight}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${bars.join('')}</svg>`
}
