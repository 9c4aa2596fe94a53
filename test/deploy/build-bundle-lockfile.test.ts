import { describe, expect, it } from 'vitest'
import { bundleLockfile, resolveDependency } from '../../src/deploy/build/bundle-lockfile.ts'

const integrity = (name: string) => `sha512-${name}==`

/**
 * A small project lockfile: the app depends on `a` and `opt-user`; `a` needs `b` 2 (a nested copy,
 * since the project itself has `b` 1 at the top) and `c`; `c` (nested under `a`) needs `b` too
 * and peers with `d`; `opt-user` has optional `e`; `vitest` and `tiny` are dev tools.
 */
const projectLock = {
  name: 'shop',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': {
      name: 'shop',
      version: '1.0.0',
      dependencies: { a: '^1.0.0', b: '^1.0.0', 'opt-user': '^1.0.0' },
      devDependencies: { vitest: '^4.0.0' },
    },
    'node_modules/a': {
      version: '1.2.0',
      resolved: 'https://registry.npmjs.org/a/-/a-1.2.0.tgz',
      integrity: integrity('a'),
      dev: true,
      license: 'MIT',
      dependencies: { b: '^2.0.0', c: '^1.0.0' },
    },
    'node_modules/a/node_modules/b': {
      version: '2.0.0',
      resolved: 'https://registry.npmjs.org/b/-/b-2.0.0.tgz',
      integrity: integrity('b2'),
      devOptional: true,
    },
    'node_modules/a/node_modules/c': {
      version: '1.0.0',
      resolved: 'https://registry.npmjs.org/c/-/c-1.0.0.tgz',
      integrity: integrity('c'),
      dependencies: { b: '*' },
      peerDependencies: { d: '^1.0.0', 'not-installed': '*' },
      peerDependenciesMeta: { 'not-installed': { optional: true } },
    },
    'node_modules/b': {
      version: '1.0.0',
      resolved: 'https://registry.npmjs.org/b/-/b-1.0.0.tgz',
      integrity: integrity('b1'),
    },
    'node_modules/d': {
      version: '1.1.0',
      resolved: 'https://registry.npmjs.org/d/-/d-1.1.0.tgz',
      integrity: integrity('d'),
      peer: true,
    },
    'node_modules/e': {
      version: '3.0.0',
      resolved: 'https://registry.npmjs.org/e/-/e-3.0.0.tgz',
      integrity: integrity('e'),
      optional: true,
      os: ['linux'],
    },
    'node_modules/opt-user': {
      version: '1.0.0',
      resolved: 'https://registry.npmjs.org/opt-user/-/opt-user-1.0.0.tgz',
      integrity: integrity('opt-user'),
      optionalDependencies: { e: '^3.0.0', 'absent-on-this-platform': '*' },
    },
    'node_modules/tiny': { version: '0.1.0', integrity: integrity('tiny'), dev: true },
    'node_modules/vitest': {
      version: '4.0.0',
      integrity: integrity('vitest'),
      dev: true,
      dependencies: { tiny: '*' },
    },
  },
}

/** A copy of the project lockfile to change. */
const changedLock = () =>
  structuredClone(projectLock) as unknown as { packages: Record<string, Record<string, unknown>> }

const root = (dependencies: Record<string, string>) => ({ name: 'shop', version: '1.0.0', dependencies })

/** The lockfile of a bundle that loads `dependencies`, or the test fails with the reason. */
function lockfileFor(dependencies: Record<string, string>, project: unknown = projectLock) {
  const result = bundleLockfile(project, root(dependencies), 'package-lock.json')
  if ('reason' in result) throw new Error(result.reason)
  return result.lockfile
}

/** The reason there is no lockfile, or the test fails. */
function reasonFor(dependencies: Record<string, string>, project: unknown = projectLock): string {
  const result = bundleLockfile(project, root(dependencies), 'package-lock.json')
  if ('lockfile' in result) throw new Error('a lockfile was written')
  return result.reason
}

