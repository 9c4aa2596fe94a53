import { access, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** The root package of the bundle's lockfile: what `dist/package.json` says. */
export interface BundleRootPackage {
  readonly name: string
  readonly version: string
  /** Package name → exact version, as the project installed them. */
  readonly dependencies: Readonly<Record<string, string>>
}

/** `package-lock.json` of the bundle, in npm's lockfileVersion 3 format. */
export interface BundleLockfile {
  readonly name: string
  readonly version: string
  readonly lockfileVersion: 3
  readonly requires: true
  /** Path (`node_modules/a/node_modules/b`) → entry, `""` being the bundle itself. */
  readonly packages: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

/** The bundle's lockfile, or why the build cannot write one. */
export type BundleLockfileResult = { readonly lockfile: BundleLockfile } | { readonly reason: string }

/**
 * An entry of a lockfile's `packages` map (lockfileVersion 2 and 3). Only what the subset reads is
 * typed; `resolved`, `integrity`, `os`, `cpu`, `engines`, `bin`… are copied as they are.
 */
interface LockEntry {
  readonly version?: unknown
  readonly link?: unknown
  readonly resolved?: unknown
  readonly dependencies?: Readonly<Record<string, string>>
  readonly optionalDependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>
  readonly [field: string]: unknown
}

/** A dependency of an entry, as npm's tree sees it. */
interface Edge {
  readonly name: string
  readonly isOptional: boolean
  readonly isPeer: boolean
}

// How the project used a package (dev only, optional…). In the bundle everything runs in
// production, and which entries are optional is worked out again for the subset.
const usageFlags = new Set(['dev', 'devOptional', 'peer', 'optional'])

/**
 * The part of the project's lockfile that installs `root.dependencies`, so `npm ci --omit=dev` in
 * the bundle gets exactly the versions the project pinned: the entries of those packages and,
 * transitively, of their dependencies, optional dependencies and the peer dependencies the lock
 * holds. A dependency resolves as Node and npm resolve it, from the dependent's own
 * `node_modules` (`node_modules/a/node_modules/b`) up to the top level (`node_modules/b`). Keys stay
 * as they are, so npm lays out the project's tree, cut down. `dev`, `devOptional` and `peer` are
 * dropped; `optional` marks the entries only optional dependencies reach.
 *
 * Written by hand: npm has no command or API that takes part of a lockfile (`npm ci` and
 * `@npmcli/arborist` install or write whole trees), and the format is plain JSON that npm
 * documents (docs.npmjs.com, package-lock.json).
 *
 * `project` is the parsed lockfile, `file` how messages name it. When it is npm 6's (version 1, no
 * `packages` map), does not hold a package at the version installed (node_modules and the
 * lockfile disagree) or holds a link (a workspace), the result is a reason instead.
 */
export function bundleLockfile(
  project: unknown,
  root: BundleRootPackage,
  file: string,
): BundleLockfileResult {
  const { lockfileVersion, packages } = (project ?? {}) as { lockfileVersion?: unknown; packages?: unknown }
  if (typeof lockfileVersion !== 'number' || lockfileVersion < 2 || !isRecord(packages))
    return {
      reason: `${file} is lockfileVersion ${String(lockfileVersion ?? 'unknown')}, without the packages map of npm 7 and later (run npm install with npm 7 or later to upgrade it)`,
    }
  const entries = packages as Readonly<Record<string, LockEntry>>
  const starts: string[] = []
  for (const [name, version] of Object.entries(root.dependencies)) {
    const key = `node_modules/${name}`
    const entry = entries[key]
    if (!isRecord(entry)) return { reason: `${file} has no entry for ${name} (${key})` }
    // A link has no version of its own; reach() names it.
    if (entry.version !== version && entry.link !== true)
      return {
        reason: `${file} pins ${name} ${String(entry.version)}, but ${version} is installed (run npm install to bring them in line)`,
      }
    starts.push(key)
  }
  const reached = reach(entries, starts, () => true, file)
  if (typeof reached === 'string') return { reason: reached }
  // Fewer edges than the walk above, so nothing it did not already accept.
  const required = reach(entries, starts, (edge) => !edge.isOptional, file) as Set<string>

  const subset: Record<string, Record<string, unknown>> = {
    '': { name: root.name, version: root.version, dependencies: { ...root.dependencies } },
  }
  // The project's order is npm's order, so the file reads like one npm wrote.
  for (const [key, entry] of Object.entries(entries)) {
    if (!reached.has(key)) continue
    const kept = Object.fromEntries(Object.entries(entry).filter(([field]) => !usageFlags.has(field)))
    subset[key] = required.has(key) ? kept : { ...kept, optional: true }
  }
  return {
    lockfile: {
      name: root.name,
      version: root.version,
      lockfileVersion: 3,
      requires: true,
      packages: subset,
    },
  }
}

/**
 * The keys reachable from `starts` through the edges `follows` accepts; a message instead when a
 * required dependency has no entry, or an entry is a link (a workspace or `file:` folder, which
 * the bundle does not have).
 */
function reach(
  entries: Readonly<Record<string, LockEntry>>,
  starts: readonly string[],
  follows: (edge: Edge) => boolean,
  file: string,
): Set<string> | string {
  const seen = new Set<string>()
  const pending = [...starts]
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    if (seen.has(key)) continue
    seen.add(key)
    const entry = entries[key]!
    if (entry.link === true)
      return `${file}: ${key} is a link to ${String(entry.resolved)}, which npm ci cannot install in the bundle`
    for (const edge of edgesOf(entry)) {
      if (!follows(edge)) continue
      const target = resolveDependency(entries, key, edge.name)
      if (target !== undefined) pending.push(target)
      else if (!edge.isOptional && !edge.isPeer)
        return `${file} has no entry for ${edge.name}, a dependency of ${key}`
    }
  }
  return seen
}

/** What an entry depends on; an optional dependency overrides a regular one of the same name, as in npm. */
function edgesOf(entry: LockEntry): Edge[] {
  const edges = new Map<string, Edge>()
  for (const name of Object.keys(entry.peerDependencies ?? {}))
    edges.set(name, { name, isOptional: entry.peerDependenciesMeta?.[name]?.optional === true, isPeer: true })
  for (const name of Object.keys(entry.dependencies ?? {}))
    edges.set(name, { name, isOptional: false, isPeer: false })
  for (const name of Object.keys(entry.optionalDependencies ?? {}))
    edges.set(name, { name, isOptional: true, isPeer: false })
  return [...edges.values()]
}

/**
 * The key `name` resolves to from the package at `from`: `from/node_modules/name`, then the same
 * in each enclosing package, up to the top-level `node_modules/name`. Undefined when none exists.
 */
export function resolveDependency(
  entries: Readonly<Record<string, unknown>>,
  from: string,
  name: string,
): string | undefined {
  let base = from
  for (;;) {
    const key = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`
    if (isRecord(entries[key])) return key
    if (base === '') return undefined
    const parent = base.lastIndexOf('/node_modules/')
    base = parent === -1 ? '' : base.slice(0, parent)
  }
}

/**
 * The bundle's lockfile from the project's: the project folder is the first of `directories` with
 * a package.json (as for the service's name), else the last; its lockfile is the nearest
 * `package-lock.json` from there up (a workspace keeps one at its root). `label` gives a path as
 * messages show it.
 */
export async function readBundleLockfile(options: {
  readonly directories: readonly string[]
  readonly root: BundleRootPackage
  readonly label: (path: string) => string
}): Promise<BundleLockfileResult> {
  let project = options.directories.at(-1)!
  for (const directory of options.directories) {
    const hasManifest = await access(join(directory, 'package.json')).then(
      () => true,
      () => false,
    )
    if (hasManifest) {
      project = directory
      break
    }
  }
  for (let directory = project; ; directory = dirname(directory)) {
    const path = join(directory, 'package-lock.json')
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        return { reason: `${options.label(path)} cannot be read (${code ?? (error as Error).message})` }
      if (dirname(directory) === directory)
        return { reason: `no package-lock.json in ${project} or a folder above it` }
      continue
    }
    let lock: unknown
    try {
      lock = JSON.parse(text)
    } catch {
      return { reason: `${options.label(path)} is not valid JSON` }
    }
    return bundleLockfile(lock, options.root, options.label(path))
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
