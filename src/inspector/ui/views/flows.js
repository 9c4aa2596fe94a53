// Flows: each flow's graph from its schematic, with per-step stats on the nodes.
import { FlowGraph } from '../flow-graph.js'
import { ms, percent, rate } from '../format.js'
import { useApp, usePoll } from '../hooks.js'
import { html } from '../html.js'

export function FlowsView() {
  const { api } = useApp()
  const { data, error } = usePoll(() => api.get('/flows'), 3000)
  const flows = data?.flows ?? []
  return html`<section aria-labelledby="view-title">
    <div class="view-head"><h1 id="view-title" tabindex="-1">Flows</h1></div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${data && flows.length === 0 && html`<p class="muted">This app defines no flows (or the inspector was not given its flows modules).</p>`}
    ${flows.map(
      (flow) => html`<article class="card flow" key=${`${flow.module}/${flow.name}`} data-flow=${flow.name}
          aria-labelledby=${`flow-${flow.name}`}>
        <header class="card-head">
          <h2 id=${`flow-${flow.name}`}>${flow.name}</h2>
          <span class="muted small">module ${flow.module} · version ${flow.schematic.version}</span>
        </header>
        ${flow.schematic.description && html`<p>${flow.schematic.description}</p>`}
        <dl class="stats-inline">
          <dt>Runs</dt><dd>${flow.runs.count}</dd>
          <dt>Rate</dt><dd>${rate(flow.runs.throughputPerSec)}</dd>
          <dt>p50</dt><dd>${ms(flow.runs.p50Ms)}</dd>
          <dt>p95</dt><dd>${ms(flow.runs.p95Ms)}</dd>
          <dt>Died</dt><dd class=${flow.runs.errors > 0 ? 'bad' : ''}>${percent(flow.runs.errorRate)}</dd>
        </dl>
        <div class="graph-scroll" tabindex="0" aria-label=${`Graph of ${flow.name}, scrollable`}>
          <${FlowGraph} schematic=${flow.schematic} steps=${flow.steps} />
        </div>
        <${StepTable} flow=${flow} />
      </article>`,
    )}
  </section>`
}

function StepTable({ flow }) {
  if (flow.steps.length === 0) return html`<p class="muted small">No step has run in the window.</p>`
  return html`<table class="grid compact">
    <caption class="sr-only">Steps of ${flow.name} over the window</caption>
    <thead><tr><th scope="col">Step</th><th scope="col">Phase</th><th scope="col" class="num">Attempts</th>
      <th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">Failed</th></tr></thead>
    <tbody>
      ${flow.steps.map(
        (s) => html`<tr key=${s.key}><th scope="row">${s.labels.step}</th><td>${s.labels.phase}</td>
          <td class="num">${s.window.count}</td><td class="num">${ms(s.window.p50Ms)}</td>
          <td class="num">${ms(s.window.p95Ms)}</td>
          <td class=${`num${s.window.errors > 0 ? ' bad' : ''}`}>${s.window.errors}</td></tr>`,
      )}
    </tbody>
  </table>`
}
