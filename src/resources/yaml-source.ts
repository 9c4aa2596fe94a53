import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import type { PathSegment, ResourceIssue } from './resource-issue.ts'

/** A 1-based position in a file. */
export interface Position {
  readonly line: number
  readonly column: number
}

/** A parsed YAML file: its plain value, and where each key path sits in the text. */
export interface YamlSource {
  readonly file: string
  readonly value: unknown
  /**
   * The position of `path`: of its key (`part: 'key'`, for unknown or misplaced keys) or of its
   * value. A path that is not in the file resolves to the key of its deepest ancestor that is,
   * so "missing key" issues point at the mapping that lacks it.
   */
  positionOf(path: readonly PathSegment[], part?: 'key' | 'value'): Position
}

/**
 * Parses YAML text. Returns the source, or the syntax issues (duplicate keys included) with
 * their positions; never throws.
 */
export function readYamlSource(text: string, file: string): YamlSource | ResourceIssue[] {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true })
  const at = (offset: number): Position => {
    const { line, col } = counter.linePos(offset)
    return { line, column: col }
  }
  if (doc.errors.length > 0) {
    return doc.errors.map((error) => ({
      file,
      ...at(error.pos[0]),
      path: '',
      message: `invalid YAML: ${error.message.split('\n')[0]}`,
      hint: error.code === 'DUPLICATE_KEY' ? 'each key may appear once in a mapping' : 'fix the YAML syntax',
    }))
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 100 })
  } catch (error) {
    return [
      {
        file,
        line: 1,
        column: 1,
        path: '',
        message: `invalid YAML: ${(error as Error).message}`,
        hint: 'fix the YAML syntax',
      },
    ]
  }
  return {
    file,
    value,
    positionOf(path, part = 'value') {
      let node: unknown = doc.contents
      let offset = (node as Node | null)?.range?.[0] ?? 0
      for (const [index, segment] of path.entries()) {
        const last = index === path.length - 1
        if (isMap(node)) {
          const pair = node.items.find((item) => keyText(item.key) === String(segment))
          if (!pair) break
          const keyOffset = (pair.key as Node | null)?.range?.[0] ?? offset
          if (last && part === 'key') return at(keyOffset)
          node = pair.value
          offset = last ? ((pair.value as Node | null)?.range?.[0] ?? keyOffset) : keyOffset
        } else if (isSeq(node) && typeof segment === 'number') {
          const item = node.items[segment] as Node | undefined
          if (!item) break
          node = item
          offset = item.range?.[0] ?? offset
        } else {
          break
        }
      }
      return at(offset)
    },
  }
}

const keyText = (key: unknown): string => (isScalar(key) ? String(key.value) : String(key))
