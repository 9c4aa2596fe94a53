// A trace's spans as a waterfall: one row per span in tree order (children under their parent,
// by start), a bar placed by its start offset and sized by its duration, coloured by status.
import { useState } from 'preact/hooks'
import { ms, pretty } from './format.js'
import { html } from './html.js'

/**
 * Spans in tree order with their depth. A span whose parent is not in the trace (a remote
 * caller, a dropped span) starts a tree of its own.
 * @param {{ spanId: string, parentSpanId?: string, offsetMs: number }[]} spans
 */
export function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map()
  const roots = []
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      const list = children.get(span.parentSpanId) ?? []
      list.push(span)
      children.set(span.parentSpanId, list)
    } else roots.push(span)
  }
  const byStart = (a, b) => a.offsetMs - b.offsetMs
  const out = []
  const seen = new Set()
  const visit = (span, depth) => {
    if (seen.has(span.spanId)) return
    seen.add(span.spanId)
    out.push({ span, depth })
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child, depth + 1)
  }
  for (const root of roots.sort(byStart)) visit(root, 0)
  return out
}

const statusOf = (span) => (span.status === 'error' ? 'error' : span.status === 'ok' ? 'ok' : 'unset')

/** Arrow keys move between rows. */
function onRowKey(event) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return
  const rows = [...event.currentTarget.closest('.waterfall').querySelectorAll('button.span-row')]
  const index = rows.indexOf(event.currentTarget)
  const next = rows[index + (event.key === 'ArrowDown' ? 1 : -1)]
  if (next) {
    event.preventDefault()
    next.focus()
  }
}

/**
 * The waterfall of one trace (the `/v1/traces/:id` answer), with the selected span's attributes
 * and events below it.
 */
export function Waterfall({ detail }) {
  const rows = treeOrder(detail.spans)
  const total = Math.max(
    detail.trace.durationMs,
    ...detail.spans.map((s) => s.offsetMs + s.durationMs),
    0.001,
  )
  const [selectedId, setSelectedId] = useState(rows[0]?.span.spanId)
  const selected = detail.spans.find((s) => s.spanId === selectedId)
  return html`<div class="waterfall-wrap">
    <div class="waterfall" role="list" aria-label="Spans of the trace">
      <div class="waterfall-scale" aria-hidden="true">
        <span>0</span><span>${ms(total / 2)}</span><span>${ms(total)}</span>
      </div>
      ${rows.map(({ span, depth }) => {
        const left = (span.offsetMs / total) * 100
        const width = Math.max((span.durationMs / total) * 100, 0.3)
        const status = statusOf(span)
        return html`<div role="listitem" key=${span.spanId}>
          <button type="button" class=${`span-row${span.spanId === selectedId ? ' selected' : ''}`}
              aria-pressed=${span.spanId === selectedId} data-span=${span.name}
              onClick=${() => setSelectedId(span.spanId)} onKeyDown=${onRowKey}>
            <span class="span-name" style=${{ paddingLeft: `${depth * 14}px` }}>
              <span class=${`dot ${status}`} aria-hidden="true"></span>${span.name}
              <span class="sr-only">, ${status}, starts at ${ms(span.offsetMs)}, lasts ${ms(span.durationMs)}</span>
            </span>
            <span class="span-track" aria-hidden="true">
              <span class=${`span-bar ${status}`} style=${{ left: `${left}%`, width: `${width}%` }}></span>
            </span>
            <span class="span-duration">${ms(span.durationMs)}</span>
          </button>
        </div>`
      })}
    </div>
    ${selected && html`<${SpanDetails} span=${selected} />`}
  </div>`
}

function SpanDetails({ span }) {
  const attributes = Object.entries(span.attributes ?? {})
  return html`<section class="span-details" aria-label=${`Span ${span.name}`}>
    <h3>${span.name}</h3>
    <dl class="facts">
      <dt>Kind</dt><dd>${span.kind}</dd>
      <dt>Status</dt><dd class=${`status-${statusOf(span)}`}>${span.status}${span.statusMessage ? `: ${span.statusMessage}` : ''}</dd>
      <dt>Starts at</dt><dd>${ms(span.offsetMs)}</dd>
      <dt>Duration</dt><dd>${ms(span.durationMs)}</dd>
      <dt>Span id</dt><dd><code>${span.spanId}</code></dd>
    </dl>
    ${
      attributes.length > 0 &&
      html`<table class="attributes">
      <caption>Attributes</caption>
      <tbody>
        ${attributes.map(([key, value]) => html`<tr key=${key}><th scope="row">${key}</th><td><code>${typeof value === 'string' ? value : JSON.stringify(value)}</code></td></tr>`)}
      </tbody>
    </table>`
    }
    ${
      span.events?.length > 0 &&
      html`<h4>Events</h4>
      <ul class="events">
        ${span.events.map(
          (event, i) => html`<li key=${i}><strong>${event.name}</strong> at +${ms(event.offsetMs)}
          ${event.attributes && html`<pre>${pretty(event.attributes)}</pre>`}</li>`,
        )}
      </ul>`
    }
  </section>`
}
