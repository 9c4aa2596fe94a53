import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Metafile } from 'esbuild'

/**
 * Folders of Keel's own that a bundled Keel module reads from disk next to itself, and where the
 * bundle finds them (relative to server.mjs). Bundling moves the module into server.mjs, so the
 * folder must move beside it.
 */
const keelAssets: ReadonlyArray<{ module: string; folder: string; to: string }> = [
  // The inspector's web UI: plain ES modules and CSS served to the browser (see ui-assets.ts).
  { module: 'inspector/ui-assets.ts', folder: 'ui', to: 'inspector-ui' },
]

/** The folders to copy for the Keel modules in `metafile`: `{ from, to }`, `to` relative to the output. */
export function keelAssetsOf(
  metafile: Metafile,
  workingDirectory: string,
): Array<{ from: string; to: string }> {
  const copies: Array<{ from: string; to: string }> = []
  for (const input of Object.keys(metafile.inputs)) {
    const normalized = input.replaceAll('\\', '/')
    for (const asset of keelAssets) {
      if (!normalized.endsWith(`/${asset.module}`)) continue
      const from = join(dirname(resolve(workingDirectory, input)), asset.folder)
      if (existsSync(from)) copies.push({ from, to: asset.to })
    }
  }
  return copies
}
