import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { App } from 'keel/app'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { chromiumPath, launchChromium } from '../support/chromium.ts'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { order, startOrders } from './support/orders-showcase.ts'

const outputDir = resolve(import.meta.dirname, '../../test-output/inspector')
const ui = '/_keel/inspector'
const viewerToken = 'viewer-bp-0123456789abcdef01234567'
const operatorToken = 'operator-bp-0123456789abcdef0123456'
// Every wait for the page is bounded; so is every wait for a run.
const timeout = 15_000
const runWait = { timeoutMs: 20_000, intervalMs: 100 }

/**
 * The Breakpoints view of the inspector UI in real headless Chromium, on the orders showcase
 * (PostgreSQL, a schema of its own): a breakpoint with a condition set from the form, an order
 * that does not match running through, one that matches held with its input, stepped to the next
 * step and resumed to its end, the breakpoint removed; bad JSON refused inline; a viewer token and
 * the prod profile shown why the view is not available. Screenshots go to test-output/inspector/.
 */
// A services test: it fails loudly when Chromium or PostgreSQL is missing.
const schemas = postgresSchemas('keel_inspector_bp')

describe('the inspector Breakpoints view in Chromium', () => {
  it('has Chromium to run in', () => {
    expect(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium`).toBe(true)
  })

  let browser: Browser
  // The dev profile, with tokens required so the same app shows the operator and the viewer.
  let orders: Awaited<ReturnType<typeof startOrders>>
  let prod: Awaited<ReturnType<typeof startOrders>> | undefined
  const apps: App[] = []
  const tokens = { viewer: [viewerToken], operator: [operatorToken] }

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    orders = await startOrders(schemas, { inspector: { requireToken: true, tokens } })
    apps.push(orders.app)
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    for (const app of apps) await app.stop()
    for (const root of [orders?.root, prod?.root]) if (root) rmSync(root, { recursive: true, force: true })
  }, 60_000)

  const inspectorApi = async <T>(base: string, path: string, token = operatorToken): Promise<T> => {
    const response = await fetch(`${base}${ui}/v1${path}`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status, path).toBe(200)
    return (await response.json()) as T
  }

  /** Starts an order run through the app's own API; resolves to its run id. */
  const startOrder = async (orderId: string, amount: number): Promise<string> => {
    const response = await fetch(`${orders.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': orderId },
      body: JSON.stringify(order(orderId, amount)),
    })
    expect(response.status).toBe(202)
    return ((await response.json()) as { runId: string }).runId
  }
  const runStatus = async (runId: string) =>
    (
      (await (await fetch(`${orders.url}/orders/runs/${encodeURIComponent(runId)}`)).json()) as {
        status: string
      }
    ).status

  /**
   * A page of the UI with `token` in the tab's sessionStorage (as the token form leaves it), and
   * every console error, page error and CSP violation collected.
   */
  async function openPage(
    base: string,
    hash: string,
    token: string,
  ): Promise<{ page: Page; problems: string[] }> {
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
      content: `sessionStorage.setItem('keel-inspector-token', ${JSON.stringify(token)})
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))`,
    })
    const response = await page.goto(`${base}${ui}/${hash}`)
    expect(response?.status()).toBe(200)
    return { page, problems }
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(outputDir, name), fullPage: true })
  const focusedId = (page: Page) => page.evaluate('document.activeElement.id') as Promise<string>

  let page: Page
  let problems: string[]

  it('1. opens with g b, listed in the key help, with nothing set and nothing held', async () => {
    ;({ page, problems } = await openPage(orders.url, '#/routes', operatorToken))
    await page.locator('tr.route-row').first().waitFor()
    await page.locator('.session .live-badge.live').waitFor()
    await page.keyboard.press('g')
    await page.keyboard.press('b')
    await page.waitForURL(/#\/breakpoints$/)
    await eventually(async () =>
      expect(await page.locator('nav a[aria-current="page"]').innerText()).toBe('Breakpoints'),
    )
    await eventually(async () => expect(await focusedId(page)).toBe('view-title'))
    expect(await page.locator('h1').innerText()).toBe('Breakpoints')
    await page.locator('[data-empty="breakpoints"]').waitFor()
    await page.locator('[data-empty="paused"]').waitFor()
    // The form offers the flows and, for the chosen one, its steps.
    expect(await page.locator('#breakpoint-flow option').allTextContents()).toEqual(['order'])
    expect(await page.locator('#breakpoint-step option').allTextContents()).toEqual([
      'reserve',
      'charge',
      'ship',
      'notify',
    ])

    await page.keyboard.press('?')
    const help = page.locator('dialog.help')
    await help.waitFor()
    expect(await help.innerText()).toMatch(/g\s+b\s+Breakpoints/)
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'hidden' })
    expect(problems).toEqual([])
  })

  it('2. refuses a value that is not JSON inline, and sets nothing', async () => {
    await page.locator('#breakpoint-step').selectOption('charge')
    await page.locator('#breakpoint-pointer').fill('/amount')
    await page.locator('#breakpoint-equals').fill('lots')
    await page.getByRole('button', { name: 'Set breakpoint' }).click()
    const error = page.locator('[data-error-for="equals"]')
    await error.waitFor()
    expect(await error.innerText()).toMatch(/^Not valid JSON \(.+\)\. A string needs double quotes: "lots"$/)
    const equals = page.locator('#breakpoint-equals')
    expect(await equals.getAttribute('aria-invalid')).toBe('true')
    expect((await equals.getAttribute('aria-describedby'))?.split(' ')).toContain('breakpoint-equals-error')
    // The focus goes to the field to fix.
    expect(await focusedId(page)).toBe('breakpoint-equals')
    expect(await page.locator('[data-error-for="pointer"]').count()).toBe(0)
    await shot(page, 'bp-1-bad-json.png')
    expect((await inspectorApi<{ breakpoints: unknown[] }>(orders.url, '/breakpoints')).breakpoints).toEqual(
      [],
    )
    expect(await page.locator('[data-breakpoint]').count()).toBe(0)
    expect(problems).toEqual([])
  })

  it('3. holds a matching order at the breakpoint, steps it to the next step, resumes it to its end', {
    timeout: 90_000,
  }, async () => {
    // Fixing the value clears the error as it is typed; Enter in the field submits the form.
    const equals = page.locator('#breakpoint-equals')
    await equals.fill('4242')
    await page.locator('[data-error-for="equals"]').waitFor({ state: 'detached' })
    expect(await equals.getAttribute('aria-invalid')).toBe('false')
    await equals.press('Enter')
    const notice = page.locator('[data-notice]')
    await notice.filter({ hasText: 'Breakpoint set' }).waitFor()
    expect(await notice.innerText()).toBe('Breakpoint set: order · charge, when /amount = 4242.')
    // In a live region that was there before it, so screen readers announce it.
    expect(await notice.locator('xpath=..').getAttribute('role')).toBe('status')
    const row = page.locator('tr[data-breakpoint]')
    await row.waitFor()
    expect(await row.locator('th').innerText()).toBe('order · charge')
    expect(await row.locator('td').first().innerText()).toBe('/amount = 4242')
    const [point] = (
      await inspectorApi<{ breakpoints: Array<{ id: string; flow: string; step: string; when: unknown }> }>(
        orders.url,
        '/breakpoints',
      )
    ).breakpoints
    expect(point).toMatchObject({ flow: 'order', step: 'charge', when: { pointer: '/amount', equals: 4242 } })
    expect(await row.getAttribute('data-breakpoint')).toBe(point!.id)

    // An order that does not match runs straight through, and is never listed as held.
    const small = await startOrder('BP-small', 1999)
    await eventually(async () => expect(await runStatus(small)).toBe('completed'), runWait)
    expect((await inspectorApi<{ paused: unknown[] }>(orders.url, '/paused')).paused).toEqual([])
    expect(await page.locator('[data-paused-run]').count()).toBe(0)
    expect(await page.locator('[data-empty="paused"]').count()).toBe(1)

    // One that matches is held before charge, with its input (what reserve returned).
    const big = await startOrder('BP-big', 4242)
    const card = page.locator(`[data-paused-run="${big}"]`)
    await card.waitFor()
    expect(await card.locator('[data-held-step]').innerText()).toBe('charge')
    expect(await card.locator('[data-held-by]').innerText()).toBe(
      'the breakpoint on order · charge, /amount = 4242',
    )
    const input = JSON.parse(await card.locator('pre.held-input').innerText()) as Record<string, unknown>
    expect(input).toMatchObject({ orderId: 'BP-big', amount: 4242, country: 'NL' })
    expect(input.reservationId).toEqual(expect.any(String))
    expect(input).not.toHaveProperty('chargeId')
    // Pretty-printed, two spaces.
    expect(await card.locator('pre.held-input').innerText()).toContain('\n  "orderId": "BP-big"')
    expect(await card.locator('.action-status').innerText()).toBe('held')
    expect(await runStatus(big)).not.toBe('completed')
    await eventually(async () => expect(await row.locator('td.num').innerText()).toBe('1'))
    expect(await page.locator('#held-title').innerText()).toBe('Held runs (1)')
    await shot(page, 'bp-2-held.png')

    // Step: charge runs, and the run is held again before ship, whatever the breakpoints say.
    await card.getByRole('button', { name: `Step ${big}` }).click()
    await card.locator('[data-held-step]', { hasText: /^ship$/ }).waitFor()
    expect(await card.locator('[data-held-by]').innerText()).toBe(
      'a Step: it ran the step before and stopped here',
    )
    expect(await card.locator('.action-status').innerText()).toBe('Ran charge, now held before ship')
    const charged = JSON.parse(await card.locator('pre.held-input').innerText()) as Record<string, unknown>
    expect(charged.chargeId).toEqual(expect.any(String))
    expect(await runStatus(big)).not.toBe('completed')
    const [atShip] = (await inspectorApi<{ paused: Array<Record<string, unknown>> }>(orders.url, '/paused'))
      .paused
    expect(atShip).toMatchObject({ runId: big, step: 'ship', breakpointId: null })
    await shot(page, 'bp-3-stepped.png')

    // Resume: the run goes on to its end; what was done stays on screen.
    await card.getByRole('button', { name: `Resume ${big}` }).click()
    await card.waitFor({ state: 'detached' })
    const done = page.locator(`[data-action-for="${big}"]`)
    await done.waitFor()
    expect(await done.locator('.action-status').innerText()).toBe('Resumed: no longer held')
    await eventually(async () => expect(await runStatus(big)).toBe('completed'), runWait)
    expect((await inspectorApi<{ paused: unknown[] }>(orders.url, '/paused')).paused).toEqual([])
    await page.locator('[data-empty="paused"]').waitFor()
    await shot(page, 'bp-4-resumed.png')

    // Remove the breakpoint: a second order with the same amount is no longer held.
    await row.getByRole('button', { name: 'Remove the breakpoint on order · charge' }).click()
    await row.waitFor({ state: 'detached' })
    expect(await notice.innerText()).toBe('Removed the breakpoint on order · charge (it stopped 1 run).')
    await page.locator('[data-empty="breakpoints"]').waitFor()
    // The row went with the focused button: the focus stays in the list.
    expect(await focusedId(page)).toBe('breakpoints-title')
    expect((await inspectorApi<{ breakpoints: unknown[] }>(orders.url, '/breakpoints')).breakpoints).toEqual(
      [],
    )
    const again = await startOrder('BP-big-2', 4242)
    await eventually(async () => expect(await runStatus(again)).toBe('completed'), runWait)
    expect(await page.locator('[data-paused-run]').count()).toBe(0)
    await shot(page, 'bp-5-removed.png')
    expect(problems).toEqual([])
    await page.close()
  })

  it('4. tells a viewer token that breakpoints need the operator role', async () => {
    const { page: viewer, problems: viewerProblems } = await openPage(
      orders.url,
      '#/breakpoints',
      viewerToken,
    )
    const card = viewer.locator('[data-unavailable="403"]')
    await card.waitFor()
    expect(await card.locator('h2').innerText()).toBe('Not available to a viewer')
    expect(await card.locator('p').innerText()).toBe(
      'Breakpoints need the operator role, and your token is a viewer token.',
    )
    expect(await viewer.locator('.session .tag').innerText()).toBe('viewer')
    expect(await viewer.locator('form.breakpoint-form').count()).toBe(0)
    await shot(viewer, 'bp-6-viewer.png')
    // The only error the browser logged is the refused call itself, once: the view stops asking.
    await viewer.waitForTimeout(2500)
    expect(viewerProblems.filter((p) => !p.includes('status of 403'))).toEqual([])
    expect(viewerProblems.filter((p) => p.includes('status of 403'))).toHaveLength(1)
    await viewer.close()
  })

  it('5. in the prod profile says breakpoints exist in dev and test only', { timeout: 60_000 }, async () => {
    prod = await startOrders(schemas, { profile: 'prod', inspector: { enabled: true, tokens } })
    apps.push(prod.app)
    // The routes do not exist there, even for the operator.
    const response = await fetch(`${prod.url}${ui}/v1/breakpoints`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    })
    expect(response.status).toBe(404)
    const { page: prodPage, problems: prodProblems } = await openPage(
      prod.url,
      '#/breakpoints',
      operatorToken,
    )
    const card: Locator = prodPage.locator('[data-unavailable="404"]')
    await card.waitFor()
    expect(await card.locator('h2').innerText()).toBe('Not available in this profile')
    expect(await card.locator('p').innerText()).toMatch(
      /^Breakpoints exist in the dev and test profiles only, and this app runs in profile prod\./,
    )
    expect(await prodPage.locator('.session .tag').innerText()).toBe('operator')
    expect(await prodPage.locator('form.breakpoint-form').count()).toBe(0)
    await shot(prodPage, 'bp-7-prod.png')
    // The rest of the UI works as ever.
    await prodPage.keyboard.press('g')
    await prodPage.keyboard.press('f')
    await prodPage.locator('article[data-flow="order"]').waitFor()
    expect(prodProblems.filter((p) => !p.includes('status of 404'))).toEqual([])
    expect(prodProblems.filter((p) => p.includes('status of 404'))).toHaveLength(1)
    await prodPage.close()
  })
})
