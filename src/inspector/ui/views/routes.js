// Routes: every app route with its live window (throughput, p50/p95/p99, error rate), its
// schemas on demand, and a Send panel that relays a sample request into it.
import { useState } from 'preact/hooks'
import { Sparkline } from '../charts.js'
import { ms, percent, pretty, rate, statusClass } from '../format.js'
import { useApp, useLiveMessages, usePoll } from '../hooks.js'
import { html } from '../html.js'
import { OperatorButton } from '../operator-button.js'

export function RoutesView() {
  const { api } = useApp()
  const { data, error } = usePoll(() => api.get('/routes'), 5000)
  const [live, setLive] = useState(new Map())
  const [filter, setFilter] = useState('')
  const [open, setOpen] = useState(undefined)
  useLiveMessages('metrics', (message) => {
    setLive(new Map(message.routes.map((series) => [series.key, series.window])))
  })
  const routes = (data?.routes ?? []).filter((r) =>
    `${r.method} ${r.path} ${r.summary ?? ''}`.toLowerCase().includes(filter.toLowerCase()),
  )
  return html`<section aria-labelledby="view-title">
    <div class="view-head">
      <h1 id="view-title" tabindex="-1">Routes</h1>
      <label class="filter">Filter routes
        <input type="search" data-filter value=${filter} placeholder="/orders, POST…"
          onInput=${(e) => setFilter(e.currentTarget.value)} />
      </label>
    </div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${data && routes.length === 0 && html`<p class="muted">No routes match.</p>`}
    ${
      routes.length > 0 &&
      html`<table class="grid routes">
      <thead><tr>
        <th scope="col">Route</th><th scope="col" class="num">Throughput</th><th scope="col" class="num">p50</th>
        <th scope="col" class="num">p95</th><th scope="col" class="num">p99</th><th scope="col" class="num">Errors</th>
        <th scope="col">Last minute (p95)</th>
      </tr></thead>
      <tbody>
        ${routes.map((route) => {
          const window = live.get(`${route.method} ${route.path}`) ?? route.window
          const isOpen = open === route.id
          return html`<${RouteRow} key=${route.id} route=${route} window=${window} isOpen=${isOpen}
            toggle=${() => setOpen(isOpen ? undefined : route.id)} />`
        })}
      </tbody>
    </table>`
    }
  </section>`
}

function RouteRow({ route, window, isOpen, toggle }) {
  const series = route.window.series ?? []
  return html`
    <tr class=${`route-row${isOpen ? ' open' : ''}`} data-route=${`${route.method} ${route.path}`}>
      <th scope="row">
        <button type="button" class="disclosure" aria-expanded=${isOpen} aria-controls=${`route-${route.id}`} onClick=${toggle}>
          <span class=${`method m-${route.method.toLowerCase()}`}>${route.method}</span>
          <span class="path">${route.path}</span>
          ${route.websocket && html`<span class="tag">WebSocket</span>`}
        </button>
        ${route.summary && html`<div class="muted small">${route.summary}</div>`}
      </th>
      <td class="num">${rate(window.throughputPerSec)}</td>
      <td class="num">${ms(window.p50Ms)}</td>
      <td class="num">${ms(window.p95Ms)}</td>
      <td class="num">${ms(window.p99Ms)}</td>
      <td class=${`num${window.errors > 0 ? ' bad' : ''}`}>${percent(window.errorRate)}</td>
      <td><${Sparkline} values=${series.map((p) => p.p95Ms)} label=${`p95 latency of ${route.method} ${route.path} over the window`} /></td>
    </tr>
    ${
      isOpen &&
      html`<tr class="route-detail" id=${`route-${route.id}`}>
      <td colspan="7"><${RouteDetail} route=${route} /></td>
    </tr>`
    }`
}

const schemaParts = ['params', 'query', 'headers', 'body', 'response']

function RouteDetail({ route }) {
  const parts = schemaParts.filter((part) => route.schema?.[part] !== undefined)
  return html`<div class="route-detail-body">
    <div class="schemas">
      <h2 class="h3">Schema</h2>
      ${route.guards.length > 0 && html`<p class="small">Guards: ${route.guards.join(', ')}</p>`}
      ${parts.length === 0 && html`<p class="muted">This route declares no schema.</p>`}
      ${parts.map(
        (part) => html`<details key=${part} open=${part === 'body'}>
          <summary>${part}</summary>
          <pre class="json">${pretty(route.schema[part])}</pre>
        </details>`,
      )}
    </div>
    ${!route.websocket && html`<${SendPanel} route=${route} />`}
  </div>`
}

function SendPanel({ route }) {
  const { api, navigate } = useApp()
  const [draft, setDraft] = useState('')
  const [result, setResult] = useState(undefined)
  const [problem, setProblem] = useState(undefined)
  const [busy, setBusy] = useState(false)
  const id = `send-${route.id}`

  const loadSample = async () => {
    setProblem(undefined)
    try {
      const sample = await api.get(`/routes/${route.id}/sample`)
      const request = { params: sample.params, query: sample.query, headers: sample.headers }
      if (sample.body !== undefined) request.body = sample.body
      setDraft(pretty(request))
    } catch (error) {
      setProblem(error.message)
    }
  }

  const send = async () => {
    setBusy(true)
    setProblem(undefined)
    try {
      // Empty: the relay fills every part from the route's sample.
      let request
      try {
        request = draft.trim() === '' ? {} : JSON.parse(draft)
      } catch (error) {
        throw new Error(`The request is not valid JSON: ${error.message}`)
      }
      setResult(await api.post('/relay', { routeId: route.id, ...request }))
    } catch (error) {
      setProblem(error.message)
    } finally {
      setBusy(false)
    }
  }

  return html`<div class="send" aria-labelledby=${`${id}-title`}>
    <h2 class="h3" id=${`${id}-title`}>Send</h2>
    <p class="small muted">Params, query, headers and body, as JSON; empty fields are filled from the route's schema.</p>
    <label for=${`${id}-draft`} class="sr-only">Request to send</label>
    <textarea id=${`${id}-draft`} rows="10" spellcheck="false" value=${draft}
      onInput=${(e) => setDraft(e.currentTarget.value)} placeholder="Load the sample, or leave empty to send it as is"></textarea>
    <div class="buttons">
      <button type="button" onClick=${loadSample}>Load sample</button>
      <${OperatorButton} busy=${busy} onClick=${send} className="primary">Send<//>
    </div>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    ${
      result &&
      html`<div class="relay-result" role="status">
      <p>
        <span class=${`status ${statusClass(result.response.status)}`}>${result.response.status}</span>
        ${' '}${result.request.method} <code>${result.request.url}</code> in ${ms(result.durationMs)}
        ${result.requestId && html` · request ${result.requestId}`}
        ${
          result.traceId &&
          html`${' '}<a href=${`#/traces/${result.traceId}`} class="relay-trace" onClick=${(e) => {
            e.preventDefault()
            navigate(`traces/${result.traceId}`)
          }}>Its trace</a> ·`
        }
        ${' '}<a href=${`#/traces?route=${encodeURIComponent(route.path)}`} onClick=${(e) => {
          e.preventDefault()
          navigate(`traces?route=${encodeURIComponent(route.path)}`)
        }}>Traces of this route</a>
      </p>
      <details><summary>Response headers</summary><pre class="json">${pretty(result.response.headers)}</pre></details>
      <pre class="json response-body">${result.response.body === undefined ? '(no body)' : pretty(result.response.body)}</pre>
    </div>`
    }
  </div>`
}
