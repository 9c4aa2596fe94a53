import { readFileSync } from 'node:fs'
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import type { ConfigIssue } from './config-error.ts'

/** A parsed config file: its plain value and the line of every key path in it. */
export interface ConfigFile {
  path: string
  /** The path as shown to users (relative to the service root). */
  displayName: string
  value: Record<string, unknown>
  lineOf: (path: readonly string[]) => number | undefined
}

/**
 * Reads and parses a YAML config file. Returns `undefined` when the file does not exist and
 * issues (never throws) when it is unreadable, malformed or not a mapping.
 */
export function readConfigFile(path: string, displayName: string): ConfigFile | ConfigIssue[] | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return [fileIssue(`${displayName}: cannot read: ${(error as Error).message}`)]
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => {
      // Without prettyErrors the parser leaves linePos empty; the offset still locates the error.
      const line =
        e.linePos?.[0]?.line ?? (e.pos?.[0] === undefined ? undefined : lineCounter.linePos(e.pos[0]).line)
      return fileIssue(`${displayName}${line ? `:${line}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`)
    })
  }
  const value = doc.toJS() ?? {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    return [
      fileIssue(`${displayName}: expected a mapping of sections at the top level, got ${typeOf(value)}`),
    ]
  }
  const lines = new Map<string, number>()
  collectLines(doc.contents, [], lines, lineCounter)
  return { path, displayName, value, lineOf: (p) => lines.get(p.join('\0')) }
}

function collectLines(node: Node | null, path: string[], lines: Map<string, number>, counter: LineCounter) {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      const keyNode = pair.key as Node | null
      const childPath = [...path, key]
      const offset = keyNode?.range?.[0]
      if (offset !== undefined) lines.set(childPath.join('\0'), counter.linePos(offset).line)
      collectLines(pair.value as Node | null, childPath, lines, counter)
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const childPath = [...path, String(index)]
      const offset = (item as Node | null)?.range?.[0]
      if (offset !== undefined) lines.set(childPath.join('\0'), counter.linePos(offset).line)
      collectLines(item as Node | null, childPath, lines, counter)
    })
  }
}

const fileIssue = (message: string): ConfigIssue => ({
  code: 'KEEL_CONFIG_FILE_UNREADABLE',
  key: '',
  message,
})

/** A value as shown in an error: its literal for scalars, its kind for lists and mappings. */
export const typeOf = (value: unknown): string =>
  value !== null && typeof value !== 'object' ? JSON.stringify(value) : kindOf(value)

/** The kind of a value without the value itself (also for secrets): `a string`, `a list`, `null`. */
export const kindOf = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object'
        ? 'a mapping'
        : `a ${typeof value}`
