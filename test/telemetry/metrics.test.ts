import type { App } from 'keel/app'
import { httpDurationBuckets } from 'keel/telemetry'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.ts'
import { findSamples, parsePrometheusText, type Sample } from '../support/prometheus-text.ts'
import { testApp } from '../support/test-app.ts'

const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

async function started(options: Parameters<typeof testApp>[0] = {}): Promise<{ app: App; url: string }> {
  const { app } = testApp(options)
  app.get('/users/:id', (ctx) => ({ id: ctx.params.id }))
  app.get('/boom', () => {
    throw new Error('kaboom')
  })
  const address = await app.start()
  running.push(app)
  return { app, url: address.url }
}

// `connection: close` so app.stop() need not wait out idle keep-alive sockets (see HttpServer.close).
const fetchOnce = (url: string) => fetch(url, { headers: { connection: 'close' } })

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetchOnce(url)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheusText(await res.text())
}

async function get(url: string, status: number): Promise<void> {
  const res = await fetchOnce(url)
  await res.arrayBuffer()
  expect(res.status).toBe(status)
}

describe('HTTP metrics', () => {
  it('labels requests by route template, not by raw path', async () => {
    const { url } = await started()
    await get(`${url}/users/1`, 200)
    await get(`${url}/users/2`, 200)
    await get(`${url}/users/2`, 200)

    const samples = await scrape(`${url}/metrics`)
    const users = findSamples(samples, 'keel_http_requests_total', { route: '/users/:id' })
    expect(users).toEqual([
      {
        name: 'keel_http_requests_total',
        labels: { method: 'GET', route: '/users/:id', status: '200' },
        value: 3,
      },
    ])
    const rawPaths = samples.filter(
      (s) => s.labels.route?.startsWith('/users/') && s.labels.route !== '/users/:id',
    )
    expect(rawPaths).toEqual([])
  })

  it('records a HEAD answered by a GET route as HEAD, apart from the GETs', async () => {
    const { url } = await started()
    await get(`${url}/users/1`, 200)
    const head = await fetch(`${url}/users/1`, { method: 'HEAD', headers: { connection: 'close' } })
    expect(head.status).toBe(200)
    const users = findSamples(await scrape(`${url}/metrics`), 'keel_http_requests_total', {
      route: '/users/:id',
    })
    expect(users.map(({ labels, value }) => [labels.method, labels.status, value])).toEqual(
      expect.arrayContaining([
        ['GET', '200', 1],
        ['HEAD', '200', 1],
      ]),
    )
    expect(users).toHaveLength(2)
  })

  it('shows the in-flight gauge at 0 after registry.resetMetrics()', async () => {
    const { app, url } = await started()
    await get(`${url}/users/1`, 200)
    app.metrics.registry.resetMetrics()
    const inFlight = findSamples(await scrape(`${url}/metrics`), 'keel_http_requests_in_flight')
    expect(inFlight.map((s) => s.value)).toEqual([0])
  })

  it('labels unmatched paths route="not_found", so scanners cannot explode the series count', async () => {
    const { url } = await started()
    await get(`${url}/no/such/path`, 404)
    await get(`${url}/another/${Math.random()}`, 404)

    const samples = await scrape(`${url}/metrics`)
    expect(findSamples(samples, 'keel_http_requests_total', { status: '404' })).toEqual([
      {
        name: 'keel_http_requests_total',
        labels: { method: 'GET', route: 'not_found', status: '404' },
        value: 2,
      },
    ])
    expect(samples.some((s) => s.labels.route?.includes('no/such'))).toBe(false)
    expect(findSamples(samples, 'keel_http_errors_total')).toEqual([]) // a 4xx is the client's error
  })

  it('counts a 500 in keel_http_errors_total and a 200 not at all', async () => {
    const { url } = await started()
    await get(`${url}/boom`, 500)
    await get(`${url}/users/1`, 200)

    const samples = await scrape(`${url}/metrics`)
    expect(findSamples(samples, 'keel_http_errors_total')).toEqual([
      { name: 'keel_http_errors_total', labels: { method: 'GET', route: '/boom', status: '500' }, value: 1 },
    ])
    expect(
      findSamples(samples, 'keel_http_requests_total', { route: '/boom', status: '500' })[0]?.value,
    ).toBe(1)
  })

  it('exposes the duration histogram with every configured bucket, +Inf, sum and count', async () => {
    const { url } = await started()
    await get(`${url}/users/1`, 200)
    await get(`${url}/users/2`, 200)

    const samples = await scrape(`${url}/metrics`)
    const labels = { method: 'GET', route: '/users/:id', status: '200' }
    const buckets = findSamples(samples, 'keel_http_request_duration_seconds_bucket', labels)
    expect(buckets.map((b) => b.labels.le)).toEqual([...httpDurationBuckets.map(String), '+Inf'])
    const counts = buckets.map((b) => b.value)
    expect(counts).toEqual([...counts].sort((a, b) => a - b)) // cumulative
    expect(counts.at(-1)).toBe(2)
    expect(findSamples(samples, 'keel_http_request_duration_seconds_count', labels)[0]?.value).toBe(2)
    const sum = findSamples(samples, 'keel_http_request_duration_seconds_sum', labels)[0]?.value
    expect(sum).toBeGreaterThan(0)
    expect(sum).toBeLessThan(30)
  })

  it('shows the in-flight gauge rising while a request is being handled and falling after', async () => {
    const { app } = testApp()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let entered: () => void = () => {}
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    app.get('/slow', async () => {
      entered()
      await held
      return 'done'
    })
    const { url } = await app.start()
    running.push(app)

    const pending = fetchOnce(`${url}/slow`).then((res) => res.text())
    try {
      await inside
      // Scrapes and probes are not counted, so only the held request is in flight.
      expect(findSamples(await scrape(`${url}/metrics`), 'keel_http_requests_in_flight')[0]?.value).toBe(1)
    } finally {
      release()
    }
    expect(await pending).toBe('done')
    expect(findSamples(await scrape(`${url}/metrics`), 'keel_http_requests_in_flight')[0]?.value).toBe(0)
    // Unmatched requests (404, 405) were never counted in, so they are not counted out either.
    expect((await fetchOnce(`${url}/nowhere`)).status).toBe(404)
    expect((await fetch(`${url}/slow`, { method: 'DELETE', headers: { connection: 'close' } })).status).toBe(
      405,
    )
    expect(findSamples(await scrape(`${url}/metrics`), 'keel_http_requests_in_flight')[0]?.value).toBe(0)
  })

  it('keeps two apps in one process on separate registries', async () => {
    const a = await started()
    const b = await started()
    expect(a.app.metrics.registry).not.toBe(b.app.metrics.registry)

    await get(`${a.url}/users/1`, 200)
    await get(`${a.url}/boom`, 500)

    const seenByA = await scrape(`${a.url}/metrics`)
    const seenByB = await scrape(`${b.url}/metrics`)
    expect(findSamples(seenByA, 'keel_http_requests_total', { route: '/users/:id' })[0]?.value).toBe(1)
    expect(findSamples(seenByA, 'keel_http_errors_total')).toHaveLength(1)
    expect(findSamples(seenByB, 'keel_http_requests_total', { route: '/users/:id' })).toEqual([])
    expect(findSamples(seenByB, 'keel_http_errors_total')).toEqual([])
    // B did answer its own scrape before: its registry works, it just never saw A's traffic.
    expect(findSamples(seenByB, 'keel_app_state', { state: 'ready' })[0]?.value).toBe(1)
  })

  it('serves metrics on their own port when metrics.port differs from server.port', async () => {
    const metricsPort = await freePort()
    const { app, url } = await started({
      overrides: { metrics: { port: metricsPort, defaultMetrics: false } },
    })
    expect(app.address?.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`)

    await get(`${url}/users/1`, 200)
    const onMain = await fetchOnce(`${url}/metrics`)
    expect(onMain.status).toBe(404)
    expect(onMain.headers.get('content-type')).toMatch(/^application\/problem\+json/)

    const samples = await scrape(`http://127.0.0.1:${metricsPort}/metrics`)
    expect(findSamples(samples, 'keel_http_requests_total', { route: '/users/:id' })[0]?.value).toBe(1)
    // The 404 for /metrics on the main port was counted there like any unknown path.
    expect(findSamples(samples, 'keel_http_requests_total', { route: 'not_found' })[0]?.value).toBe(1)
    // Scrapes of the metrics port are not part of the app's traffic.
    expect(findSamples(samples, 'keel_http_requests_total', { route: '/metrics' })).toEqual([])
  })

  it('with default metrics on, exposes process metrics but no gauge named like a counter', async () => {
    const { url } = await started({ overrides: { metrics: { defaultMetrics: true } } })
    const samples = await scrape(`${url}/metrics`)
    expect(findSamples(samples, 'process_cpu_user_seconds_total')).toHaveLength(1)
    expect(findSamples(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1)
    const text = await (await fetchOnce(`${url}/metrics`)).text()
    const gaugesNamedTotal = [...text.matchAll(/^# TYPE (\S+_total) (gauge|histogram|summary)$/gm)].map(
      (m) => m[1],
    )
    expect(gaugesNamedTotal).toEqual([])
  })
})
