/**
 * Packages Keel cannot bundle, and why. Each reads files of its own at run time, so the bundle
 * imports it from `node_modules` beside `server.mjs` and `dist/package.json` lists it.
 */
export const unbundleablePackages: Readonly<Record<string, string>> = {
  // Loads postgres.wasm and pglite.data from its own folder.
  '@electric-sql/pglite': 'loads its WebAssembly and data files from its own folder',
  // Keel loads it through createRequire (so the CommonJS build of pg is used); esbuild cannot follow that.
  'pg-boss': 'loaded through createRequire by keel/jobs',
  // The docs page serves the package's own files (swagger-ui.css, swagger-ui-bundle.js).
  'swagger-ui-dist': 'the OpenAPI docs page serves its files from the package folder',
  // The inspector UI serves their browser builds (preact.module.js, htm.module.js) to the browser.
  preact: 'the inspector UI serves its browser modules from the package folder',
  htm: 'the inspector UI serves its browser module from the package folder',
}

/**
 * Keel modules that load a package at run time through `createRequire`, which the metafile does
 * not show as an import: when the module is in the bundle, the package is a dependency.
 * Paths are relative to Keel's package folder (source build or compiled build).
 */
export const runtimeLoads: ReadonlyArray<{ readonly modules: readonly string[]; readonly pkg: string }> = [
  { modules: ['src/jobs/load-pg-boss.ts', 'dist/jobs/load-pg-boss.js'], pkg: 'pg-boss' },
  {
    modules: ['src/http/openapi/docs-assets.ts', 'dist/http/openapi/docs-assets.js'],
    pkg: 'swagger-ui-dist',
  },
  { modules: ['src/data/pglite-snapshot.ts', 'dist/data/pglite-snapshot.js'], pkg: '@electric-sql/pglite' },
  { modules: ['src/inspector/ui-vendor-preact.ts', 'dist/inspector/ui-vendor-preact.js'], pkg: 'preact' },
  { modules: ['src/inspector/ui-vendor-htm.ts', 'dist/inspector/ui-vendor-htm.js'], pkg: 'htm' },
]

/** Where runApp lives in Keel's package: finding it in the bundle finds Keel's folder. */
export const runAppModules: readonly string[] = ['src/app/run.ts', 'dist/app/run.js']

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}
