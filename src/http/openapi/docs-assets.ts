import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'

/** A file the docs page loads, held in memory once read. */
export interface DocsAsset {
  body: Buffer
  /** Gzipped body, for text assets. */
  gzipped?: Buffer
  contentType: string
  etag: string
}

const types: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
}

/** The swagger-ui-dist files the page uses; nothing else in the package is served. */
const DIST_FILES = [
  'swagger-ui.css',
  'swagger-ui.css.map',
  'swagger-ui-bundle.js',
  'index.css',
  'favicon-16x16.png',
  'favicon-32x32.png',
] as const

/** Our own script, which starts Swagger UI (a file, not inline, so the page's CSP forbids inline scripts). */
export const INIT_SCRIPT = 'keel-docs.js'

const initScript = `'use strict'
window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui')
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-url'),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  })
})
`

const distDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))

let version: string | undefined

/** The version of swagger-ui-dist: asset URLs carry it, so browsers may cache them for good. */
export function swaggerUiVersion(): string {
  version ??= (JSON.parse(readFileSync(join(distDir(), 'package.json'), 'utf8')) as { version: string })
    .version
  return version
}

/**
 * Serves the files of the docs page from the installed swagger-ui-dist package (no CDN): an
 * allowlist of names, read and gzipped once, on first request.
 */
export class DocsAssets {
  readonly #cache = new Map<string, Promise<DocsAsset>>()

  /** Whether `name` is one of the served files. */
  has(name: string): boolean {
    return name === INIT_SCRIPT || (DIST_FILES as readonly string[]).includes(name)
  }

  /** The asset called `name`; call {@link has} first. */
  get(name: string): Promise<DocsAsset> {
    let asset = this.#cache.get(name)
    if (!asset) {
      asset = load(name)
      this.#cache.set(name, asset)
      // A failed read is not cached: the next request tries again.
      asset.catch(() => this.#cache.delete(name))
    }
    return asset
  }
}

async function load(name: string): Promise<DocsAsset> {
  const body = name === INIT_SCRIPT ? Buffer.from(initScript) : await readFile(join(distDir(), name))
  const contentType = types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream'
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  const gzipped = contentType.startsWith('image/') ? undefined : await promisify(gzip)(body)
  return { body, gzipped, contentType, etag }
}
