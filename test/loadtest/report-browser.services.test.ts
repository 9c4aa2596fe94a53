import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { LoadtestReport } from 'keel/loadtest'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumPath, launchChromium } from '../support/chromium.ts'
import { runKeel } from '../support/cli.ts'

const executablePath = chromiumPath
const outputDir = resolve(import.meta.dirname, '../../test-output/loadtest')

/**
 * The HTML report of a real run, opened in real headless Chromium from disk: it renders every
 * scenario with its charts, loads nothing but itself and logs no console error.
 */
// A services test: it fails loudly when Chromium is missing (.ci/run installs Debian's chromium).
describe('the loadtest HTML report in Chromium', () => {
  it('has Chromium to run in', () => {
    expect(existsSync(executablePath), `${executablePath} is missing: apt-get install -y chromium`).toBe(true)
  })

  let browser: Browser
  let report: LoadtestReport
  const htmlFile = join(outputDir, 'report.html')

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    const jsonFile = join(outputDir, 'report.json')
    const run = await runKeel([
      'loadtest',
      '--entry',
      'test/loadtest/fixtures/app/app.ts',
      '--report',
      htmlFile,
      '--out',
      jsonFile,
    ])
    expect(run.code, run.err).toBe(1)
    report = JSON.parse(readFileSync(jsonFile, 'utf8')) as LoadtestReport
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
  })

  it('renders each scenario with its charts, loading nothing and logging no error', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
    const problems: string[] = []
    const requested: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
    page.on('request', (request) => requested.push(request.url()))
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`))

    const url = pathToFileURL(htmlFile).href
    await page.goto(url)
    expect(await page.title()).toBe('keel loadtest: failed')
    expect(await page.locator('section.scenario h2').allInnerTexts()).toEqual([
      expect.stringMatching(/^healthy\s+pass$/),
      expect.stringMatching(/^slow\s+FAIL$/),
      expect.stringMatching(/^broken\s+FAIL$/),
    ])
    const slow = report.scenarios.find((s) => s.name === 'slow')!
    expect(await page.locator('#scenario-slow li.failed').innerText()).toBe(
      `p95 ${slow.latency.p95Ms} ms > 200 ms`,
    )
    for (const name of ['healthy', 'slow', 'broken']) {
      const section = page.locator(`#scenario-${name}`)
      for (const chart of ['latency histogram', 'throughput over time', 'status codes']) {
        const svg = section.locator(`svg[aria-label^="${chart}"]`)
        const box = await svg.boundingBox()
        expect(box?.width, `${name}: ${chart}`).toBeGreaterThan(200)
        expect(box?.height, `${name}: ${chart}`).toBeGreaterThan(20)
      }
      // A bar per latency bucket the run reached.
      const result = report.scenarios.find((s) => s.name === name)!
      expect(await section.locator('svg[aria-label^="latency histogram"] rect.bar').count()).toBe(
        result.histogram.length,
      )
    }
    expect(requested).toEqual([url])
    expect(problems).toEqual([])

    const screenshot = join(outputDir, 'report.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    expect(statSync(screenshot).size).toBeGreaterThan(10_000)
    await page.close()
  })
})