describe('the lockfile of a bundle, cut from the project lockfile', () => {
  it('resolves a dependency from the nested node_modules first, then walking up to the top level', () => {
    const { packages } = projectLock
    expect(resolveDependency(packages, 'node_modules/a', 'b')).toBe('node_modules/a/node_modules/b')
    // c, nested under a, finds a's copy of b, not the top-level one.
    expect(resolveDependency(packages, 'node_modules/a/node_modules/c', 'b')).toBe(
      'node_modules/a/node_modules/b',
    )
    expect(resolveDependency(packages, 'node_modules/a/node_modules/c', 'd')).toBe('node_modules/d')
    expect(resolveDependency(packages, 'node_modules/opt-user', 'b')).toBe('node_modules/b')
    expect(resolveDependency(packages, 'node_modules/a', 'nowhere')).toBeUndefined()
    // Scoped names: the walk steps over `@scope/name` as one package.
    const scoped = { 'node_modules/@s/x': {}, 'node_modules/@s/x/node_modules/y': {}, 'node_modules/z': {} }
    expect(resolveDependency(scoped, 'node_modules/@s/x/node_modules/y', 'z')).toBe('node_modules/z')
    expect(resolveDependency(scoped, 'node_modules/@s/x', 'y')).toBe('node_modules/@s/x/node_modules/y')
  })

  it('keeps the external packages and, transitively, their dependencies with their paths, and nothing else', () => {
    const lockfile = lockfileFor({ a: '1.2.0' })
    expect(Object.keys(lockfile.packages)).toEqual([
      '',
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/a/node_modules/c',
      // A peer dependency the lock holds is installed; an optional one it does not hold is skipped.
      'node_modules/d',
    ])
    // The nested copy wins: the top-level b (1.0.0) is not what a loads, so it is not kept.
    expect(lockfile.packages['node_modules/a/node_modules/b']).toMatchObject({
      version: '2.0.0',
      integrity: integrity('b2'),
    })
    expect(lockfile).toMatchObject({ name: 'shop', version: '1.0.0', lockfileVersion: 3, requires: true })
    // The root entry is the bundle's package.json: exact versions, no devDependencies.
    expect(lockfile.packages['']).toEqual({ name: 'shop', version: '1.0.0', dependencies: { a: '1.2.0' } })
  })

  it('drops dev, devOptional and peer: in the bundle everything is a runtime dependency', () => {
    const { packages } = lockfileFor({ a: '1.2.0' })
    expect(packages['node_modules/a']).toEqual({
      version: '1.2.0',
      resolved: 'https://registry.npmjs.org/a/-/a-1.2.0.tgz',
      integrity: integrity('a'),
      license: 'MIT',
      dependencies: { b: '^2.0.0', c: '^1.0.0' },
    })
    for (const entry of Object.values(packages)) {
      expect(entry).not.toHaveProperty('dev')
      expect(entry).not.toHaveProperty('devOptional')
      expect(entry).not.toHaveProperty('peer')
      expect(entry).not.toHaveProperty('optional')
    }
  })

  it('keeps optional on what only optional dependencies reach, with its platform fields', () => {
    const { packages } = lockfileFor({ 'opt-user': '1.0.0' })
    expect(Object.keys(packages)).toEqual(['', 'node_modules/e', 'node_modules/opt-user'])
    expect(packages['node_modules/e']).toEqual({
      version: '3.0.0',
      resolved: 'https://registry.npmjs.org/e/-/e-3.0.0.tgz',
      integrity: integrity('e'),
      optional: true,
      os: ['linux'],
    })
    expect(packages['node_modules/opt-user']).not.toHaveProperty('optional')
  })

  it('marks optional by how the bundle needs a package, not by how the project did', () => {
    // b 2 was devOptional in the project; a requires it, so in the bundle it is not optional.
    const project = changedLock()
    project.packages['node_modules/opt-user']!.optionalDependencies = { e: '^3.0.0', b: '^1.0.0' }
    const { packages } = lockfileFor({ a: '1.2.0', 'opt-user': '1.0.0' }, project)
    expect(packages['node_modules/a/node_modules/b']).not.toHaveProperty('optional')
    // b 1 at the top: reached only through opt-user's optional dependency.
    expect(packages['node_modules/b']).toMatchObject({ version: '1.0.0', optional: true })
  })

  it('writes no lockfile when the lock does not hold an external package, naming it', () => {
    expect(reasonFor({ a: '1.2.0', 'left-pad': '1.3.0' })).toBe(
      'package-lock.json has no entry for left-pad (node_modules/left-pad)',
    )
  })

  it('writes no lockfile when the lock pins another version than the one installed', () => {
    expect(reasonFor({ a: '1.3.0' })).toBe(
      'package-lock.json pins a 1.2.0, but 1.3.0 is installed (run npm install to bring them in line)',
    )
  })

  it('writes no lockfile when a dependency has no entry, or is a link to a workspace', () => {
    const missing = changedLock()
    delete missing.packages['node_modules/d']
    delete missing.packages['node_modules/a/node_modules/b']
    delete missing.packages['node_modules/b']
    expect(reasonFor({ a: '1.2.0' }, missing)).toBe(
      'package-lock.json has no entry for b, a dependency of node_modules/a',
    )
    const linked = changedLock()
    linked.packages['node_modules/d'] = { resolved: 'packages/d', link: true }
    expect(reasonFor({ a: '1.2.0' }, linked)).toBe(
      'package-lock.json: node_modules/d is a link to packages/d, which npm ci cannot install in the bundle',
    )
  })

  it("writes no lockfile from npm 6's lockfile (version 1, no packages map)", () => {
    const v1 = { name: 'shop', lockfileVersion: 1, dependencies: { a: { version: '1.2.0' } } }
    expect(reasonFor({ a: '1.2.0' }, v1)).toBe(
      'package-lock.json is lockfileVersion 1, without the packages map of npm 7 and later (run npm install with npm 7 or later to upgrade it)',
    )
  })
})
