import { createRequire } from 'node:module'
import { dirname } from 'node:path'

/**
 * The installed htm package's folder: the inspector UI serves its browser build
 * (`dist/htm.module.js`) from there. htm does not export its package.json, so its main entry
 * (`dist/htm.js`) is resolved and the folder above taken. Resolved at run time, so `keel build`
 * keeps htm in `node_modules` (see `deploy/build/runtime-packages.ts`).
 */
export const htmFolder = (): string => dirname(dirname(createRequire(import.meta.url).resolve('htm')))
