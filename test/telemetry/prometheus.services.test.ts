import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.ts'
import { testApp } from '../support/test-app.ts'

const install =
  'install the Debian package "prometheus" (apt-get install -y prometheus) (it ships prometheus and promtool)'

/** Fails (never skips) when a Prometheus binary is missing, saying how to get it. */
function requireBinary(name: 'promtool' | 'prometheus'): void {
  const probe = spawnSync(name, ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${name} is required by the Prometheus proof but ${
        probe.error
          ? `cannot be run (${(probe.error as NodeJS.ErrnoException).code})`
          : `exited ${probe.status}`
      }: ${install}`,
    )
  }
}

/** Runs `promtool check metrics` with `text` on stdin. */
function promtoolCheck(text: string): { status: number | null; problems: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 })
  if (run.error) throw run.error
  return { status: run.status, problems: `${run.stdout}${run.stderr}`.trim() }
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` naming what it waited for. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

const running: App[] = []
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

/** A production-like app (default metrics on, a health check) that has served some traffic. */
async function busyApp(): Promise<{ app: App; url: string; port: number }> {
  const { app } = testApp({ overrides: { metrics: { defaultMetrics: true } } })
  app.health.add({ name: 'disk', check: () => true })
  app.get('/users/:id', (ctx) => ({ id: ctx.params.id }))
  app.get('/boom', () => {
    throw new Error('kaboom')
  })
  const { url, port } = await app.start()
  running.push(app)
  for (const path of ['/users/1', '/users/2', '/boom', '/nope', '/ready']) {
    const res = await fetch(`${url}${path}`, { headers: { connection: 'close' } })
    await res.arrayBuffer()
  }
  return { app, url, port }
}

/** Starts a Prometheus server we own; the cleanup kills exactly this PID. */
async function startPrometheus(scrapeTarget: string): Promise<{ url: string; log: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: keel',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['${scrapeTarget}']`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(child.pid, 'SIGTERM')
      const timer = setTimeout(
        () => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
        10_000,
      )
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor('Prometheus to answer /-/ready', 20_000, async () => {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${output}`)
    const res = await fetch(`${url}/-/ready`)
    return res.ok ? true : undefined
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- prometheus log ---\n${output}`)
  })
  return { url, log: () => output }
}

interface TargetsResponse {
  data: { activeTargets: Array<{ scrapeUrl: string; health: string; lastError: string }> }
}
interface QueryResponse {
  status: string
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }
}

describe('Prometheus', () => {
  it('promtool check metrics accepts a real /metrics scrape without lint problems', async () => {
    requireBinary('promtool')
    const { url } = await busyApp()
    const res = await fetch(`${url}/metrics`, { headers: { connection: 'close' } })
    const text = await res.text()
    // promtool passes empty input, so prove the scrape has what we mean to lint.
    for (const family of [
      'keel_http_requests_total',
      'keel_http_errors_total',
      'keel_http_request_duration_seconds_bucket',
      'keel_http_requests_in_flight',
      'keel_app_state',
      'keel_health_check_up',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, family).toMatch(new RegExp(`^${family}[{ ]`, 'm'))
    }

    const { status, problems } = promtoolCheck(text)
    expect(problems).toBe('')
    expect(status).toBe(0)
  })

  it('promtool check metrics does report a naming problem (the lint is live)', () => {
    requireBinary('promtool')
    const bad =
      '# HELP open_things_total Things open now\n# TYPE open_things_total gauge\nopen_things_total 3\n'
    const { status, problems } = promtoolCheck(bad)
    expect(status).not.toBe(0)
    expect(problems).toContain('open_things_total')
  })

  it('a real Prometheus server scrapes the app and can query requests by route template', async () => {
    requireBinary('prometheus')
    const { port } = await busyApp()
    const target = `127.0.0.1:${port}`
    const prometheus = await startPrometheus(target)

    const health = await waitFor(`target ${target} to be up`, 30_000, async () => {
      const res = await fetch(`${prometheus.url}/api/v1/targets`)
      const body = (await res.json()) as TargetsResponse
      const found = body.data.activeTargets.find((t) => t.scrapeUrl === `http://${target}/metrics`)
      return found?.health === 'up' ? found : undefined
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- prometheus log ---\n${prometheus.log()}`)
    })
    expect(health.lastError).toBe('')

    const query = encodeURIComponent('keel_http_requests_total{job="keel"}')
    const series = await waitFor('keel_http_requests_total in Prometheus', 15_000, async () => {
      const body = (await (
        await fetch(`${prometheus.url}/api/v1/query?query=${query}`)
      ).json()) as QueryResponse
      return body.status === 'success' && body.data.result.length > 0 ? body.data.result : undefined
    })
    const byRoute = (route: string, status: string) =>
      series.find((s) => s.metric.route === route && s.metric.status === status)
    expect(byRoute('/users/:id', '200')?.metric).toMatchObject({
      __name__: 'keel_http_requests_total',
      job: 'keel',
      instance: target,
      method: 'GET',
    })
    expect(byRoute('/users/:id', '200')?.value[1]).toBe('2')
    expect(byRoute('/boom', '500')?.value[1]).toBe('1')
    expect(byRoute('not_found', '404')?.value[1]).toBe('1')
    // No raw paths ever reached Prometheus as label values.
    expect(series.filter((s) => /^\/users\/\d/.test(s.metric.route ?? ''))).toEqual([])
  }, 90_000)
})
