import { didYouMean } from '../config/did-you-mean.ts'
import { formatPath, type PathSegment, type ResourceIssue } from './resource-issue.ts'
import type { YamlSource } from './yaml-source.ts'

/** A plain YAML mapping. */
export type Mapping = Record<string, unknown>

/**
 * Collects the issues of one file while its parts are checked, each located through the
 * {@link YamlSource}. The readers return `undefined` after reporting a value they cannot use,
 * so checking goes on and every issue of the file is found in one pass.
 */
export class IssueCollector {
  readonly issues: ResourceIssue[] = []

  constructor(readonly source: YamlSource) {}

  /** Records an issue at the value of `path` (or at its key, for keys that should not be there). */
  add(path: readonly PathSegment[], message: string, hint: string, part: 'key' | 'value' = 'value'): void {
    const { line, column } = this.source.positionOf(path, part)
    this.issues.push({ file: this.source.file, line, column, path: formatPath(path), message, hint })
  }

  /** `value` as a mapping, or an issue saying what it should look like. */
  mapping(value: unknown, path: readonly PathSegment[], example: string): Mapping | undefined {
    if (isMapping(value)) return value
    this.add(path, `expected a mapping, got ${describe(value)}`, `write it as ${example}`)
    return undefined
  }

  /** Reports every key of `mapping` not in `allowed` (fail closed: an unknown key is never ignored). */
  knownKeys(
    mapping: Mapping,
    path: readonly PathSegment[],
    allowed: readonly string[],
    misplaced: (key: string) => string | undefined = () => undefined,
  ): void {
    for (const key of Object.keys(mapping)) {
      if (allowed.includes(key)) continue
      const elsewhere = misplaced(key)
      const hint = elsewhere ?? nameHint(key, allowed, 'allowed keys')
      this.add([...path, key], `unknown key "${key}"`, hint, 'key')
    }
  }

  /** A boolean flag; `fallback` when absent. */
  boolean(value: unknown, path: readonly PathSegment[], fallback = false): boolean {
    if (value === undefined) return fallback
    if (typeof value === 'boolean') return value
    this.add(path, `expected true or false, got ${describe(value)}`, 'write true or false (unquoted)')
    return fallback
  }

  /** A non-empty string, or an issue. */
  string(value: unknown, path: readonly PathSegment[], hint: string): string | undefined {
    if (typeof value === 'string' && value.length > 0) return value
    this.add(path, `expected a non-empty string, got ${describe(value)}`, hint)
    return undefined
  }

  /** A positive integer, or an issue. */
  positiveInteger(value: unknown, path: readonly PathSegment[], hint: string): number | undefined {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
    this.add(path, `expected a positive integer, got ${describe(value)}`, hint)
    return undefined
  }

  /**
   * A list of strings without duplicates (a single string counts as a list of one). Reports
   * entries that are not strings and repeated ones; returns the usable entries with their index.
   */
  stringList(
    value: unknown,
    path: readonly PathSegment[],
    example: string,
  ): { value: string; index: number }[] | undefined {
    if (typeof value === 'string') return [{ value, index: -1 }]
    if (!Array.isArray(value)) {
      this.add(path, `expected a list, got ${describe(value)}`, `write it as ${example}`)
      return undefined
    }
    const seen = new Set<string>()
    const entries: { value: string; index: number }[] = []
    value.forEach((entry, index) => {
      if (typeof entry !== 'string' || entry.length === 0) {
        this.add([...path, index], `expected a name, got ${describe(entry)}`, `write it as ${example}`)
      } else if (seen.has(entry)) {
        this.add([...path, index], `"${entry}" is listed twice`, 'list each entry once')
      } else {
        seen.add(entry)
        entries.push({ value: entry, index })
      }
    })
    return entries
  }
}

/** The path of a list entry; `index` -1 stands for a single string written instead of a list. */
export const entryPath = (path: readonly PathSegment[], index: number): PathSegment[] =>
  index < 0 ? [...path] : [...path, index]

/** True for a plain YAML mapping. */
export const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The likely intended name, else the names there are. */
export function nameHint(input: string, candidates: readonly string[], what: string): string {
  // An abbreviation (`belongs` for `belongs_to`) is as likely a slip as a typo.
  const prefixed = input.length >= 3 ? candidates.filter((c) => c.startsWith(input)) : []
  const guess = didYouMean(input, candidates) ?? (prefixed.length === 1 ? prefixed[0] : undefined)
  if (guess !== undefined) return `did you mean "${guess}"?`
  return candidates.length > 0 ? `${what}: ${candidates.join(', ')}` : `there are no ${what}`
}

/** A value as shown in a message: its literal for scalars, its kind for lists and mappings. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return JSON.stringify(value)
}

/** `a string`, `an integer`, `a uuid`: a type name with its article (no type starts with a vowel-sounding u). */
export const article = (word: string): string => `${/^[aeio]/.test(word) ? 'an' : 'a'} ${word}`
