/** Longest a generated pattern sample may grow (a `{1000}` quantifier gives up instead). */
const maxLength = 256

/**
 * A string the regular expression `source` likely matches, built by walking it: literals as
 * written, a class's first member (`[A-Z]` → `A`, `\d` → `0`), the first alternative of a group,
 * each quantifier's minimum (one for `+`). Lookarounds, backreferences and negated classes that
 * exclude `a` are beyond it: the caller checks the result against the pattern and falls back.
 */
export function patternSample(source: string): string | undefined {
  try {
    const state = { source, at: 0 }
    const out = alternatives(state)
    return out.length <= maxLength ? out : undefined
  } catch {
    return undefined
  }
}

interface Cursor {
  readonly source: string
  at: number
}

/** `a|b|c` up to the end or a closing `)`: the first alternative. */
function alternatives(c: Cursor): string {
  const first = sequence(c)
  while (c.source[c.at] === '|') {
    c.at++
    sequence(c)
  }
  return first
}

function sequence(c: Cursor): string {
  let out = ''
  while (c.at < c.source.length) {
    const ch = c.source[c.at]!
    if (ch === '|' || ch === ')') break
    if (ch === '^' || ch === '$') {
      c.at++
      continue
    }
    const atom = atomAt(c)
    out += atom.repeat(quantifier(c))
    if (out.length > maxLength) throw new Error('too long')
  }
  return out
}

function atomAt(c: Cursor): string {
  const ch = c.source[c.at++]!
  if (ch === '(') {
    if (c.source[c.at] === '?') {
      if (c.source[c.at + 1] !== ':') throw new Error('lookaround')
      c.at += 2
    }
    const inner = alternatives(c)
    if (c.source[c.at++] !== ')') throw new Error('unclosed group')
    return inner
  }
  if (ch === '[') return classAt(c)
  if (ch === '\\') return escapeAt(c)
  if (ch === '.') return 'a'
  return ch
}

function escapeAt(c: Cursor): string {
  const ch = c.source[c.at++]
  if (ch === undefined) throw new Error('dangling escape')
  if (ch === 'd') return '0'
  if (ch === 'w') return 'a'
  if (ch === 's') return ' '
  if (/[DWS]/.test(ch)) return ch === 'D' ? 'a' : ch === 'W' ? '-' : 'a'
  if (/[0-9bBk]/.test(ch)) throw new Error('backreference or boundary')
  if (ch === 'n') return '\n'
  if (ch === 't') return '\t'
  return ch
}

/** `[...]`: its first member; a negated class gets `a`, or `0` if `a` is excluded. */
function classAt(c: Cursor): string {
  const negated = c.source[c.at] === '^'
  if (negated) c.at++
  const members: string[] = []
  while (c.at < c.source.length && (c.source[c.at] !== ']' || members.length === 0)) {
    let ch = c.source[c.at++]!
    if (ch === '\\') ch = escapeAt(c)
    members.push(ch)
  }
  if (c.source[c.at++] !== ']') throw new Error('unclosed class')
  if (!negated) return members[0]!
  const text = members.join('')
  for (const candidate of ['a', '0', 'Z', '_']) {
    if (!new RegExp(`[${text.replace(/[\]\\]/g, '\\$&')}]`).test(candidate)) return candidate
  }
  throw new Error('negated class')
}

/** Repetitions of the atom before: the quantifier's minimum, one for `+`. */
function quantifier(c: Cursor): number {
  const ch = c.source[c.at]
  let count = 1
  if (ch === '*' || ch === '?') {
    c.at++
    count = 0
  } else if (ch === '+') {
    c.at++
  } else if (ch === '{') {
    const match = /^\{(\d+)(,\d*)?\}/.exec(c.source.slice(c.at))
    if (!match) return 1
    c.at += match[0].length
    count = Number(match[1])
  }
  if (c.source[c.at] === '?') c.at++ // lazy
  return count
}
