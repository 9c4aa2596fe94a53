import { realpath } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { HttpError } from '../http-error.ts'
import type { RequestContext, RouteDefinition } from '../route.ts'
import { acceptedCodings } from './accept-encoding.ts'
import { parseRange } from './byte-range.ts'
import { type CacheControlOption, cacheControlFor } from './cache-control.ts'
import { pathUnder, requestedFile } from './file-path.ts'
import { builtInMimeTypes, contentTypeFor } from './mime-types.ts'
import { type OpenedPath, openInside } from './open-file.ts'
import { etagFor, isNotModified, isRangeStillValid } from './validators.ts'

/** Serving a single-page app: unknown paths that ask for HTML get the app's index page. */
export interface SpaFallbackOptions {
  /** The page, relative to the root. Default `index.html`. */
  index?: string
  /** Path prefixes that never fall back (API 404s stay problem+json). Default `['/api']`. */
  exclude?: readonly string[]
}

/** Options of {@link serveStatic}. */
export interface StaticOptions {
  /** The directory to serve: an absolute path, a `file:` URL, or a path relative to the working directory. */
  root: string | URL
  /** URL prefix the files appear under (`/assets`); default `''`, the site root. */
  prefix?: string
  /** `Cache-Control` for every file, or a default with per-pattern rules. Default `no-cache` (revalidate). */
  cacheControl?: CacheControlOption
  /**
   * Files that never change get `public, max-age=31536000, immutable`: `true` for names with a
   * content hash (`app.3f9a1c2b.js`), or a RegExp over the path relative to the root. Default off.
   */
  immutable?: boolean | RegExp
  /** The file served for a directory, or `false` for none (a directory is then 404). Default `index.html`. */
  index?: string | false
  /** Serve `file.br` / `file.gz` next to `file` when the client accepts them. Default false. */
  precompressed?: boolean
  /** Serve files and directories whose name starts with a dot (`.env`, `.git`). Default false: 404. */
  dotfiles?: boolean
  /** More or different content types by extension (`{ glb: 'model/gltf-binary' }`). */
  mimeTypes?: Readonly<Record<string, string>>
  /** SPA fallback: `true` for the defaults, or options. Default off. */
  spaFallback?: boolean | SpaFallbackOptions
  /** Send a weak `ETag` (size and modification time). Default true. */
  etag?: boolean
  /** Send `Last-Modified`. Default true. */
  lastModified?: boolean
}

/**
 * A GET route serving the files under `root` at `prefix`, with validators (`ETag`,
 * `Last-Modified`, 304), `Cache-Control` per file, single byte ranges (206/416), precompressed
 * Brotli/gzip variants, HEAD, content types, and an optional SPA fallback. Paths that try to leave
 * the root in any spelling are 400 `KEEL_PATH_INVALID`; missing files are 404 problem details.
 * More specific routes win over it, so an SPA at the site root can sit beside an API.
 *
 * @example
 * ```ts
 * app.route(serveStatic({ root: new URL('./public', import.meta.url), immutable: /^\/assets\//,
 *   spaFallback: { exclude: ['/api'] } }))
 * app.get('/api/users', () => users) // still answered by the API route
 * ```
 */
export function serveStatic(options: StaticOptions): RouteDefinition {
  const prefix = normalizePrefix(options.prefix ?? '')
  const files = new StaticFiles(options)
  const spa = options.spaFallback
  return {
    method: 'GET',
    path: prefix === '' ? '/*' : `${prefix}*`,
    // `/assetsfoo` matches `/assets*` too: only the prefix itself or a path below it is ours.
    handler: (ctx) => {
      const rest = ctx.path.slice(prefix.length)
      if (rest !== '' && !rest.startsWith('/')) throw notFound(ctx)
      return files.serve(ctx, rest)
    },
    meta: {
      static: {
        prefix: prefix === '' ? '/' : prefix,
        spaFallback: Boolean(spa),
        precompressed: options.precompressed ?? false,
      },
    },
  }
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  if (trimmed !== '' && !trimmed.startsWith('/')) return `/${trimmed}`
  return trimmed
}

const notFound = (ctx: RequestContext) =>
  new HttpError(404, 'KEEL_NOT_FOUND', `no file for ${ctx.method} ${ctx.path}`)

/** The directory behind one {@link serveStatic} route. */
class StaticFiles {
  readonly #root: string
  #realRoot: string | undefined
  #isRootMissingLogged = false
  readonly #index: string | false
  readonly #dotfiles: boolean
  readonly #precompressed: boolean
  readonly #mimeTypes: Readonly<Record<string, string>>
  readonly #cacheControl: (relativePath: string) => string
  readonly #spa: { index: string; exclude: readonly string[] } | undefined
  readonly #etag: boolean
  readonly #lastModified: boolean

  constructor(options: StaticOptions) {
    this.#root = resolve(typeof options.root === 'string' ? options.root : fileURLToPath(options.root))
    this.#index = options.index ?? 'index.html'
    this.#dotfiles = options.dotfiles ?? false
    this.#precompressed = options.precompressed ?? false
    this.#mimeTypes = { ...builtInMimeTypes, ...options.mimeTypes }
    this.#cacheControl = cacheControlFor(options.cacheControl, options.immutable)
    const spa = options.spaFallback
    this.#spa = spa
      ? {
          index: (spa === true ? undefined : spa.index) ?? 'index.html',
          exclude: (spa === true ? undefined : spa.exclude) ?? ['/api'],
        }
      : undefined
    this.#etag = options.etag ?? true
    this.#lastModified = options.lastModified ?? true
  }

