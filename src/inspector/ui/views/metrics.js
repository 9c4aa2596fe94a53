// Metrics: latency and error charts of every route, flow and step over the window.
import { Bars, Sparkline } from '../charts.js'
import { bytes, ms, percent, rate } from '../format.js'
import { useApp, usePoll } from '../hooks.js'
import { html } from '../html.js'

export function MetricsView() {
  const { api } = useApp()
  const { data, error } = usePoll(() => api.get('/metrics?series=true'), 2000)
  return html`<section aria-labelledby="view-title">
    <div class="view-head"><h1 id="view-title" tabindex="-1">Metrics</h1>
      ${data && html`<span class="muted small">Window: ${data.buckets} × ${ms(data.bucketMs)}</span>`}</div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${
      data &&
      html`<${Overview} data=${data} />
      <${SeriesTable} title="Routes" series=${data.routes} name=${(s) => s.key} />
      <${SeriesTable} title="Flows" series=${data.flows} name=${(s) => s.labels.flow ?? s.key} />
      <${SeriesTable} title="Flow steps" series=${data.steps} name=${(s) => `${s.labels.flow} › ${s.labels.step}${s.labels.phase === 'compensate' ? ' (undo)' : ''}`} />`
    }
  </section>`
}

/** Totals over every route, per bucket: requests (errors in red) and the error rate. */
function Overview({ data }) {
  const length = data.routes[0]?.window.series?.length ?? data.buckets
  const points = Array.from({ length }, (_, i) => {
    let count = 0
    let errors = 0
    for (const route of data.routes) {
      const point = route.window.series?.[i]
      count += point?.count ?? 0
      errors += point?.errors ?? 0
    }
    return { count, errors }
  })
  const total = points.reduce((sum, p) => sum + p.count, 0)
  const failed = points.reduce((sum, p) => sum + p.errors, 0)
  return html`<div class="overview">
    <figure class="card chart-card">
      <figcaption>Requests per ${ms(data.bucketMs)} · ${total} in the window, ${failed} failed</figcaption>
      <${Bars} points=${points} width=${480} height=${80} label=${`Requests per bucket over the window: ${total} in all, ${failed} failed`} />
    </figure>
    <figure class="card chart-card">
      <figcaption>Error rate per ${ms(data.bucketMs)} · ${percent(total ? failed / total : 0)} overall</figcaption>
      <${Sparkline} className="spark err" values=${points.map((p) => (p.count ? p.errors / p.count : 0))} width=${480} height=${80}
        label=${`Error rate per bucket over the window, ${percent(total ? failed / total : 0)} overall`} />
    </figure>
    <dl class="card facts store">
      <dt>Running now</dt><dd>${data.running}</dd>
      <dt>Traces kept</dt><dd>${data.store.traces} (${data.store.spans} spans, ${bytes(data.store.bytes)})</dd>
      <dt>Evicted / skipped</dt><dd>${data.store.evictedTraces} / ${data.store.skippedTraces}</dd>
      <dt>Live clients</dt><dd>${data.live.clients} (${data.live.dropped} messages dropped)</dd>
    </dl>
  </div>`
}

function SeriesTable({ title, series, name }) {
  const id = `metrics-${title.toLowerCase().replace(/\W+/g, '-')}`
  return html`<section class="metrics-table" aria-labelledby=${id}>
    <h2 id=${id}>${title}</h2>
    ${series.length === 0 && html`<p class="muted small">Nothing recorded yet.</p>`}
    ${
      series.length > 0 &&
      html`<table class="grid">
      <thead><tr><th scope="col">Series</th><th scope="col" class="num">Count</th><th scope="col" class="num">Rate</th>
        <th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">p99</th>
        <th scope="col" class="num">Errors</th><th scope="col">p95 latency</th><th scope="col">Traffic and errors</th></tr></thead>
      <tbody>
        ${series.map((s) => {
          const points = s.window.series ?? []
          const label = name(s)
          return html`<tr key=${s.key} data-series=${s.key}>
            <th scope="row">${label}</th>
            <td class="num">${s.window.count}</td>
            <td class="num">${rate(s.window.throughputPerSec)}</td>
            <td class="num">${ms(s.window.p50Ms)}</td>
            <td class="num">${ms(s.window.p95Ms)}</td>
            <td class="num">${ms(s.window.p99Ms)}</td>
            <td class=${`num${s.window.errors > 0 ? ' bad' : ''}`}>${percent(s.window.errorRate)}</td>
            <td><${Sparkline} values=${points.map((p) => p.p95Ms)} label=${`p95 latency of ${label} per bucket`} /></td>
            <td><${Bars} points=${points} label=${`Traffic of ${label} per bucket, ${s.window.errors} errors`} /></td>
          </tr>`
        })}
      </tbody>
    </table>`
    }
  </section>`
}
