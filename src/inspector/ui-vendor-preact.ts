import { createRequire } from 'node:module'
import { dirname } from 'node:path'

/**
 * The installed preact package's folder: the inspector UI serves its browser builds
 * (`dist/preact.module.js`, `hooks/dist/hooks.module.js`) from there, never from a CDN.
 * Resolved at run time, so `keel build` keeps preact in `node_modules` (see
 * `deploy/build/runtime-packages.ts`).
 */
export const preactFolder = (): string =>
  dirname(createRequire(import.meta.url).resolve('preact/package.json'))
