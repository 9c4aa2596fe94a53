// Inline SVG charts, no chart library: a sparkline for latency, bars for traffic and errors.
import { html } from './html.js'

/**
 * A line over `values` (oldest first), scaled to the largest; `label` is what a screen reader hears.
 * @param {{ values: number[], label: string, width?: number, height?: number, className?: string }} props
 */
export function Sparkline({ values, label, width = 160, height = 32, className = 'spark' }) {
  const max = Math.max(...values, 0)
  const step = values.length > 1 ? width / (values.length - 1) : width
  const y = (v) => (max === 0 ? height - 1 : height - 1 - (v / max) * (height - 2))
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  return html`<svg class=${className} viewBox="0 0 ${width} ${height}" width=${width} height=${height}
      role="img" aria-label=${label} preserveAspectRatio="none">
    <polyline points=${points} fill="none" vector-effect="non-scaling-stroke" />
  </svg>`
}

/**
 * One bar per bucket: its count, the errors part stacked in red.
 * @param {{ points: { count: number, errors: number }[], label: string, width?: number, height?: number }} props
 */
export function Bars({ points, label, width = 160, height = 32 }) {
  const max = Math.max(...points.map((p) => p.count), 0)
  const barWidth = points.length > 0 ? width / points.length : width
  const scale = (n) => (max === 0 ? 0 : (n / max) * height)
  return html`<svg class="bars" viewBox="0 0 ${width} ${height}" width=${width} height=${height}
      role="img" aria-label=${label} preserveAspectRatio="none">
    ${points.map((p, i) => {
      const total = scale(p.count)
      const errors = scale(p.errors)
      const x = (i * barWidth).toFixed(2)
      const w = Math.max(barWidth - 0.5, 0.5).toFixed(2)
      return html`<g key=${i}>
        ${total > 0 && html`<rect class="ok" x=${x} y=${(height - total).toFixed(2)} width=${w} height=${(total - errors).toFixed(2)} />`}
        ${errors > 0 && html`<rect class="err" x=${x} y=${(height - errors).toFixed(2)} width=${w} height=${errors.toFixed(2)} />`}
      </g>`
    })}
  </svg>`
}
