import { escapeHtml } from './html-escape.ts'
import type { LoadtestReport } from './loadtest-report.ts'
import { percentText, statusCodesText } from './number-text.ts'
import type { ScenarioResult } from './scenario-result.ts'
import { latencyHistogramChart, statusCodesChart, throughputChart } from './svg-charts.ts'

const style = `
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bar: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto; max-width: 1040px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0; display: flex; gap: 12px; align-items: center; }
.meta, .muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 12px 0; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; }
.badge { font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 10px; color: #fff; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
section.scenario { border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 20px 0; }
ul.checks { list-style: none; padding: 0; margin: 8px 0; }
ul.checks li::before { content: "✓ "; color: var(--pass); font-weight: 700; }
ul.checks li.failed::before { content: "✗ "; color: var(--fail); }
ul.checks li.failed { color: var(--fail); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; background: #f6f8fa; border-radius: 6px; }
svg .bar { fill: var(--bar); } svg .area { fill: #0969da33; } svg .line { fill: none; stroke: var(--bar); stroke-width: 2; }
svg .grid { stroke: var(--line); } svg .axis { stroke: var(--muted); }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); } svg .empty { font-size: 14px; }
svg .status.s1xx { fill: #8250df; } svg .status.s2xx { fill: var(--pass); } svg .status.s3xx { fill: #0969da; }
svg .status.s4xx { fill: #bf8700; } svg .status.s5xx, svg .status.error { fill: var(--fail); }
`

/**
 * The run as one self-contained HTML page: a summary table, then per scenario its settings,
 * criteria (passed and failed), latency histogram, throughput over time and status codes as
 * inline SVG. No script, no external file; a Content-Security-Policy forbids loading any.
 */
export function htmlReport(report: LoadtestReport): string {
  const verdict = report.passed ? 'passed' : 'failed'
  const body = report.reachable
    ? `${summaryTable(report.scenarios)}${report.scenarios.map(scenarioSection).join('\n')}`
    : `<p class="badge fail">target unreachable</p><p>${escapeHtml(report.unreachableReason ?? '')}; no scenario ran.</p>`
  const where =
    report.targetKind === 'entry'
      ? `${escapeHtml(report.target)} — the app of ${escapeHtml(report.entry ?? '')}, started by keel loadtest`
      : escapeHtml(report.target)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>keel loadtest: ${verdict}</title>
<style>${style}</style>
</head>
<body>
<header>
<h1>keel loadtest <span class="badge ${report.passed ? 'pass' : 'fail'}">${verdict}</span></h1>
<p class="meta">Target ${where} · started ${escapeHtml(report.startedAt)}</p>
</header>
<main>
${body}
</main>
</body>
</html>
`
}

function summaryTable(scenarios: readonly ScenarioResult[]): string {
  const rows = scenarios.map(
    (s) =>
      `<tr><td><a href="#scenario-${escapeHtml(s.name)}">${escapeHtml(s.name)}</a></td><td class="n">${s.requestsSent}</td><td class="n">${s.rps}</td><td class="n">${s.latency.p50Ms}</td><td class="n">${s.latency.p95Ms}</td><td class="n">${s.latency.p99Ms}</td><td class="n">${s.latency.maxMs}</td><td class="n">${s.failed} (${percentText(s.errorRate)})</td><td>${escapeHtml(statusCodesText(s.statusCodes))}</td><td><span class="badge ${s.passed ? 'pass' : 'fail'}">${s.passed ? 'pass' : 'FAIL'}</span></td></tr>`,
  )
  return `<table class="summary"><thead><tr><th>scenario</th><th class="n">requests</th><th class="n">rps</th><th class="n">p50 ms</th><th class="n">p95 ms</th><th class="n">p99 ms</th><th class="n">max ms</th><th class="n">failed</th><th>statuses</th><th>result</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function scenarioSection(s: ScenarioResult): string {
  const { settings } = s
  const length =
    settings.amount === undefined ? `${settings.durationSeconds} s` : `${settings.amount} requests`
  const rate = settings.rate === undefined ? 'no rate cap' : `${settings.rate} requests/s`
  const warmup = settings.warmupSeconds > 0 ? ` · warm-up ${settings.warmupSeconds} s` : ''
  const requests = s.requests
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.method)}</td><td><code>${escapeHtml(r.path)}</code></td><td class="n">${r.weight}</td></tr>`,
    )
    .join('')
  const checks =
    s.checks.length === 0
      ? '<p class="muted">No criteria: the scenario is measured, not judged.</p>'
      : `<ul class="checks">${s.checks.map((c) => `<li class="${c.passed ? 'passed' : 'failed'}">${escapeHtml(c.text)}</li>`).join('')}</ul>`
  const errors =
    s.errors === 0
      ? ''
      : `<p>Transport errors: ${escapeHtml(
          Object.entries(s.errorKinds)
            .map(([kind, count]) => `${kind} ×${count}`)
            .join(', '),
        )}</p>`
  return `<section class="scenario" id="scenario-${escapeHtml(s.name)}">
<h2>${escapeHtml(s.name)} <span class="badge ${s.passed ? 'pass' : 'fail'}">${s.passed ? 'pass' : 'FAIL'}</span></h2>
${s.description ? `<p>${escapeHtml(s.description)}</p>` : ''}
<p class="meta">${settings.connections} connections · ${escapeHtml(length)} · ${escapeHtml(rate)}${warmup} · measured ${s.elapsedSeconds} s</p>
<table class="requests"><thead><tr><th>request</th><th>method</th><th>path</th><th class="n">weight</th></tr></thead><tbody>${requests}</tbody></table>
<table class="numbers"><tbody><tr><th>requests</th><td class="n">${s.requestsSent}</td><th>rps</th><td class="n">${s.rps}</td><th>p50</th><td class="n">${s.latency.p50Ms} ms</td><th>p95</th><td class="n">${s.latency.p95Ms} ms</td><th>p99</th><td class="n">${s.latency.p99Ms} ms</td><th>max</th><td class="n">${s.latency.maxMs} ms</td></tr></tbody></table>
${checks}
${errors}
<div class="charts">
<figure><figcaption>Latency histogram</figcaption>${latencyHistogramChart(s.histogram)}</figure>
<figure><figcaption>Throughput over time</figcaption>${throughputChart(s.throughput)}</figure>
<figure><figcaption>Status codes</figcaption>${statusCodesChart(s.statusCodes, s.errors)}</figure>
</div>
</section>`
}
