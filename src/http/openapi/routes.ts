import { createHash } from 'node:crypto'
import { HttpError } from '../http-error.ts'
import type { RequestContext, RouteDefinition } from '../route.ts'
import { DocsAssets, swaggerUiVersion } from './docs-assets.ts'
import { DOCS_CSP, docsPage } from './docs-page.ts'
import { openApiDocument } from './document.ts'
import type { OpenApiSource } from './types.ts'

/** Where and how the app serves its document and docs page (the `openapi` config section). */
export interface OpenApiServing {
  /** Path of the JSON document. */
  path: string
  /** Serve the API reference UI. */
  docs: boolean
  /** Path of the UI; its files are under `<docsPath>/assets/`. */
  docsPath: string
  /** Title of the document and the page; empty means the service name. */
  title: string
}

/**
 * The routes that serve the OpenAPI document and the docs UI. They are internal, like the
 * probes: left out of the document and not traced. Unlike the probes they run inside the
 * app-wide guards (`appGuards`): they describe the API, so an IP filter, auth or a rate limit
 * that covers the API covers them too. They still set their own security headers, since an app
 * need not have a `securityHeaders` guard, and the page needs its own CSP anyway. The document
 * is built on request from `source()` (all routes are known by then) and kept until a route is
 * added.
 */
export function openApiRoutes(serving: OpenApiServing, source: () => OpenApiSource): RouteDefinition[] {
  let cached: { routes: number; body: string; etag: string } | undefined
  const document = () => {
    const described = source()
    if (cached?.routes !== described.routes.length) {
      const body = JSON.stringify(openApiDocument(described, { title: serving.title || undefined }))
      cached = { routes: described.routes.length, body, etag: etagOf(body) }
    }
    return cached
  }
  const routes: RouteDefinition[] = [
    {
      method: 'GET',
      path: serving.path,
      internal: true,
      appGuards: true,
      handler: (ctx) => {
        const { body, etag } = document()
        ctx.header('cache-control', 'no-cache')
        ctx.header('x-content-type-options', 'nosniff')
        if (isFresh(ctx, etag)) return notModified(ctx)
        ctx.header('content-type', 'application/json; charset=utf-8')
        return body
      },
    },
  ]
  if (!serving.docs) return routes
  const assets = new DocsAssets()
  let page: { body: string; etag: string } | undefined
  routes.push(
    {
      method: 'GET',
      path: serving.docsPath,
      internal: true,
      appGuards: true,
      handler: (ctx) => {
        if (!page) {
          const title = serving.title || source().service.name
          const body = docsPage({ title, docsPath: serving.docsPath, documentPath: serving.path })
          page = { body, etag: etagOf(body) }
        }
        securityHeaders(ctx)
        ctx.header('cache-control', 'no-cache')
        if (isFresh(ctx, page.etag)) return notModified(ctx)
        ctx.header('content-type', 'text/html; charset=utf-8')
        return page.body
      },
    },
    {
      method: 'GET',
      path: `${serving.docsPath}/assets/*`,
      internal: true,
      appGuards: true,
      handler: async (ctx) => {
        const name = ctx.params['*'] ?? ''
        if (!assets.has(name)) throw new HttpError(404, 'KEEL_NOT_FOUND', `no docs asset "${name}"`)
        const asset = await assets.get(name)
        ctx.header('x-content-type-options', 'nosniff')
        ctx.header(
          'cache-control',
          // URLs the page writes carry the package version: what they name never changes.
          ctx.query.v === swaggerUiVersion() ? 'public, max-age=31536000, immutable' : 'no-cache',
        )
        if (asset.gzipped) ctx.header('vary', 'accept-encoding')
        if (isFresh(ctx, asset.etag)) return notModified(ctx)
        ctx.header('content-type', asset.contentType)
        if (asset.gzipped && acceptsGzip(ctx.headers['accept-encoding'])) {
          ctx.header('content-encoding', 'gzip')
          return asset.gzipped
        }
        return asset.body
      },
    },
  )
  return routes
}

const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`

function securityHeaders(ctx: RequestContext): void {
  ctx.header('content-security-policy', DOCS_CSP)
  ctx.header('x-content-type-options', 'nosniff')
  ctx.header('x-frame-options', 'DENY')
  ctx.header('referrer-policy', 'no-referrer')
}

function isFresh(ctx: RequestContext, etag: string): boolean {
  ctx.header('etag', etag)
  const header = ctx.headers['if-none-match']
  if (!header) return false
  return header.split(',').some((tag) => {
    const value = tag.trim()
    return value === etag || value === `W/${etag}` || value === '*'
  })
}

function notModified(ctx: RequestContext): undefined {
  ctx.status = 304
  return undefined
}

/** Whether `Accept-Encoding` allows gzip (`gzip`, `gzip;q=0.5`, `*`), not refused with `q=0`. */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.trim().split(';')
    if (coding !== 'gzip' && coding !== '*') continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  }
  return false
}
