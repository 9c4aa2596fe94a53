import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { KeelError } from '../errors/index.ts'
import { checkReferences } from './check-references.ts'
import type { ResourceDefinition } from './definition.ts'
import { parseResourceSource } from './parse-resource.ts'
import { ResourceError } from './resource-error.ts'
import { type ResourceIssue, sortIssues } from './resource-issue.ts'

/** One resource file's text and the name it is shown by. */
export interface ResourceFileText {
  readonly file: string
  readonly text: string
}

/** Every resource of a directory that is valid, and every issue of the others. */
export interface ResourceSet {
  /** The valid definitions, by resource name. */
  readonly definitions: readonly ResourceDefinition[]
  /** Every issue of every file, in file and line order; empty when all are valid. */
  readonly issues: readonly ResourceIssue[]
  /** The files that were read. */
  readonly files: readonly string[]
}

/**
 * Checks a set of resource files together: each on its own ({@link parseResource}), then across
 * files (duplicate resource names, `ref`s and relations that name unknown resources or fields).
 * Never throws for what the files say; a definition is in the set only when its file has no issue.
 */
export function checkResourceFiles(files: readonly ResourceFileText[]): ResourceSet {
  const parsed = files.map(({ text, file }) => parseResourceSource(text, file))
  const crossIssues = checkReferences(parsed)
  const issues = [...parsed.flatMap((file) => file.issues), ...[...crossIssues.values()].flat()]
  const definitions = parsed
    .filter((file) => file.definition && file.issues.length === 0 && !crossIssues.has(file.file))
    .map((file) => file.definition!)
    .sort((a, b) => a.name.localeCompare(b.name))
  return { definitions, issues: sortIssues(issues), files: files.map((file) => file.file) }
}

/**
 * Reads every `*.yaml` / `*.yml` file of `dir` (not its subdirectories) and checks them with
 * {@link checkResourceFiles}. Rejects with `KEEL_RESOURCE_INVALID` only when the directory
 * cannot be read.
 */
export async function readResources(dir = 'resources'): Promise<ResourceSet> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/i.test(entry.name))
      .map((entry) => entry.name)
      .sort((a, b) => a.localeCompare(b))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new KeelError(
      'KEEL_RESOURCE_INVALID',
      `resources: cannot read the directory ${dir}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? (error as Error).message)}`,
      { cause: error },
    )
  }
  const files = await Promise.all(
    names.map(async (name) => ({
      file: shown(join(dir, name)),
      text: await readFile(join(dir, name), 'utf8'),
    })),
  )
  return checkResourceFiles(files)
}

/**
 * Loads the resources of `dir` (default `resources`): every definition, or a {@link ResourceError}
 * (`KEEL_RESOURCE_INVALID`) listing every issue of every file.
 *
 * @example
 * ```ts
 * const resources = await loadResources('resources')
 * const todos = resources.find((resource) => resource.name === 'todos')
 * ```
 */
export async function loadResources(dir = 'resources'): Promise<readonly ResourceDefinition[]> {
  const set = await readResources(dir)
  if (set.issues.length > 0) throw new ResourceError(set.issues)
  return set.definitions
}

/** A path as users see it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') ? rel : path
}
