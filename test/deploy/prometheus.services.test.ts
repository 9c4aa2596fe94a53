import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { App } from 'keel/app'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { loadAppForDeploy } from '../../src/cli/load-for-deploy.ts'
import { type DeploymentPlan, deploymentPlan } from '../../src/deploy/index.ts'
import { alertGroups, alertsFile, dashboard, prometheusConfig } from '../../src/deploy/observability/index.ts'
import { freePort } from '../support/free-port.ts'

// A real Prometheus reads the generated files and scrapes the running todo example: the target
// is up, every generated rule group loads and evaluates, Keel's request counter answers a query,
// every dashboard expression runs, nothing fires for a healthy app, and stopping the app makes
// the target-down alert pending.

const root = mkdtempSync(join(tmpdir(), 'keel-prometheus-'))
const jwtSecret = 'prometheus-test-jwt-secret-of-at-least-32-bytes'
let app: App | undefined
let base: string
let plan: DeploymentPlan
let prometheus: ChildProcess | undefined
let prometheusUrl: string
let prometheusLog = ''

/** Polls `check` every 250 ms until it returns a value, for at most `ms`; then fails with `what`. */
async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await sleep(250)
  }
  throw new Error(
    `${what} did not happen within ${ms} ms${last ? ` (last error: ${String(last)})` : ''}\n${prometheusLog.slice(-2000)}`,
  )
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${prometheusUrl}${path}`)
  const body = (await response.json()) as { status: string; data: T; error?: string }
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? body.status}`)
  return body.data
}

interface QueryResult {
  resultType: string
  result: Array<{ metric: Record<string, string>; value: [number, string] }>
}
const query = (promql: string) => api<QueryResult>(`/api/v1/query?query=${encodeURIComponent(promql)}`)

beforeAll(async () => {
  const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' })
  if (version.error || version.status !== 0) {
    throw new Error(
      `this test needs the prometheus binary on PATH (apt install prometheus): ${version.error?.message ?? version.stderr}`,
    )
  }
  plan = deploymentPlan(await loadAppForDeploy('examples/todo/app.ts', 'prod'), {
    entry: 'examples/todo/app.ts',
  })
  // Imported after loadAppForDeploy: the entry builds its `app` on import, in the profile asked for.
  const { createTodoApp } = await import('../../examples/todo/app.ts')
  app = await createTodoApp({
    root,
    env: {},
    overrides: {
      server: { port: 0, host: '127.0.0.1', keepAliveTimeoutMs: 1000 },
      data: { dataDir: join(root, 'db') },
      log: { level: 'error' },
      todo: { jwtSecret, adminKey: 'prometheus-test-admin-key' },
    },
  })
  const address = await app.start()
  base = address.url

  // The generated files, pointed at the app's real address. Only the intervals change (15 s
  // to 1 s), so the test waits seconds for scrapes and rule evaluations rather than minutes.
  const config = parse(prometheusConfig(plan, { targets: [`127.0.0.1:${address.port}`] }))
  config.global = { scrape_interval: '1s', evaluation_interval: '1s' }
  writeFileSync(join(root, 'prometheus.yml'), stringify(config))
  writeFileSync(join(root, 'alerts.yml'), alertsFile(plan))

  const port = await freePort()
  prometheusUrl = `http://127.0.0.1:${port}`
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(root, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(root, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  prometheus.stdout?.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()))
  prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()))
  await eventually('Prometheus ready', 20_000, async () => {
    if (prometheus?.exitCode !== null) throw new Error(`prometheus exited with ${prometheus?.exitCode}`)
    const response = await fetch(`${prometheusUrl}/-/ready`)
    return response.ok ? true : undefined
  })
}, 90_000)

afterAll(async () => {
  const child = prometheus
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(child.pid, 'SIGTERM')
    const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])
    if (!stopped && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
  }
  await app?.stop()
  rmSync(root, { recursive: true, force: true })
}, 30_000)

