import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import type { LoadtestReport } from 'keel/loadtest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'
import { freePort } from '../support/free-port.ts'
import { testApp } from '../support/test-app.ts'

// Every run is real: the command imports the fixture app, starts it on 127.0.0.1 and sends it
// load with autocannon for about a second per scenario.

const entry = 'test/loadtest/fixtures/app/app.ts'
const scenarioFile = 'test/loadtest/fixtures/scenarios.yaml'
const tempDir = () => mkdtempSync(join(tmpdir(), 'keel-loadtest-'))

/** The table row of a scenario, split into its columns. */
function tableRow(text: string, scenario: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`${scenario} `))
  expect(line, `no row for ${scenario} in:\n${text}`).toBeDefined()
  return line!.trim().split(/\s{2,}/)
}

describe('keel loadtest against the app it starts (scenarios from keel.yaml)', () => {
  let run: Awaited<ReturnType<typeof runKeel>>
  let report: LoadtestReport
  let dir: string

  beforeAll(async () => {
    dir = tempDir()
    run = await runKeel(['loadtest', '--entry', entry, '--out', join(dir, 'results.json')])
    report = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as LoadtestReport
  })

  it('exits 1 because two of the three scenarios fail', () => {
    expect(run.err).toBe('')
    expect(run.code).toBe(1)
    expect(run.out).toContain('2 of 3 scenarios failed')
    expect(report.passed).toBe(false)
    expect(report.targetKind).toBe('entry')
    expect(report.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('passes the healthy route on p95 < 200 ms and an error rate under 0.1%', () => {
    const healthy = report.scenarios.find((s) => s.name === 'healthy')!
    expect(healthy.passed).toBe(true)
    expect(healthy.responses).toBeGreaterThan(0)
    expect(healthy.statusCodes).toEqual({ 200: healthy.responses })
    expect(healthy.checks.map((c) => [c.criterion, c.passed])).toEqual([
      ['maxErrorRate', true],
      ['maxP95Ms', true],
    ])
    expect(tableRow(run.out, 'healthy').at(-1)).toBe('pass')
  })

  it('fails the slow route naming the p95 criterion', () => {
    const slow = report.scenarios.find((s) => s.name === 'slow')!
    expect(slow.passed).toBe(false)
    expect(slow.latency.p95Ms).toBeGreaterThanOrEqual(300)
    const failed = slow.checks.filter((c) => !c.passed)
    expect(failed.map((c) => c.criterion)).toEqual(['maxP95Ms'])
    expect(failed[0]!.text).toBe(`p95 ${slow.latency.p95Ms} ms > 200 ms`)
    expect(run.out).toContain(`slow `)
    expect(run.out).toContain(`  - p95 ${slow.latency.p95Ms} ms > 200 ms`)
  })

  it('fails the erroring route naming the error rate', () => {
    const broken = report.scenarios.find((s) => s.name === 'broken')!
    expect(broken.passed).toBe(false)
    expect(broken.statusCodes).toEqual({ 500: broken.responses })
    expect(broken.failed).toBe(broken.requestsSent)
    expect(broken.errorRate).toBe(1)
    expect(broken.checks.filter((c) => !c.passed).map((c) => c.text)).toEqual(['error rate 100% > 0.1%'])
    expect(run.out).toContain('  - error rate 100% > 0.1%')
  })

  it('prints in the table the very numbers the JSON holds', () => {
    for (const result of report.scenarios) {
      const [name, requests, rps, p50, p95, p99, max, failed, statuses, verdict] = tableRow(
        run.out,
        result.name,
      )
      expect(name).toBe(result.name)
      expect(Number(requests)).toBe(result.requestsSent)
      expect(Number(rps)).toBe(result.rps)
      expect([p50, p95, p99, max].map(Number)).toEqual([
        result.latency.p50Ms,
        result.latency.p95Ms,
        result.latency.p99Ms,
        result.latency.maxMs,
      ])
      expect(failed).toBe(`${result.failed} (${Number((result.errorRate * 100).toFixed(4))}%)`)
      const counted = Object.entries(result.statusCodes).map(([status, count]) => `${status}×${count}`)
      expect(statuses).toBe(counted.join(' '))
      expect(verdict).toBe(result.passed ? 'pass' : 'FAIL')
    }
  })

  it('keeps the results a report needs: a throughput series, a histogram, consistent counts', () => {
    for (const result of report.scenarios) {
      const histogramTotal = result.histogram.reduce((sum, bucket) => sum + bucket.count, 0)
      expect(histogramTotal).toBe(result.responses)
      const seriesTotal = result.throughput.reduce((sum, second) => sum + second.responses, 0)
      expect(seriesTotal).toBe(result.responses)
      const statusTotal = Object.values(result.statusCodes).reduce((sum, count) => sum + count, 0)
      expect(statusTotal).toBe(result.responses)
      expect(result.requestsSent).toBe(result.responses + result.errors)
      expect(result.latency.p50Ms).toBeLessThanOrEqual(result.latency.p95Ms)
      expect(result.latency.p95Ms).toBeLessThanOrEqual(result.latency.p99Ms)
      expect(result.latency.p99Ms).toBeLessThanOrEqual(result.latency.maxMs)
    }
  })
})

describe('keel loadtest options', () => {
  it('runs one scenario with --scenario and exits 0 when it passes; --json prints the results', async () => {
    const { code, out, err } = await runKeel([
      'loadtest',
      '--entry',
      entry,
      '--scenario',
      'healthy',
      '--json',
    ])
    expect(err).toBe('')
    expect(code).toBe(0)
    const report = JSON.parse(out) as LoadtestReport
    expect(report.passed).toBe(true)
    expect(report.scenarios.map((s) => s.name)).toEqual(['healthy'])
  })

  it('runs weighted scenarios from --file, sending JSON bodies', async () => {
    const { code, out } = await runKeel(['loadtest', '--entry', entry, '--file', scenarioFile, '--json'])
    const report = JSON.parse(out) as LoadtestReport
    expect(code).toBe(0)
    const [mixed] = report.scenarios
    expect(mixed!.name).toBe('mixed')
    expect(mixed!.requests).toEqual([
      { name: 'read', method: 'GET', path: '/fast', weight: 3 },
      { name: 'write', method: 'POST', path: '/echo', weight: 1 },
    ])
    // The POSTs reached the route with a body it accepted: every response is a 200.
    expect(mixed!.statusCodes).toEqual({ 200: mixed!.responses })
    expect(mixed!.passed).toBe(true)
  })

  it('answers 2 listing the scenarios when --scenario names none of them', async () => {
    const { code, err } = await runKeel(['loadtest', '--entry', entry, '--scenario', 'nope'])
    expect(code).toBe(2)
    expect(err).toBe('keel: --scenario nope: no such scenario (scenarios: healthy, slow, broken)\n')
  })

  it('refuses to start an app that would listen beyond loopback, before it listens', async () => {
    const exposed = 'test/loadtest/fixtures/exposed/app.ts'
    const { code, err } = await runKeel(['loadtest', '--entry', exposed])
    expect(code).toBe(1)
    expect(err).toBe(
      `keel: --entry ${exposed}: the app would listen on 0.0.0.0, not on loopback; keel loadtest sends load to 127.0.0.1 only, unless you start the app yourself and pass --url\n`,
    )
  })

  it('names an entry that does not exist', async () => {
    const { code, err } = await runKeel(['loadtest', '--entry', 'test/loadtest/fixtures/none.ts'])
    expect(code).toBe(1)
    expect(err).toBe('keel: --entry test/loadtest/fixtures/none.ts: file not found\n')
  })

  it.each([
    [['--duration', 'abc'], '--duration abc: expected a number greater than 0'],
    [['--duration', '0'], '--duration 0: expected a number greater than 0'],
    [['--connections', '2.5'], '--connections 2.5: expected a whole number greater than 0'],
    [['--url', 'ftp://127.0.0.1/'], '--url ftp://127.0.0.1/: must be an http:// or https:// URL'],
    [['--url', 'not a url'], '--url not a url: not a URL'],
    [['--bogus'], "unknown flag '--bogus'"],
  ])('answers 2 to bad arguments %j', async (args, message) => {
    const { code, err } = await runKeel(['loadtest', '--entry', entry, ...args])
    expect(code).toBe(2)
    expect(err).toContain(message)
  })

  it('--help documents every flag and the exit codes', async () => {
    const { code, out } = await runKeel(['loadtest', '--help'])
    expect(code).toBe(0)
    for (const flag of [
      '--entry',
      '--url',
      '--file',
      '--scenario',
      '--duration',
      '--connections',
      '--profile',
      '--json',
      '--report',
      '--out',
    ])
      expect(out).toContain(flag)
    expect(out).toContain('Exit codes: 0')
  })
})

describe('keel loadtest --url', () => {
  let app: App
  let url: string

  beforeAll(async () => {
    app = testApp().app
    app.get('/fast', () => ({ ok: true }))
    app.post('/echo', (ctx) => ({ received: ctx.body }))
    url = (await app.start()).url
  })
  afterAll(async () => {
    await app?.stop()
  })

  it('sends the load to the named URL, without starting an app', async () => {
    const { code, out } = await runKeel([
      'loadtest',
      '--url',
      url,
      '--file',
      scenarioFile,
      '--connections',
      '1',
      '--json',
    ])
    const report = JSON.parse(out) as LoadtestReport
    expect(code).toBe(0)
    expect(report.targetKind).toBe('url')
    expect(report.target).toBe(url)
    expect(report.entry).toBeUndefined()
    expect(report.scenarios[0]!.settings.connections).toBe(1)
    expect(report.scenarios[0]!.statusCodes).toEqual({ 200: report.scenarios[0]!.responses })
  })

  it('exits 1 with a clear message when the URL is unreachable, running no scenario', async () => {
    const port = await freePort()
    const target = `http://127.0.0.1:${port}`
    const { code, out } = await runKeel(['loadtest', '--url', target, '--file', scenarioFile])
    expect(code).toBe(1)
    expect(out).toContain(`target ${target} is unreachable: ECONNREFUSED`)
    expect(out).toContain('no scenario ran')
    const json = await runKeel(['loadtest', '--url', target, '--file', scenarioFile, '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.out)).toMatchObject({ reachable: false, passed: false, scenarios: [] })
  })

  it('reads keel.yaml beside --entry and names file, line and key of an unknown scenario key', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'keel.yaml'),
      'loadtest:\n  scenarios:\n    browse:\n      requests:\n        home: { path: / }\n      conections: 5\n',
    )
    const { code, err } = await runKeel(['loadtest', '--url', url, '--entry', join(dir, 'app.ts')])
    expect(code).toBe(1)
    expect(err).toContain(
      `keel.yaml:6 loadtest.scenarios.browse.conections: unknown key; did you mean "connections"?`,
    )
  })

  it('lets a --profile override one value of a scenario', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'keel.yaml'),
      [
        'loadtest:',
        '  scenarios:',
        '    browse:',
        '      connections: 1',
        '      durationSeconds: 600',
        '      requests:',
        '        home: { path: /fast }',
        'profiles:',
        '  ci:',
        '    loadtest:',
        '      scenarios:',
        '        browse:',
        '          durationSeconds: 1',
        '',
      ].join('\n'),
    )
    const { code, out } = await runKeel([
      'loadtest',
      '--url',
      url,
      '--entry',
      join(dir, 'app.ts'),
      '--profile',
      'ci',
      '--json',
    ])
    expect(code).toBe(0)
    const report = JSON.parse(out) as LoadtestReport
    expect(report.scenarios[0]!.settings).toMatchObject({ connections: 1, durationSeconds: 1 })
  })

  it('refuses to run without scenarios', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'keel.yaml'), 'service:\n  name: empty\n')
    const { code, err } = await runKeel(['loadtest', '--url', url, '--entry', join(dir, 'app.ts')])
    expect(code).toBe(2)
    expect(err).toContain('no scenarios to run: add loadtest.scenarios to keel.yaml or pass --file FILE')
  })
})
