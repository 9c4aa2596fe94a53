import { HttpError } from '../http/http-error.ts'
import type { RequestContext, RouteDefinition } from '../http/route.ts'
import { acceptedCodings } from '../http/static/accept-encoding.ts'
import { isNotModified } from '../http/static/validators.ts'
import { type UiAsset, UiAssets, vendorVersion } from './ui-assets.ts'
import { inspectorPage, type UiPage } from './ui-page.ts'

/** Where the UI is served, and the name its page title shows. */
export interface InspectorUiOptions {
  /** The inspector's path (`/_keel/inspector`): the page is there, files under `/ui/` and `/vendor/`. */
  readonly prefix: string
  /** The service name, read when the page is first served (all modules are known by then). */
  readonly title: () => string
  /** The UI's files; tests pass their own. */
  readonly assets?: UiAssets
}

const immutable = 'public, max-age=31536000, immutable'

/**
 * The routes of the inspector's web UI: the page at `<prefix>` (and `<prefix>/`), the UI's own
 * modules and stylesheet at `<prefix>/ui/*`, and the Preact and htm modules from the installed
 * packages at `<prefix>/vendor/*`. Internal like the API (untraced, out of OpenAPI, outside
 * app-wide guards), and open: the files hold no data, while every API call and the live feed
 * they make need the token where one is required. Every answer has a strong ETag (304 on
 * `If-None-Match`), gzip when accepted, and `nosniff`; the page has its own strict CSP.
 */
export function inspectorUiRoutes(options: InspectorUiOptions): RouteDefinition[] {
  const { prefix } = options
  const assets = options.assets ?? new UiAssets()
  let page: UiPage | undefined
  const meta = { inspector: true, inspectorUi: true }
  return [
    {
      method: 'GET',
      path: prefix,
      internal: true,
      meta,
      handler: (ctx) => {
        if (!assets.isInstalled) {
          throw new HttpError(
            404,
            'KEEL_NOT_FOUND',
            `the inspector UI files are not installed (src/inspector/ui of the keel package); the API is at ${prefix}/v1`,
          )
        }
        page ??= inspectorPage({ prefix, title: options.title() })
        ctx.header('content-security-policy', page.csp)
        ctx.header('x-frame-options', 'DENY')
        ctx.header('referrer-policy', 'no-referrer')
        ctx.header('x-content-type-options', 'nosniff')
        ctx.header('cache-control', 'no-cache')
        ctx.header('etag', page.etag)
        if (isNotModified(ctx.headers, page.etag, undefined)) return notModified(ctx)
        ctx.header('content-type', 'text/html; charset=utf-8')
        return page.html
      },
    },
    {
      method: 'GET',
      path: `${prefix}/ui/*`,
      internal: true,
      meta,
      handler: async (ctx) => {
        const name = ctx.params['*'] ?? ''
        const asset = await assets.ui(name)
        if (!asset) throw new HttpError(404, 'KEEL_NOT_FOUND', `no inspector UI file "${name}"`)
        // Modules import each other by relative URLs, which carry no version: always revalidate.
        return send(ctx, asset, 'no-cache')
      },
    },
    {
      method: 'GET',
      path: `${prefix}/vendor/*`,
      internal: true,
      meta,
      handler: async (ctx) => {
        const name = ctx.params['*'] ?? ''
        const asset = await assets.vendor(name)
        if (!asset) throw new HttpError(404, 'KEEL_NOT_FOUND', `no inspector vendor file "${name}"`)
        // The import map's URLs carry the package version: what they name never changes.
        const isVersioned = ctx.query.v !== undefined && ctx.query.v === vendorVersion(name)
        return send(ctx, asset, isVersioned ? immutable : 'no-cache')
      },
    },
  ]
}

function send(ctx: RequestContext, asset: UiAsset, cacheControl: string): Buffer | undefined {
  ctx.header('x-content-type-options', 'nosniff')
  ctx.header('cross-origin-resource-policy', 'same-origin')
  ctx.header('cache-control', cacheControl)
  ctx.header('vary', 'accept-encoding')
  ctx.header('etag', asset.etag)
  if (isNotModified(ctx.headers, asset.etag, undefined)) return notModified(ctx)
  ctx.header('content-type', asset.contentType)
  if (acceptedCodings(ctx.headers['accept-encoding']).some((c) => c.coding === 'gzip')) {
    ctx.header('content-encoding', 'gzip')
    return asset.gzipped
  }
  return asset.body
}

function notModified(ctx: RequestContext): undefined {
  ctx.status = 304
  return undefined
}
