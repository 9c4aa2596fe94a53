import { type Browser, chromium } from 'playwright-core'

/** Debian's Chromium, which .ci/run installs; playwright-core never downloads a browser of its own. */
export const chromiumPath = '/usr/bin/chromium'

/**
 * Headless Chromium for the browser tests. Without the background-networking flags it tries to
 * reach Google's hosts at every start, which this machine's closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}
