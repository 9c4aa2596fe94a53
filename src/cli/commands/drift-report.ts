import type { SchematicChange, SchematicDiff } from '../../flow/schematic-diff.ts'
import { sameJson } from '../../flow/schematic-diff.ts'
import type { SchematicDocumentDiff } from '../../flow/schematic-document.ts'
import { bold } from '../table.ts'

/** How many JSON Schema differences a change lists before "…and N more". */
const MAX_DETAILS = 5

/**
 * The text report of `keel flows diff`: per changed flow a header with both versions, then
 * one line per change (severity, what, why) with the differing values; a summary line last.
 */
export function driftReport(
  drift: SchematicDocumentDiff,
  options: { isTty: boolean; allowCompatible: boolean },
): string {
  const { isTty } = options
  const changed = drift.flows.filter((f) => f.severity !== 'none')
  if (changed.length === 0) {
    const n = drift.flows.length
    return `no drift: ${n} flow${n === 1 ? '' : 's'}, the same in both files\n`
  }
  const lines: string[] = []
  for (const flow of changed) {
    lines.push(`${bold(flow.flow, isTty)} ${versions(flow)}`)
    for (const change of flow.changes) {
      const severity = paint(change.severity.padEnd(10), change.severity === 'breaking' ? 31 : 33, isTty)
      lines.push(`  ${severity}  ${subject(change)}: ${change.reason}`)
      for (const detail of details(change)) lines.push(`              ${detail}`)
    }
    lines.push('')
  }
  const all = changed.flatMap((f) => f.changes)
  const breaking = all.filter((c) => c.severity === 'breaking').length
  const compatible = all.length - breaking
  let summary = `${changed.length} of ${drift.flows.length} flows changed: ${breaking} breaking, ${compatible} compatible change${compatible === 1 ? '' : 's'}`
  if (drift.severity === 'compatible' && !options.allowCompatible) {
    summary += ' (only compatible changes: --allow-compatible accepts them)'
  }
  lines.push(summary)
  return `${lines.join('\n')}\n`
}

const versions = (flow: SchematicDiff) =>
  flow.before === null
    ? `(new, ${flow.after})`
    : flow.after === null
      ? `(removed, was ${flow.before})`
      : `${flow.before} → ${flow.after}`

function subject(change: SchematicChange): string {
  switch (change.type) {
    case 'flow-added':
      return 'flow added'
    case 'flow-removed':
      return 'flow removed'
    case 'flow-changed':
      return `flow ${change.field} changed`
    case 'node-added':
    case 'node-removed':
      return `${change.kind} "${change.node}" ${change.type === 'node-added' ? 'added' : 'removed'}`
    case 'node-changed':
      return `${change.kind} "${change.node}" ${change.field} changed`
    case 'edge-added':
    case 'edge-removed': {
      const { from, to, label } = change.edge
      return `edge ${from} → ${to}${label === undefined ? '' : ` (${label})`} ${change.type === 'edge-added' ? 'added' : 'removed'}`
    }
  }
}

/** The values behind a change: `before → after`, or for schemas each differing place by JSON pointer. */
function details(change: SchematicChange): string[] {
  if (change.type !== 'flow-changed' && change.type !== 'node-changed') return []
  const isSchema = change.field === 'input' || change.field === 'output'
  if (!isSchema || !isObject(change.before) || !isObject(change.after)) {
    return [`${show(change.before)} → ${show(change.after)}`]
  }
  const found: string[] = []
  differences(change.before, change.after, '', found)
  const more = found.length - MAX_DETAILS
  return more > 0 ? [...found.slice(0, MAX_DETAILS), `…and ${more} more`] : found
}

function differences(a: unknown, b: unknown, pointer: string, out: string[]): void {
  if (sameJson(a, b)) return
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      differences(a[key], b[key], `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, out)
    }
    return
  }
  out.push(`${pointer || '/'}: ${show(a)} → ${show(b)}`)
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function show(value: unknown): string {
  if (value === undefined) return '(none)'
  const text = JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

/** ANSI colour on a terminal only: CI logs and pipes get plain text. */
const paint = (text: string, colour: number, isTty: boolean) =>
  isTty ? `\x1b[${colour}m${text}\x1b[39m` : text
