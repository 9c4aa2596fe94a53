// Traces: the recent traces, live from the WebSocket feed (polling while it is down), filtered
// by route and status; a trace opens as a span waterfall.
import { useEffect, useState } from 'preact/hooks'
import { clock, ms, statusClass } from '../format.js'
import { useApp, useLiveMessages, useLiveState, usePoll } from '../hooks.js'
import { html } from '../html.js'
import { Waterfall } from '../waterfall.js'

const maxListed = 200
const statuses = [
  ['', 'Any status'],
  ['error', 'Errors'],
  ['ok', 'Not errors'],
  ['2xx', '2xx'],
  ['4xx', '4xx'],
  ['5xx', '5xx'],
]

/** Whether a trace summary passes the filter (the same rules as the API's). */
export function matches(trace, filter) {
  if (filter.route && trace.route !== filter.route) return false
  const status = filter.status
  if (!status) return true
  if (status === 'error') return trace.isError
  if (status === 'ok') return !trace.isError
  const code = String(trace.statusCode ?? '')
  return /^[1-5]xx$/.test(status) ? code[0] === status[0] : code === status
}

export function TracesView({ params, query }) {
  const { api, navigate } = useApp()
  const liveState = useLiveState()
  const filter = { route: query.get('route') ?? '', status: query.get('status') ?? '' }
  const search = new URLSearchParams({ limit: '100' })
  if (filter.route) search.set('route', filter.route)
  if (filter.status) search.set('status', filter.status)
  const isLive = liveState === 'live'
  // Live: load once per filter, then the feed adds to it. Otherwise poll.
  const listing = usePoll(() => api.get(`/traces?${search}`), isLive ? 0 : 2000, [search.toString(), isLive])
  const routes = usePoll(() => api.get('/routes'), 0)
  const [traces, setTraces] = useState([])
  useEffect(() => {
    if (listing.data) setTraces(listing.data.traces)
  }, [listing.data])
  useLiveMessages('trace', (message) => {
    const trace = message.trace
    if (!matches(trace, filter)) return
    setTraces((list) => [trace, ...list.filter((t) => t.traceId !== trace.traceId)].slice(0, maxListed))
  })
  const selectedId = params[0]
  const setFilter = (next) => {
    const q = new URLSearchParams()
    const merged = { ...filter, ...next }
    if (merged.route) q.set('route', merged.route)
    if (merged.status) q.set('status', merged.status)
    const qs = q.toString()
    navigate(`traces${selectedId ? `/${selectedId}` : ''}${qs ? `?${qs}` : ''}`)
  }
  const qs = query.toString()
  const open = (traceId) => `traces/${traceId}${qs ? `?${qs}` : ''}`
  const routePaths = [...new Set((routes.data?.routes ?? []).map((r) => r.path))].sort()

  return html`<section aria-labelledby="view-title" class="traces-view">
    <div class="view-head">
      <h1 id="view-title" tabindex="-1">Traces</h1>
      <span class=${`live-badge ${liveState}`} role="status">${isLive ? 'Live' : 'Polling every 2 s'}</span>
      <div class="filters">
        <label class="filter">Route
          <select data-filter value=${filter.route} onChange=${(e) => setFilter({ route: e.currentTarget.value })}>
            <option value="">Any route</option>
            ${routePaths.map((path) => html`<option key=${path} value=${path}>${path}</option>`)}
          </select>
        </label>
        <label class="filter">Status
          <select value=${filter.status} onChange=${(e) => setFilter({ status: e.currentTarget.value })}>
            ${statuses.map(([value, label]) => html`<option key=${value} value=${value}>${label}</option>`)}
          </select>
        </label>
      </div>
    </div>
    ${listing.error && html`<p class="error" role="alert">${listing.error.message}</p>`}
    <div class=${`split${selectedId ? ' with-detail' : ''}`}>
      <div class="trace-list-wrap">
        ${listing.data && traces.length === 0 && html`<p class="muted">No traces yet. Send a request (Routes → Send) and it shows up here.</p>`}
        <ol class="trace-list" aria-label="Recent traces, newest first">
          ${traces.map(
            (trace) => html`<li key=${trace.traceId}>
              <a href=${`#/${open(trace.traceId)}`} class=${`trace-row${trace.traceId === selectedId ? ' selected' : ''}${trace.isError ? ' failed' : ''}`}
                  aria-current=${trace.traceId === selectedId ? 'true' : undefined} data-trace=${trace.traceId}>
                <span class="time">${clock(trace.startMs)}</span>
                <span class="name">${trace.method ? html`<span class=${`method m-${trace.method.toLowerCase()}`}>${trace.method}</span> ${trace.route ?? trace.name}` : trace.name}</span>
                <span class=${`status ${statusClass(trace.statusCode)}`}>${trace.statusCode ?? (trace.isError ? 'error' : 'ok')}</span>
                <span class="num">${ms(trace.durationMs)}</span>
                <span class="num muted">${trace.spanCount} spans</span>
              </a>
            </li>`,
          )}
        </ol>
      </div>
      ${selectedId && html`<${TraceDetail} key=${selectedId} traceId=${selectedId} close=${() => navigate(`traces${qs ? `?${qs}` : ''}`)} />`}
    </div>
  </section>`
}

function TraceDetail({ traceId, close }) {
  const { api } = useApp()
  const { data, error } = usePoll(() => api.get(`/traces/${traceId}`), 0, [traceId])
  // Escape closes the trace (unless a field or the help dialog has it).
  useEffect(() => {
    const onKey = (event) => {
      if (event.key !== 'Escape' || document.querySelector('dialog[open]')) return
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) return
      close()
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [close])
  return html`<section class="trace-detail card" aria-labelledby="trace-title">
    <header class="card-head">
      <h2 id="trace-title">${data ? data.trace.name : 'Trace'}</h2>
      <button type="button" class="ghost" onClick=${close} aria-label="Close the trace">Close</button>
    </header>
    ${error && html`<p class="error" role="alert">${error.status === 404 ? 'This trace is no longer in the store (evicted).' : error.message}</p>`}
    ${
      data &&
      html`<p class="small muted"><code>${traceId}</code> · ${ms(data.trace.durationMs)} · ${data.trace.spanCount} spans
      ${data.trace.droppedSpans > 0 && ` · ${data.trace.droppedSpans} dropped`}</p>
      <${Waterfall} detail=${data} />
      ${data.capture && html`<details><summary>Captured request and response</summary><pre class="json">${JSON.stringify(data.capture, null, 2)}</pre></details>`}`
    }
  </section>`
}
