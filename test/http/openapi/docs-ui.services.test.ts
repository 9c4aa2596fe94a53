import { existsSync } from 'node:fs'
import type { App } from 'keel/app'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumPath, launchChromium } from '../../support/chromium.ts'
import { testApp } from '../../support/test-app.ts'
import { shopApi } from './fixtures/shop-api.ts'

const executablePath = chromiumPath

/**
 * The docs page in a real browser: Swagger UI renders the app's operations from /openapi.json,
 * loading only files the app serves, without a single CSP violation or console error.
 */
// A services test: it fails loudly when Chromium is missing (.ci/run installs Debian's chromium).
describe('the docs page in Chromium', () => {
  it('has Chromium to run in', () => {
    expect(existsSync(executablePath), `${executablePath} is missing: apt-get install -y chromium`).toBe(true)
  })

  let app: App
  let url: string
  let browser: Browser

  beforeAll(async () => {
    app = shopApi(testApp({ yaml: 'service:\n  name: shop\n  version: 1.2.3\n' }).app)
    url = (await app.start()).url
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await app?.stop()
  })

  it('renders every operation, with the title, the tags and the Authorize button', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    const requested: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
    page.on('request', (request) => requested.push(request.url()))
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`))

    const response = await page.goto(`${url}/docs`)
    expect(response?.status()).toBe(200)
    await page.waitForSelector('.opblock', { timeout: 20_000 })

    expect(await page.locator('.opblock').count()).toBe(7)
    expect(await page.locator('.info .title').innerText()).toContain('shop')
    expect(await page.locator('.opblock-tag').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining('products'), expect.stringContaining('partners')]),
    )
    expect(await page.locator('button.authorize').count()).toBe(1)
    // Everything came from the app itself: no CDN, no validator badge, no telemetry.
    for (const address of requested) expect(address.startsWith(url), address).toBe(true)
    expect(requested).toContain(`${url}/openapi.json`)
    expect(problems).toEqual([])
    await page.close()
  })

  it('opens an operation and shows its parameters and responses', async () => {
    const page = await browser.newPage()
    await page.goto(`${url}/docs`)
    await page.locator('.opblock-summary', { hasText: '/api/v1/products/{id}' }).first().click()
    const body = page.locator('.opblock.is-open')
    await body.locator('.responses-wrapper').waitFor()
    const text = await body.innerText()
    expect(text).toContain('x-tenant')
    expect(text).toContain('404')
    await page.close()
  })

  it('tries an operation out and expands a schema without breaking its CSP', async () => {
    const page = await browser.newPage()
    page.setDefaultTimeout(8000)
    // Runs in the page (a string: the test's TypeScript has no DOM types).
    await page.addInitScript({
      content: `window.violations = []
        document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI))`,
    })
    await page.goto(`${url}/docs`)
    const ping = page.locator('.opblock', { hasText: '/ping' }).first()
    await ping.locator('.opblock-summary').click()
    await ping.locator('button.try-out__btn').click()
    await ping.locator('button.execute').click()
    await ping.locator('.live-responses-table .response-col_status').first().waitFor()
    expect(await ping.locator('.live-responses-table').innerText()).toContain('pong')
    const model = page.locator('section.models article', { hasText: 'ProblemDetails' }).first()
    await model.locator('.json-schema-2020-12-expand-deep-button').click()
    await model.getByText('requestId').first().waitFor()
    const violations = await page.evaluate('window.violations')
    expect(violations).toEqual([])
    await page.close()
  })
})