  async serve(ctx: RequestContext, rawPath: string): Promise<void> {
    const requested = requestedFile(rawPath, this.#dotfiles)
    if (!requested.ok && requested.reason === 'invalid') {
      throw new HttpError(
        400,
        'KEEL_PATH_INVALID',
        'the path is malformed or leaves the static root (encoded separators, NUL, "..")',
      )
    }
    const realRoot = await this.#resolveRoot(ctx)
    if (realRoot !== undefined && requested.ok) {
      const found = await this.#find(realRoot, requested.segments)
      if (found) return this.#send(ctx, realRoot, found.file, found.name, this.#cacheControl(found.name))
    }
    const spa = this.#spa
    if (realRoot !== undefined && spa && this.#wantsSpa(ctx, spa.exclude)) {
      const page = await openInside(realRoot, join(realRoot, spa.index))
      // The page names hashed assets that change on every deploy: always revalidate it.
      if (page?.kind === 'file') return this.#send(ctx, realRoot, page, `/${spa.index}`, 'no-cache')
    }
    throw notFound(ctx)
  }

  /** The root's real path (symlinks resolved), once it exists; a missing root serves nothing. */
  async #resolveRoot(ctx: RequestContext): Promise<string | undefined> {
    this.#realRoot ??= await realpath(this.#root).catch(() => undefined)
    if (this.#realRoot === undefined && !this.#isRootMissingLogged) {
      this.#isRootMissingLogged = true
      ctx.log.warn({ root: this.#root }, 'static root does not exist; every file is 404 until it does')
    }
    return this.#realRoot
  }

  /** The file for the segments, or a directory's index; with the name its headers go by. */
  async #find(
    realRoot: string,
    segments: readonly string[],
  ): Promise<{ file: Extract<OpenedPath, { kind: 'file' }>; name: string } | undefined> {
    const path = pathUnder(realRoot, segments)
    if (path === undefined) return undefined
    const opened = await openInside(realRoot, path)
    const name = `/${segments.join('/')}`
    if (opened?.kind === 'file') return { file: opened, name }
    if (opened?.kind !== 'directory' || this.#index === false) return undefined
    const index = await openInside(realRoot, join(opened.path, this.#index))
    if (index?.kind !== 'file') return undefined
    return { file: index, name: `${name === '/' ? '' : name}/${this.#index}` }
  }

  #wantsSpa(ctx: RequestContext, exclude: readonly string[]): boolean {
    const accept = ctx.headers.accept
    if (typeof accept !== 'string' || !accept.includes('text/html')) return false
    const path = ctx.path
    return !exclude.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))
  }

  async #send(
    ctx: RequestContext,
    realRoot: string,
    original: Extract<OpenedPath, { kind: 'file' }>,
    name: string,
    cacheControl: string,
  ): Promise<void> {
    const { req, res } = ctx
    let { handle, stats } = original
    let encoding: string | undefined
    const headers: Record<string, string | number> = {
      'content-type': contentTypeFor(name, this.#mimeTypes),
      'cache-control': cacheControl,
      'accept-ranges': 'bytes',
    }
    if (this.#precompressed) {
      headers.vary = withVary(res, 'Accept-Encoding')
      for (const { coding, suffix } of acceptedCodings(req.headers['accept-encoding'])) {
        const variant = await openInside(realRoot, original.path + suffix)
        if (variant?.kind !== 'file') continue
        await handle.close()
        ;({ handle, stats } = variant)
        encoding = coding
        headers['content-encoding'] = coding
        break
      }
    }
    const etag = this.#etag ? etagFor(stats, encoding) : undefined
    const lastModified = this.#lastModified ? stats.mtime.toUTCString() : undefined
    if (etag) headers.etag = etag
    if (lastModified) headers['last-modified'] = lastModified

    if (isNotModified(req.headers, etag, this.#lastModified ? stats.mtimeMs : undefined)) {
      await handle.close()
      for (const name of ['content-type', 'accept-ranges', 'content-encoding']) delete headers[name]
      res.writeHead(304, headers)
      res.end()
      return
    }

    const size = stats.size
    const range =
      req.method === 'GET' && isRangeStillValid(req.headers, lastModified)
        ? parseRange(req.headers.range, size)
        : ({ kind: 'whole' } as const)
    if (range.kind === 'unsatisfiable') {
      await handle.close()
      throw new HttpError(
        416,
        'KEEL_RANGE_NOT_SATISFIABLE',
        `the range ${JSON.stringify(req.headers.range)} lies outside the ${size} bytes of ${ctx.path}`,
        { title: 'Range Not Satisfiable' },
        { 'content-range': `bytes */${size}` },
      )
    }
    const start = range.kind === 'partial' ? range.start : 0
    const end = range.kind === 'partial' ? range.end : size - 1
    headers['content-length'] = end - start + 1
    if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${size}`
    res.writeHead(range.kind === 'partial' ? 206 : 200, headers)
    if (req.method === 'HEAD' || size === 0) {
      await handle.close()
      res.end()
      return
    }
    try {
      // The stream owns the handle from here and closes it when done, failed or abandoned.
      await pipeline(handle.createReadStream({ start, end }), res)
    } catch (error) {
      // A client that goes away mid-file is normal; a file that fails to read is not.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        ctx.log.warn({ err: error, file: name }, 'static file failed while being sent')
      }
    }
  }
}

/** The response's `Vary` with `token` added once (a CORS guard may already vary by Origin). */
function withVary(res: ServerResponse, token: string): string {
  const current = res.getHeader('vary')
  const value = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current)
  if (value === '') return token
  if (
    value.split(',').some((part) => part.trim().toLowerCase() === token.toLowerCase() || part.trim() === '*')
  )
    return value
  return `${value}, ${token}`
}
