import { createHash } from 'node:crypto'
import { etagOf, vendorImports } from './ui-assets.ts'

/** The inspector UI's page: its HTML, the Content-Security-Policy that goes with it, and its ETag. */
export interface UiPage {
  readonly html: string
  readonly csp: string
  readonly etag: string
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * The HTML of the inspector UI at `prefix` (`/_keel/inspector`): one stylesheet, an import map
 * pointing `preact`, `preact/hooks` and `htm` at `<prefix>/vendor/`, and the UI's entry module
 * `<prefix>/ui/app.js`. The page holds no data, so it loads without a token; the UI asks for
 * one when the API answers 401.
 *
 * The import map must be inline (browsers do not load external ones), so the policy allows that
 * one script by its SHA-256 hash: `script-src 'self' 'sha256-…'`. A hash rather than a nonce
 * because the page is the same bytes on every request: it can be cached and revalidated with
 * its ETag, and no other inline script can ever run.
 *
 * @example
 * ```ts
 * const page = inspectorPage({ prefix: '/_keel/inspector', title: 'orders' })
 * // page.csp: "default-src 'none'; script-src 'self' 'sha256-…'; …"
 * ```
 */
export function inspectorPage(options: { prefix: string; title: string }): UiPage {
  const { prefix } = options
  // `<` escaped, so no value can end the script element early.
  const importMap = JSON.stringify({ imports: vendorImports(`${prefix}/vendor`) }).replace(/</g, '\\u003c')
  const hash = createHash('sha256').update(importMap).digest('base64')
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    // 'self' covers the live feed's ws:/wss: on the same host (CSP Level 3).
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  const p = escapeHtml(prefix)
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(options.title)} · Keel inspector</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${p}/ui/inspector.css">
<script type="importmap">${importMap}</script>
<script type="module" src="${p}/ui/app.js"></script>
</head>
<body>
<div id="app" data-base="${p}" data-title="${escapeHtml(options.title)}"><p class="boot">Loading the inspector…</p></div>
<noscript><p class="boot">The inspector is a JavaScript app; its JSON API is at ${p}/v1.</p></noscript>
</body>
</html>
`
  return { html, csp, etag: etagOf(html) }
}