describe('Prometheus with the generated observability files', () => {
  it('scrapes the app: the todo target is up', async () => {
    const target = await eventually('todo target up', 30_000, async () => {
      const data = await api<{
        activeTargets: Array<{ labels: Record<string, string>; health: string; scrapeUrl: string }>
      }>('/api/v1/targets')
      return data.activeTargets.find((t) => t.labels.job === 'todo' && t.health === 'up')
    })
    expect(target.scrapeUrl).toBe(`${base}/metrics`)
  })

  it('loads every generated rule group, and each rule evaluates with health "ok"', async () => {
    const expected = alertGroups(plan).map((g) => g.name)
    const groups = await eventually('rules evaluated', 30_000, async () => {
      const data = await api<{
        groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }>
      }>('/api/v1/rules')
      const all = data.groups.flatMap((g) => g.rules)
      return all.length > 0 && all.every((r) => r.health === 'ok') ? data.groups : undefined
    })
    // The API lists groups by name; each group keeps its rules in file order.
    expect(groups.map((g) => g.name)).toEqual([...expected].sort())
    for (const group of alertGroups(plan)) {
      expect(groups.find((g) => g.name === group.name)!.rules.map((r) => r.name)).toEqual(
        group.rules.map((r) => r.alert),
      )
    }
  })

  it('answers a query of the request counter after requests reach the app', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/v1/todos`)).status).toBe(401)
    const result = await eventually('requests counted', 30_000, async () => {
      const data = await query(
        'keel_http_requests_total{job="todo",route="/v1/todos",method="GET",status="401"}',
      )
      return data.result.find((r) => Number(r.value[1]) >= 3)
    })
    expect(result.metric).toMatchObject({ job: 'todo', route: '/v1/todos', method: 'GET', status: '401' })
  })

  it('counts a request to each route under the labels its dashboard panel selects', async () => {
    for (const route of plan.routes) {
      const path = route.path.replace(/:[A-Za-z_]+/g, '1')
      const response = await fetch(`${base}${path}`, {
        method: route.method,
        headers: { 'content-type': 'application/json' },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: '{}' }),
      })
      expect(response.status, `${route.method} ${path}`).toBeLessThan(500)
    }
    const wanted = plan.routes.map((r) => `${r.method} ${r.path}`).sort()
    const seen = await eventually('every route counted', 30_000, async () => {
      const data = await query('count by (method, route) (keel_http_requests_total{job="todo"})')
      const found = data.result.map((r) => `${r.metric.method} ${r.metric.route}`)
      return wanted.every((w) => found.includes(w)) ? found : undefined
    })
    expect(seen).toEqual(expect.arrayContaining(wanted))
  })

  it('runs every dashboard expression, and the route panel of GET /v1/todos has data', async () => {
    const panels = JSON.parse(dashboard(plan)).panels as Array<{
      title: string
      targets?: Array<{ expr: string }>
    }>
    const filled = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*')
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        const data = await query(filled(target.expr))
        expect(data.resultType, `${panel.title}: ${target.expr}`).toBe('vector')
      }
    }
    const route = panels.find((p) => p.title === 'GET /v1/todos')!
    const byStatus = await eventually('a rate over two scrapes', 30_000, async () => {
      const data = await query(filled(route.targets![0]!.expr))
      return data.result.length > 0 ? data.result : undefined
    })
    expect(byStatus.map((r) => r.metric.status)).toContain('401')
  })

  it('fires and holds nothing for the healthy app', async () => {
    const data = await api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
      '/api/v1/alerts',
    )
    expect(data.alerts).toEqual([])
  })

  it('makes the target-down alert pending once the app stops', async () => {
    await app!.stop()
    app = undefined
    const alert = await eventually('KeelTargetDown pending', 30_000, async () => {
      const data = await api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
        '/api/v1/alerts',
      )
      return data.alerts.find((a) => a.labels.alertname === 'KeelTargetDown')
    })
    expect(alert.state).toBe('pending')
    expect(alert.labels).toMatchObject({ job: 'todo', service: 'todo', severity: 'critical' })
  })
})
