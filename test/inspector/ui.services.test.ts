import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { App } from 'keel/app'
import { type Db, openPostgresDb } from 'keel/data'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { chromiumPath, launchChromium } from '../support/chromium.ts'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { order, startOrders } from './support/orders-showcase.ts'

const executablePath = chromiumPath
const outputDir = resolve(import.meta.dirname, '../../test-output/inspector')
const ui = '/_keel/inspector'
const viewerToken = 'viewer-0123456789abcdef0123456789'
const operatorToken = 'operator-0123456789abcdef012345678'
// Every wait for the page is bounded.
const timeout = 15_000

/**
 * The inspector UI of the orders showcase in real headless Chromium: the flow graph, a request's
 * trace arriving live and opening as a waterfall, a dead flow run retried and another discarded
 * from the UI, the token form of the prod profile, keyboard navigation, the Metrics charts, a
 * stalled request, and a route's schemas and live window. The app runs in-process on PostgreSQL (a
 * schema of its own), so the test can take a table away to make a run die. Screenshots of each
 * step go to test-output/inspector/.
 */
// A services test: it fails loudly when Chromium or PostgreSQL is missing.
const schemas = postgresSchemas('keel_inspector_ui')

describe('the inspector UI in Chromium', () => {
  it('has Chromium to run in', () => {
    expect(existsSync(executablePath), `${executablePath} is missing: apt-get install -y chromium`).toBe(true)
  })

  let browser: Browser
  let orders: Awaited<ReturnType<typeof startOrders>>
  let prod: Awaited<ReturnType<typeof startOrders>> | undefined
  let admin: Db
  const apps: App[] = []

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    orders = await startOrders(schemas, {
      // A low stall threshold: test 7 holds a request open past it.
      inspector: { store: { maxTracesPerSecond: 0 }, stallThresholdMs: 200 },
      // No claims on a timer: a sync submit that lands while a claim is in flight is run by the
      // poller, outside the request's trace, and test 2 opens that trace expecting its flow spans.
      flows: { pollMs: 600_000 },
    })
    apps.push(orders.app)
    admin = await openPostgresDb({ url: orders.databaseUrl, poolSize: 1 })
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    orders?.slow.open()
    await browser?.close()
    await admin?.close()
    for (const app of apps) await app.stop()
    for (const root of [orders?.root, prod?.root]) if (root) rmSync(root, { recursive: true, force: true })
  }, 60_000)

  const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  /** A page of the UI, with every console error, page error and CSP violation collected. */
  async function openPage(base: string, hash: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(timeout)
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('request', (request) => {
      if (!request.url().startsWith(base)) problems.push(`left the app: ${request.url()}`)
    })
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) =>
        console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))`,
    })
    const response = await page.goto(`${base}${ui}/${hash}`)
    expect(response?.status()).toBe(200)
    return { page, problems }
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(outputDir, name), fullPage: true })

  it('1. draws the order flow as a graph with a node per step, left to right, with step stats', async () => {
    expect((await post(orders.url, '/orders/sync', order('G-1'), { 'idempotency-key': 'G-1' })).status).toBe(
      200,
    )
    const { page, problems } = await openPage(orders.url, '#/flows')
    const graph = page.locator('article[data-flow="order"] svg.flow-graph')
    await graph.waitFor()
    expect(await page.locator('h1').innerText()).toBe('Flows')
    const steps = graph.locator('g.node:not(.marker)')
    expect(await steps.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-node')))).toEqual([
      'reserve',
      'charge',
      'ship',
      'notify',
    ])
    expect(await graph.locator('.node-name').allTextContents()).toEqual([
      'reserve',
      'charge',
      'ship',
      'notify',
    ])
    const xs = await graph
      .locator('g.node:not(.marker) rect')
      .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('x'))))
    expect(new Set(xs).size).toBe(4)
    expect([...xs].sort((a, b) => a - b)).toEqual(xs)
    expect(await graph.locator('g.edge path').count()).toBe(5)
    expect(await graph.locator('g.node.marker').count()).toBe(2)
    // The run of G-1 is on every node: one attempt each, with its p95.
    await page.locator('g.node[data-node="notify"] .node-stats', { hasText: /^1 · p95 / }).waitFor()
    for (const step of ['reserve', 'charge', 'ship', 'notify'])
      expect(await graph.locator(`g.node[data-node="${step}"] .node-stats`).textContent()).toMatch(
        /^1 · p95 \d/,
      )
    expect(await graph.getAttribute('aria-label')).toBe('Graph of flow order: reserve, charge, ship, notify')
    await shot(page, '1-flow-graph.png')
    expect(problems).toEqual([])
    await page.close()
  })

  // Its known flake (a saga trace without its flow spans, see beforeAll) is gone; the retry stays
  // as a guard against a browser wait on a loaded machine.
  it('2. shows a request sent from the Send panel live in the trace list, and opens a trace as a waterfall', {
    retry: 1,
  }, async () => {
    const { page: list, problems } = await openPage(orders.url, '#/traces')
    await list.locator('.view-head .live-badge.live').waitFor()
    await list.evaluate('window.notReloaded = true')
    // Zero on a first attempt; a retry (see above) starts with the first attempt's trace listed.
    const before = await list.locator('a.trace-row', { hasText: '/stock' }).count()

    // Another tab sends GET /stock through the relay.
    const { page: sender, problems: senderProblems } = await openPage(orders.url, '#/routes')
    const row = sender.locator('tr[data-route="GET /stock"]')
    await row.locator('button.disclosure').click()
    expect(await row.locator('button.disclosure').getAttribute('aria-expanded')).toBe('true')
    const detail = sender.locator('tr.route-detail')
    await detail.getByRole('button', { name: 'Load sample' }).click()
    await eventually(async () => expect(await detail.locator('textarea').inputValue()).toContain('"params"'))
    await detail.getByRole('button', { name: 'Send' }).click()
    const result = detail.locator('.relay-result')
    await result.waitFor()
    expect(await result.locator('.status').innerText()).toBe('200')
    expect(await result.locator('.response-body').innerText()).toContain('"widget"')
    await shot(sender, '2a-send-panel.png')
    // The result links to the request's own trace (the relay keeps it whatever the budget).
    const traceLink = result.locator('a.relay-trace')
    const traceId = (await traceLink.getAttribute('href'))!.replace('#/traces/', '')
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    await traceLink.click()
    await sender.locator('.trace-detail code', { hasText: traceId }).waitFor()
    expect(await sender.locator('#trace-title').innerText()).toBe('GET /stock')

    // …and the first tab shows its trace without a reload.
    await eventually(async () =>
      expect(await list.locator('a.trace-row', { hasText: '/stock' }).count()).toBeGreaterThan(before),
    )
    expect(await list.locator('a.trace-row', { hasText: '/stock' }).first().innerText()).toContain('200')

    // A saga request from outside the UI arrives the same way; open it.
    // A key of its own per attempt: a retry reusing one would get the stored answer, no flow run.
    const key = `W-${Date.now()}`
    const sagaRows = list.locator('a.trace-row', { hasText: '/orders/sync' })
    const sagasBefore = await sagaRows.count()
    const sync = await post(orders.url, '/orders/sync', order(key), { 'idempotency-key': key })
    expect(sync.status).toBe(200)
    // Test 1's saga is listed too: wait for this one, newest first, before clicking (a row arriving
    // during the click would move the rows under the pointer).
    await eventually(async () => expect(await sagaRows.count()).toBeGreaterThan(sagasBefore))
    const sagaRow = sagaRows.first()
    expect(await list.evaluate('window.notReloaded')).toBe(true)
    await sagaRow.click()
    await list.locator('.waterfall button.span-row').first().waitFor()
    await eventually(async () =>
      expect(await list.locator('button.span-row').count()).toBeGreaterThanOrEqual(6),
    )
    const rows = await list.locator('button.span-row').evaluateAll((buttons) =>
      buttons.map((b) => {
        // (No DOM types in the tests' TypeScript: the elements' style is read as a record.)
        const bar = b.querySelector('.span-bar') as unknown as { style: Record<string, string> }
        const name = b.querySelector('.span-name') as unknown as { style: Record<string, string> }
        return {
          span: b.getAttribute('data-span'),
          left: Number.parseFloat(bar.style.left!),
          width: Number.parseFloat(bar.style.width!),
          indent: Number.parseFloat(name.style.paddingLeft!),
        }
      }),
    )
    const by = Object.fromEntries(rows.map((r) => [r.span, r]))
    expect(rows[0]).toMatchObject({ span: 'POST /orders/sync', left: 0, indent: 0 })
    expect(by['POST /orders/sync']!.width).toBeGreaterThan(90)
    // Nested by parent, placed by start offset.
    expect(by['flow order']!.indent).toBeGreaterThan(0)
    expect(by['step reserve']!.indent).toBeGreaterThan(by['flow order']!.indent)
    const starts = ['step reserve', 'step charge', 'step ship', 'step notify'].map((s) => by[s]!.left)
    expect([...starts].sort((a, b) => a - b)).toEqual(starts)
    expect(starts[3]).toBeGreaterThan(starts[0]!)
    await list.locator('button.span-row[data-span="step charge"]').click()
    const details = list.locator('.span-details')
    await details.locator('h3', { hasText: 'step charge' }).waitFor()
    expect(await details.innerText()).toMatch(/keel\.flow\.step\s+charge/)
    await shot(list, '2b-waterfall.png')
    // Escape closes the trace; the list stays.
    await list.keyboard.press('Escape')
    await list.locator('.trace-detail').waitFor({ state: 'detached' })
    expect(list.url()).toMatch(/#\/traces$/)
    expect(await list.locator('a.trace-row', { hasText: '/stock' }).count()).toBeGreaterThan(0)
    expect(problems).toEqual([])
    expect(senderProblems).toEqual([])
    await list.close()
    await sender.close()
  })

  it('2c. falls back to polling when the live feed cannot connect, and still shows new traces', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(timeout)
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(error.message))
    // A proxy that does not pass WebSockets: every connection to the feed is closed at once.
    await page.routeWebSocket(/\/v1\/live$/, (socket) => socket.close())
    await page.goto(`${orders.url}${ui}/#/traces`)
    await page.locator('.view-head .live-badge.polling', { hasText: 'Polling' }).waitFor()
    expect(await page.locator('a.trace-row', { hasText: '/orders/:orderId/effects' }).count()).toBe(0)
    expect((await fetch(`${orders.url}/orders/P-1/effects`)).status).toBe(200)
    await page.locator('a.trace-row', { hasText: '/orders/:orderId/effects' }).first().waitFor()
    await shot(page, '2c-polling.png')
    expect(problems).toEqual([])
    await page.close()
  })

  /** The status of the order run `runId`, once it is `status` (flow runs settle in the background). */
  const runReaches = (runId: string, status: string, timeoutMs: number) =>
    eventually(
      async () => {
        const run = (await (await fetch(`${orders.url}/orders/runs/${runId}`)).json()) as { status: string }
        expect(run.status).toBe(status)
      },
      { timeoutMs, intervalMs: 100 },
    )

  /** Places order `orderId` while the provider's ledger is away: every attempt of reserve throws, and the run dies. */
  async function deadOrder(orderId: string): Promise<void> {
    await admin.query('alter table orders_ledger rename to orders_ledger_outage')
    try {
      const accepted = await post(orders.url, '/orders', order(orderId), { 'idempotency-key': orderId })
      expect(accepted.status).toBe(202)
      await runReaches(`order:${orderId}`, 'dead', 20_000)
    } finally {
      await admin.query('alter table orders_ledger_outage rename to orders_ledger')
    }
  }

  it('3. lists a dead flow run, retries it from the UI, and shows it complete', async () => {
    await deadOrder('D-1')
    const { page, problems } = await openPage(orders.url, '#/dead-letters')
    const row = page.locator('tr[data-dead-letter="order:D-1"]')
    await row.waitFor()
    const text = await row.innerText()
    expect(text).toContain('order')
    expect(text).toContain('reserve')
    expect(text).toContain('orders_ledger')
    expect(await row.locator('.action-status').innerText()).toBe('dead')
    await shot(page, '3a-dead-letter.png')

    await row.getByRole('button', { name: 'Retry flow order:D-1' }).click()
    const resolved = page.locator('[data-action-for="order:D-1"].state-resolved')
    await resolved.waitFor()
    expect(await resolved.innerText()).toContain('Retried: no longer dead')
    expect(await page.locator('tr[data-dead-letter="order:D-1"]').count()).toBe(0)
    await runReaches('order:D-1', 'completed', 10_000)
    await page.locator('p.empty', { hasText: 'Nothing is dead' }).waitFor()
    await shot(page, '3b-retried.png')
    expect(problems).toEqual([])
    await page.close()
  })

  it('3c. discards a dead flow run from the UI: it leaves the list for good', async () => {
    await deadOrder('D-2')
    const { page, problems } = await openPage(orders.url, '#/dead-letters')
    const row = page.locator('tr[data-dead-letter="order:D-2"]')
    await row.waitFor()
    await row.getByRole('button', { name: 'Discard flow order:D-2' }).click()
    const resolved = page.locator('[data-action-for="order:D-2"].state-resolved')
    await resolved.waitFor()
    expect(await resolved.innerText()).toContain('Discarded')
    expect(await row.count()).toBe(0)
    await page.locator('p.empty', { hasText: 'Nothing is dead' }).waitFor()
    // Given up, not retried: the run ends discarded and the API no longer lists it.
    await runReaches('order:D-2', 'discarded', 10_000)
    const listed = (await (await fetch(`${orders.url}${ui}/v1/dead-letters`)).json()) as {
      deadLetters: Array<{ id: string }>
    }
    expect(listed.deadLetters.map((l) => l.id)).not.toContain('order:D-2')
    await shot(page, '3c-discarded.png')
    expect(problems).toEqual([])
    await page.close()
  })

  it('4. in the prod profile asks for the token, refuses data without it, and works with it', async () => {
    prod = await startOrders(schemas, {
      profile: 'prod',
      inspector: { enabled: true, tokens: { viewer: [viewerToken], operator: [operatorToken] } },
    })
    apps.push(prod.app)
    const api = `${prod.url}${ui}/v1`
    // The API refuses without a token; the page itself loads (it holds no data).
    for (const path of ['', '/routes', '/flows', '/traces', '/dead-letters']) {
      const res = await fetch(`${api}${path}`)
      expect(res.status, path).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="keel-inspector"')
    }
    const { page, problems } = await openPage(prod.url, '#/routes')
    const form = page.locator('section.token')
    await form.waitFor()
    expect(await form.locator('h1').innerText()).toBe('This inspector needs a token')
    expect(await page.locator('tr.route-row').count()).toBe(0)
    expect(await page.evaluate('document.activeElement.id')).toBe('token-input')
    await shot(page, '4a-token-form.png')

    await page.locator('#token-input').fill('not-a-token')
    await page.keyboard.press('Enter')
    await form.getByRole('alert').waitFor()
    expect(await form.getByRole('alert').innerText()).toContain('refused')
    expect(await page.locator('tr.route-row').count()).toBe(0)

    await page.locator('#token-input').fill(viewerToken)
    await page.keyboard.press('Enter')
    await page.locator('tr.route-row[data-route="GET /stock"]').waitFor()
    expect(await page.locator('.session .tag').innerText()).toBe('viewer')
    // The live feed takes the token as a subprotocol.
    await page.locator('.session .live-badge.live').waitFor()
    // A viewer cannot relay: Send stays inert, saying why.
    await page.locator('tr[data-route="GET /stock"] button.disclosure').click()
    const send = page.locator('tr.route-detail').getByRole('button', { name: 'Send' })
    expect(await send.getAttribute('aria-disabled')).toBe('true')
    expect(await send.getAttribute('title')).toContain('operator role')
    // Playwright will not click an aria-disabled button on its own; a user can.
    await send.click({ force: true })
    expect(await page.locator('.relay-result').count()).toBe(0)
    // The token lives in this tab's sessionStorage, never in the URL.
    expect(page.url()).not.toContain(viewerToken)
    expect(await page.evaluate(`sessionStorage.getItem('keel-inspector-token')`)).toBe(viewerToken)
    await shot(page, '4b-viewer.png')

    // Forget it, and the form is back; the operator token unlocks the relay.
    await page.getByRole('button', { name: 'Forget token' }).click()
    await form.waitFor()
    await page.locator('#token-input').fill(operatorToken)
    await page.keyboard.press('Enter')
    await page.locator('tr.route-row[data-route="GET /stock"] button.disclosure').click()
    await page.locator('tr.route-detail').getByRole('button', { name: 'Send' }).click()
    await page.locator('.relay-result .status', { hasText: '200' }).waitFor()
    expect(await page.locator('.session .tag').innerText()).toBe('operator')
    await shot(page, '4c-operator.png')

    // The only errors the browser logged are the refused calls themselves.
    expect(problems.filter((p) => !p.includes('status of 401'))).toEqual([])
    await page.close()
  })

  it('5. moves between views with the keyboard, with the focus always visible', async () => {
    const { page, problems } = await openPage(orders.url, '#/routes')
    await page.locator('tr.route-row').first().waitFor()
    const focused = () =>
      page.evaluate(`(() => {
        const e = document.activeElement
        const style = getComputedStyle(e)
        return { id: e.id, tag: e.tagName, text: e.textContent.trim().slice(0, 40), filter: e.hasAttribute('data-filter'),
          outline: style.outlineStyle + ' ' + style.outlineWidth }
      })()`) as Promise<{ id: string; tag: string; text: string; filter: boolean; outline: string }>

    for (const [key, view, title] of [
      ['t', 'traces', 'Traces'],
      ['f', 'flows', 'Flows'],
      ['m', 'metrics', 'Metrics'],
      ['d', 'dead-letters', 'Dead letters'],
      ['s', 'stalls', 'Stalls'],
      ['r', 'routes', 'Routes'],
    ] as const) {
      await page.keyboard.press('g')
      await page.keyboard.press(key)
      await page.waitForURL(new RegExp(`#/${view}$`))
      // The hash changes first; the nav re-renders on the next frame.
      await eventually(async () =>
        expect(await page.locator('nav a[aria-current="page"]').innerText()).toBe(title),
      )
      // The view's heading takes the focus, and shows it.
      await eventually(async () => expect(await focused()).toMatchObject({ id: 'view-title', text: title }))
      expect((await focused()).outline).toBe('solid 3px')
    }

    // / focuses the filter; typing filters; Tab goes on to the first match, visibly.
    await page.keyboard.press('/')
    expect(await focused()).toMatchObject({ tag: 'INPUT', filter: true })
    // In a field, g t is text, not a shortcut.
    await page.keyboard.type('gt')
    expect(await page.locator('input[data-filter]').inputValue()).toBe('gt')
    expect(page.url()).toMatch(/#\/routes$/)
    await page.locator('input[data-filter]').fill('')
    await page.keyboard.type('/stock')
    await eventually(async () => expect(await page.locator('tr.route-row').count()).toBe(1))
    await page.keyboard.press('Tab')
    expect(await focused()).toMatchObject({ tag: 'BUTTON', outline: 'solid 3px' })
    expect((await focused()).text).toContain('/stock')
    await page.keyboard.press('Enter')
    expect(
      await page.locator('tr[data-route="GET /stock"] button.disclosure').getAttribute('aria-expanded'),
    ).toBe('true')

    // ? lists the shortcuts; Escape closes the list.
    await page.keyboard.press('?')
    const help = page.locator('dialog.help')
    await help.waitFor()
    expect(await help.innerText()).toMatch(/g\s+t\s+Traces/)
    await shot(page, '5-keyboard.png')
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'hidden' })
    // The landmarks a screen reader jumps between.
    expect(await page.locator('header[role="banner"]').count()).toBe(1)
    expect(await page.getByRole('navigation', { name: 'Views' }).count()).toBe(1)
    expect(await page.locator('main').count()).toBe(1)
    expect(problems).toEqual([])
    await page.close()
  })

  /** The y of every point of an SVG polyline (`x,y x,y …`). */
  const pointYs = (points: string | null) => (points ?? '').split(' ').map((p) => Number(p.split(',')[1]))

  it('6. draws the Metrics charts from real traffic, the failed requests in red', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${orders.url}/stock`)).status).toBe(200)
    expect((await fetch(`${orders.url}/boom`)).status).toBe(500)
    const { page, problems } = await openPage(orders.url, '#/metrics')
    const boom = page.locator('tr[data-series="GET /boom"]')
    await boom.waitFor()

    // The overview: requests per bucket with the failed part stacked in red, and the error rate.
    const [traffic, errorRate] = [
      page.locator('.overview figure').nth(0),
      page.locator('.overview figure').nth(1),
    ]
    const failed = Number(/(\d+) failed/.exec(await traffic.locator('figcaption').innerText())?.[1])
    expect(failed).toBeGreaterThanOrEqual(1)
    expect(await traffic.locator('svg.bars[role="img"] rect.ok').count()).toBeGreaterThan(0)
    expect(await traffic.locator('svg.bars rect.err').count()).toBeGreaterThan(0)
    // A bucket with no errors sits on the floor (height - 1 = 79); the one /boom fell in is above it.
    const rates = pointYs(await errorRate.locator('svg.spark.err polyline').getAttribute('points'))
    expect(rates.length).toBeGreaterThan(1)
    expect(Math.min(...rates)).toBeLessThan(79)

    // Per route: /boom all errors, marked bad with red bars; /stock none, with its latency line.
    expect(await boom.locator('td.num.bad').innerText()).toBe('100 %')
    expect(await boom.locator('svg.bars rect.err').count()).toBeGreaterThan(0)
    const stock = page.locator('tr[data-series="GET /stock"]')
    expect(await stock.locator('td.num').nth(5).innerText()).toBe('0 %')
    expect(await stock.locator('td.num.bad').count()).toBe(0)
    expect(await stock.locator('svg.bars rect.err').count()).toBe(0)
    const latency = pointYs(await stock.locator('svg.spark polyline').getAttribute('points'))
    expect(Math.min(...latency)).toBeLessThan(31)
    await shot(page, '6-metrics.png')
    expect(problems).toEqual([])
    await page.close()
  })

  it('7. lists a request running past the stall threshold, and drops it once it answers', async () => {
    const { page, problems } = await openPage(orders.url, '#/stalls')
    await page.locator('.view-head', { hasText: 'Running longer than 200 ms' }).waitFor()
    const answer = fetch(`${orders.url}/slow`)
    const row = page.locator('tr[data-stall="GET /slow"]')
    await row.waitFor()
    const cells = await row.locator('td').allInnerTexts()
    expect(cells[0]).toBe('request')
    expect(cells[2]).toMatch(/^\d+ ms$|^\d+\.\d+ s$/)
    expect(cells[3]).toContain('path: /slow')
    expect(await row.locator('a').getAttribute('href')).toMatch(/^#\/traces\/[0-9a-f]{32}$/)
    await shot(page, '7-stalls.png')

    orders.slow.open()
    expect((await answer).status).toBe(200)
    await row.waitFor({ state: 'detached' })
    expect(problems).toEqual([])
    await page.close()
  })

  it("8. shows a route's schemas and its live window: throughput and p50/p95/p99", async () => {
    for (let i = 0; i < 6; i++) expect((await fetch(`${orders.url}/orders/E-${i}/effects`)).status).toBe(200)
    const { page, problems } = await openPage(orders.url, '#/routes')
    const row = page.locator('tr[data-route="GET /orders/:orderId/effects"]')
    await row.waitFor()
    const windowCells = async () => {
      const [throughput, p50, p95, p99, errors] = await row.locator('td.num').allInnerTexts()
      return { throughput: Number.parseFloat(throughput!), p50, p95, p99, errors }
    }
    const before = await windowCells()
    expect(before.throughput).toBeGreaterThan(0)
    // Measured latencies: a route without traffic shows 0 ms.
    for (const quantile of [before.p50, before.p95, before.p99]) {
      expect(quantile).toMatch(/^\d+(\.\d+)? (ms|s)$/)
      expect(Number.parseFloat(quantile!)).toBeGreaterThan(0)
    }
    expect(before.errors).toBe('0 %')

    // More traffic shows up in the open page, without a reload.
    for (let i = 0; i < 6; i++) await fetch(`${orders.url}/orders/F-${i}/effects`)
    await eventually(async () => expect((await windowCells()).throughput).toBeGreaterThan(before.throughput))

    await row.locator('button.disclosure').click()
    const schemas = page.locator('tr.route-detail .schemas')
    await schemas.waitFor()
    expect(await schemas.locator('summary').allInnerTexts()).toEqual(['params', 'response'])
    await schemas.locator('summary', { hasText: 'params' }).click()
    const params = JSON.parse(await schemas.locator('details').first().locator('pre.json').innerText())
    expect(params).toMatchObject({
      type: 'object',
      properties: { orderId: { type: 'string', maxLength: 64 } },
    })
    await shot(page, '8-route-schema.png')
    expect(problems).toEqual([])
    await page.close()
  })
})
