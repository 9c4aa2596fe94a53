import {
  htmlReport,
  LatencyHistogram,
  type LoadtestReport,
  scenarioResult,
  scenariosFrom,
} from 'keel/loadtest'
import { describe, expect, it } from 'vitest'

const target = 'http://127.0.0.1:4123'

/** A report built from hand-made measurements (the browser test renders a real run). */
function report(): LoadtestReport {
  const scenarios = scenariosFrom({
    browse: {
      description: 'reads <b>&</b> writes',
      requests: {
        list: { path: '/todos?a=1&b=<2>' },
        add: { method: 'POST', path: '/todos', body: 'x', weight: 2 },
      },
      criteria: { maxP95Ms: 200, maxErrorRate: 0.001 },
    },
    idle: { requests: { home: { path: '/' } } },
  })
  const latency = new LatencyHistogram()
  for (const ms of [0.4, 1.5, 3, 3, 12, 250]) latency.record(ms)
  const browse = scenarioResult(scenarios[0]!, {
    elapsedMs: 2000,
    responses: 6,
    errors: 1,
    timeouts: 1,
    errorKinds: { timeout: 1 },
    statusCodes: { 200: 5, 503: 1 },
    latency,
    seconds: [
      { second: 0, responses: 2, errors: 0, rps: 2 },
      { second: 1, responses: 4, errors: 1, rps: 4 },
    ],
  })
  const idle = scenarioResult(scenarios[1]!, {
    elapsedMs: 1000,
    responses: 0,
    errors: 0,
    timeouts: 0,
    errorKinds: {},
    statusCodes: {},
    latency: new LatencyHistogram(),
    seconds: [{ second: 0, responses: 0, errors: 0, rps: 0 }],
  })
  return {
    target,
    targetKind: 'url',
    startedAt: '2025-01-01T00:00:00.000Z',
    reachable: true,
    passed: false,
    scenarios: [browse, idle],
  }
}

describe('htmlReport', () => {
  const html = htmlReport(report())

  it('is one self-contained page: no script, no external file, a CSP that forbids loading any', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    )
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i)
    // The only address in the page is the target's, as text.
    expect(html.replaceAll(target, '')).not.toMatch(/https?:\/\//)
    expect(html).toContain(target)
  })

  it('names every scenario and its verdict, with a histogram, a throughput chart and status codes', () => {
    for (const name of ['browse', 'idle'])
      expect(html).toContain(`<section class="scenario" id="scenario-${name}">`)
    expect(html.match(/<svg /g)).toHaveLength(6)
    expect(html).toContain('aria-label="latency histogram: responses per latency bucket"')
    expect(html).toContain('aria-label="throughput over time: responses per second"')
    expect(html).toContain('aria-label="status codes: responses per status, transport errors last"')
    expect(html).toContain('<title>keel loadtest: failed</title>')
    expect(html).toContain('<li class="failed">p95 250 ms &gt; 200 ms</li>')
    expect(html).toContain('<li class="failed">error rate 28.5714% &gt; 0.1%</li>')
    expect(html).toContain('Transport errors: timeout ×1')
    expect(html).toContain('no responses')
  })

  it('escapes what the scenarios say', () => {
    expect(html).toContain('reads &lt;b&gt;&amp;&lt;/b&gt; writes')
    expect(html).toContain('<code>/todos?a=1&amp;b=&lt;2&gt;</code>')
    expect(html).not.toContain('<b>&</b>')
  })

  it('says so when the target was unreachable', () => {
    const unreachable = htmlReport({
      ...report(),
      reachable: false,
      unreachableReason: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4123',
      scenarios: [],
    })
    expect(unreachable).toContain('target unreachable')
    expect(unreachable).toContain('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4123; no scenario ran.')
  })
})
