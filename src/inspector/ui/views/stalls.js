// Stalls: requests and flow steps running longer than the threshold right now.
import { clock, ms } from '../format.js'
import { useApp, usePoll } from '../hooks.js'
import { html } from '../html.js'

export function StallsView() {
  const { api } = useApp()
  const { data, error } = usePoll(() => api.get('/stalls'), 1000)
  const stalls = data?.stalls ?? []
  return html`<section aria-labelledby="view-title">
    <div class="view-head"><h1 id="view-title" tabindex="-1">Stalls</h1>
      ${data && html`<span class="muted small">Running longer than ${ms(data.thresholdMs)}, longest first</span>`}</div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${data && stalls.length === 0 && html`<p class="muted empty">Nothing runs too long right now.</p>`}
    ${
      stalls.length > 0 &&
      html`<table class="grid stalls">
      <thead><tr><th scope="col">What</th><th scope="col">Kind</th><th scope="col">Started</th>
        <th scope="col" class="num">Running for</th><th scope="col">Details</th></tr></thead>
      <tbody>
        ${stalls.map(
          (stall) => html`<tr key=${stall.spanId} data-stall=${stall.name}>
            <th scope="row">${stall.name}<div class="small muted"><a href=${`#/traces/${stall.traceId}`}>trace ${stall.traceId.slice(0, 8)}…</a></div></th>
            <td>${stall.kind}</td>
            <td>${clock(stall.startMs)}</td>
            <td class="num bad">${ms(stall.runningMs)}</td>
            <td class="small">${Object.entries(stall.details).map(([k, v]) => html`<span class="kv" key=${k}>${k}: <code>${v}</code></span> `)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`
    }
  </section>`
}
