import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { withEnvironment } from '../app/import-entry.ts'
import type { App } from '../app/index.ts'
import { placeholderFor } from '../deploy/placeholder.ts'
import { loadEntry, withProfile } from './load-entry.ts'

// `${NAME}` or `${NAME:default}`; `$${` is an escaped literal.
const reference = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}/g

/**
 * Loads the app of `entry` in `profile` to describe its deployment, independent of the shell that
 * runs the generator: each variable keel.yaml needs without a default (the secrets of a prod
 * profile) holds a placeholder while the entry loads, which the generators turn back into a
 * `${NAME}` reference, and each variable with a default is hidden so the default applies. The
 * environment is restored afterwards. keel.yaml is looked for beside the entry and in the working
 * directory, the two places an app's root usually is.
 */
export async function loadAppForDeploy(entry: string, profile: string): Promise<App> {
  const references = new Map<string, boolean>()
  for (const directory of new Set([dirname(resolve(entry)), process.cwd()])) {
    for (const [name, hasDefault] of variableReferences(join(directory, 'keel.yaml'))) {
      // A variable required anywhere in the file is required: the profile may be the place.
      references.set(name, (references.get(name) ?? true) && hasDefault)
    }
  }
  // Placeholders for the required ones; the ones with a default are unset so the default applies.
  const vars = Object.fromEntries(
    [...references].map(([name, hasDefault]) => [name, hasDefault ? undefined : placeholderFor(name)]),
  )
  return withEnvironment(vars, () => withProfile(profile, () => loadEntry(entry)))
}

/** Each variable a config file refers to, and whether that reference gives a default. */
function variableReferences(file: string): Array<[string, boolean]> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  // Comments may show examples of references; only values count.
  const values = text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .join('\n')
  return [...values.matchAll(reference)].map((match) => [match[1]!, match[2] !== undefined])
}
