import { INIT_SCRIPT, swaggerUiVersion } from './docs-assets.ts'

/**
 * The docs page's Content-Security-Policy: scripts and styles only from this origin (nothing
 * inline; Swagger UI sets styles through the DOM, which CSP allows), images from here or `data:`
 * (its icons), requests to this origin only (the document and "Try it out").
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * The HTML of the API reference page at `docsPath`: Swagger UI from `<docsPath>/assets/`,
 * reading the document at `documentPath`.
 *
 * @example
 * ```ts
 * docsPage({ title: 'orders', docsPath: '/docs', documentPath: '/openapi.json' })
 * ```
 */
export function docsPage(options: { title: string; docsPath: string; documentPath: string }): string {
  const v = `?v=${encodeURIComponent(swaggerUiVersion())}`
  const asset = (name: string) => escapeHtml(`${options.docsPath}/assets/${name}${v}`)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · API reference</title>
<link rel="stylesheet" href="${asset('swagger-ui.css')}">
<link rel="stylesheet" href="${asset('index.css')}">
<link rel="icon" type="image/png" href="${asset('favicon-32x32.png')}" sizes="32x32">
<link rel="icon" type="image/png" href="${asset('favicon-16x16.png')}" sizes="16x16">
</head>
<body>
<div id="swagger-ui" data-url="${escapeHtml(options.documentPath)}"></div>
<script src="${asset('swagger-ui-bundle.js')}"></script>
<script src="${asset(INIT_SCRIPT)}"></script>
</body>
</html>
`
}
