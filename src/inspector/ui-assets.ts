import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { builtInMimeTypes, contentTypeFor } from '../http/static/mime-types.ts'
import { htmFolder } from './ui-vendor-htm.ts'
import { preactFolder } from './ui-vendor-preact.ts'

/** A file of the inspector UI, held in memory once read. */
export interface UiAsset {
  readonly body: Buffer
  /** The gzipped body (every UI file is text). */
  readonly gzipped: Buffer
  readonly contentType: string
  /** Strong: a digest of the bytes. */
  readonly etag: string
}

/** A browser module of a package the UI imports, as served under `<path>/vendor/<name>`. */
interface VendorFile {
  /** The bare specifier the UI's modules import it by (the import map's key); none for source maps. */
  readonly specifier?: string
  readonly folder: () => string
  /** Path inside the package folder. */
  readonly file: string
}

/**
 * The only package files served: the ES module builds the UI imports (and their source maps,
 * which devtools ask for). Named after the package's own files, so the maps' relative
 * `sourceMappingURL`s resolve.
 */
const vendorFiles: Readonly<Record<string, VendorFile>> = {
  'preact.module.js': { specifier: 'preact', folder: preactFolder, file: 'dist/preact.module.js' },
  'preact.module.js.map': { folder: preactFolder, file: 'dist/preact.module.js.map' },
  'hooks.module.js': { specifier: 'preact/hooks', folder: preactFolder, file: 'hooks/dist/hooks.module.js' },
  'hooks.module.js.map': { folder: preactFolder, file: 'hooks/dist/hooks.module.js.map' },
  'htm.module.js': { specifier: 'htm', folder: htmFolder, file: 'dist/htm.module.js' },
}

/** File types of the UI's own folder that are served; anything else there is not. */
const uiExtensions = new Set(['.js', '.css', '.svg'])

/**
 * The UI's own folder: `ui/` beside this module when running from source, the package's
 * `src/inspector/ui/` when running from the compiled `dist/inspector/` (the package ships src),
 * or `inspector-ui/` beside a bundle (`server.mjs`) that has a copy of it.
 */
export function uiFolder(): string | undefined {
  for (const candidate of ['./ui/', '../../src/inspector/ui/', './inspector-ui/']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(join(path, 'app.js'))) return path
  }
  return undefined
}

const versions = new Map<() => string, string>()
/** A package's version: vendor URLs carry it, so browsers may keep them for good. */
function versionOf(folder: () => string): string {
  let version = versions.get(folder)
  if (version === undefined) {
    version = (JSON.parse(readFileSync(join(folder(), 'package.json'), 'utf8')) as { version: string })
      .version
    versions.set(folder, version)
  }
  return version
}

/** The version a vendor file's URL carries (`?v=`), or undefined for a name that is not one. */
export function vendorVersion(name: string): string | undefined {
  const vendor = vendorFiles[name]
  return vendor ? versionOf(vendor.folder) : undefined
}

/** The import map's entries: each bare specifier the UI imports → its URL under `vendorPath`. */
export function vendorImports(vendorPath: string): Record<string, string> {
  const imports: Record<string, string> = {}
  for (const [name, vendor] of Object.entries(vendorFiles)) {
    if (vendor.specifier === undefined) continue
    imports[vendor.specifier] = `${vendorPath}/${name}?v=${encodeURIComponent(versionOf(vendor.folder))}`
  }
  return imports
}

/**
 * Serves the inspector UI's files from memory: its own modules and stylesheet (every `.js`,
 * `.css` and `.svg` of the UI folder, listed once) and the vendor modules above, read from the
 * installed packages. Each file is read and gzipped on first request; a failed read is not kept.
 */
export class UiAssets {
  readonly #cache = new Map<string, Promise<UiAsset>>()
  readonly #folder: string | undefined
  #names: Promise<ReadonlySet<string>> | undefined

  /** `folder`: the UI's folder (default: found beside this module); one without `app.js` serves nothing. */
  constructor(folder: string | undefined = uiFolder()) {
    this.#folder = folder !== undefined && existsSync(join(folder, 'app.js')) ? folder : undefined
  }

  /** Whether the UI's own files were found (they ship in the package's `src/inspector/ui/`). */
  get isInstalled(): boolean {
    return this.#folder !== undefined
  }

  /** The UI file called `name` (`app.js`, `views/routes.js`), or undefined when there is none. */
  async ui(name: string): Promise<UiAsset | undefined> {
    const folder = this.#folder
    if (folder === undefined || !(await this.#uiNames()).has(name)) return undefined
    return this.#load(`ui:${name}`, () => readFile(join(folder, ...name.split('/'))), name)
  }

  /** The vendor file called `name` (`preact.module.js`), or undefined when there is none. */
  vendor(name: string): Promise<UiAsset> | undefined {
    const vendor = Object.hasOwn(vendorFiles, name) ? vendorFiles[name] : undefined
    if (!vendor) return undefined
    return this.#load(`vendor:${name}`, () => readFile(join(vendor.folder(), vendor.file)), name)
  }

  /** Every UI file name, relative to the UI folder with `/` separators, sorted. */
  async uiNames(): Promise<string[]> {
    return [...(await this.#uiNames())].sort()
  }

  #uiNames(): Promise<ReadonlySet<string>> {
    const folder = this.#folder
    if (folder === undefined) return Promise.resolve(new Set())
    this.#names ??= readdir(folder, { recursive: true, withFileTypes: true }).then(
      (entries) =>
        new Set(
          entries
            .filter(
              (entry) => entry.isFile() && uiExtensions.has(entry.name.slice(entry.name.lastIndexOf('.'))),
            )
            .map((entry) => join(entry.parentPath, entry.name).slice(folder.length).split(sep).join('/'))
            .map((name) => name.replace(/^\//, '')),
        ),
    )
    return this.#names
  }

  #load(key: string, read: () => Promise<Buffer>, name: string): Promise<UiAsset> {
    let asset = this.#cache.get(key)
    if (!asset) {
      asset = read().then(async (body) => ({
        body,
        gzipped: await promisify(gzip)(body),
        contentType: contentTypeFor(name.endsWith('.map') ? 'x.json' : name, builtInMimeTypes),
        etag: etagOf(body),
      }))
      this.#cache.set(key, asset)
      asset.catch(() => this.#cache.delete(key))
    }
    return asset
  }
}

/** A strong ETag: the first 27 characters of the base64url SHA-256 of the bytes. */
export const etagOf = (body: string | Buffer): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
