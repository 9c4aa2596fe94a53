// A flow's schematic as an SVG graph: layered left to right (a node's layer is its longest
// distance from <start>), nodes in walk order within a layer, edges as curves with their label.
import { ms, percent } from './format.js'
import { html } from './html.js'

const nodeWidth = 150
const nodeHeight = 56
const markerSize = 18
const gapX = 56
const gapY = 22
const pad = 12

/**
 * Positions of the schematic's nodes: `{ nodes: [{ node, x, y, w, h }], width, height }`.
 * Exported for tests of the layout.
 * @param {{ nodes: { id: string, kind: string }[], edges: { from: string, to: string }[] }} schematic
 */
export function layout(schematic) {
  const ids = schematic.nodes.map((n) => n.id)
  const layer = new Map(ids.map((id) => [id, 0]))
  // Longest path by relaxing edges; a schematic is acyclic, and the bound keeps a bad one finite.
  for (let round = 0; round < ids.length; round++) {
    let changed = false
    for (const edge of schematic.edges) {
      const next = (layer.get(edge.from) ?? 0) + 1
      if (layer.has(edge.to) && next > layer.get(edge.to)) {
        layer.set(edge.to, next)
        changed = true
      }
    }
    if (!changed) break
  }
  const columns = []
  for (const node of schematic.nodes) {
    const column = layer.get(node.id)
    columns[column] ??= []
    columns[column].push(node)
  }
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0))
  const height = pad * 2 + tallest * nodeHeight + (tallest - 1) * gapY
  const placed = []
  let x = pad
  for (const column of columns) {
    if (!column) continue
    const columnWidth = Math.max(...column.map((n) => widthOf(n)))
    const columnHeight = column.length * nodeHeight + (column.length - 1) * gapY
    let y = (height - columnHeight) / 2
    for (const node of column) {
      const w = widthOf(node)
      placed.push({ node, x: x + (columnWidth - w) / 2, y, w, h: nodeHeight })
      y += nodeHeight + gapY
    }
    x += columnWidth + gapX
  }
  return { nodes: placed, width: x - gapX + pad, height }
}

const isMarker = (node) => node.kind === 'start' || node.kind === 'end'
const widthOf = (node) => (isMarker(node) ? markerSize * 2 : nodeWidth)
const shortName = (name) => (name.length > 20 ? `${name.slice(0, 19)}…` : name)

/**
 * The graph of one flow, with each step's window (runs, p95, error rate) on its node.
 * @param {{ schematic: any, steps: { labels: Record<string, string>, window: any }[] }} props
 */
export function FlowGraph({ schematic, steps }) {
  const { nodes, width, height } = layout(schematic)
  const at = new Map(nodes.map((p) => [p.node.id, p]))
  const statsOf = (name) => steps.find((s) => s.labels.step === name && s.labels.phase === 'run')?.window
  const markerId = `arrow-${schematic.name.replace(/[^A-Za-z0-9_-]/g, '_')}`
  return html`<svg class="flow-graph" viewBox="0 0 ${width} ${height}" width=${width} height=${height}
      role="img" aria-label=${`Graph of flow ${schematic.name}: ${schematic.nodes
        .filter((n) => !isMarker(n))
        .map((n) => n.name)
        .join(', ')}`}>
    <defs>
      <marker id=${markerId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
      </marker>
    </defs>
    ${schematic.edges.map((edge, i) => {
      const from = at.get(edge.from)
      const to = at.get(edge.to)
      if (!from || !to) return null
      const x1 = from.x + from.w
      const y1 = from.y + from.h / 2
      const x2 = to.x
      const y2 = to.y + to.h / 2
      const bend = Math.max(24, (x2 - x1) / 2)
      return html`<g class="edge" key=${`e${i}`}>
        <path d=${`M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`} marker-end=${`url(#${markerId})`} />
        ${edge.label && html`<text x=${(x1 + x2) / 2} y=${(y1 + y2) / 2 - 6} class="edge-label">${edge.label}</text>`}
      </g>`
    })}
    ${nodes.map(({ node, x, y, w, h }) => {
      if (isMarker(node)) {
        return html`<g class=${`node marker ${node.kind}`} data-node=${node.id} key=${node.id}>
          <title>${node.kind === 'start' ? 'start' : 'end'}</title>
          <circle cx=${x + w / 2} cy=${y + h / 2} r=${markerSize / 2 + 2} />
        </g>`
      }
      const stats = statsOf(node.name)
      const failing = stats && stats.errors > 0
      const summary = stats
        ? `${stats.count} runs · p95 ${ms(stats.p95Ms)} · errors ${percent(stats.errorRate)}`
        : 'no runs in the window'
      return html`<g class=${`node ${node.kind}${failing ? ' failing' : ''}`} data-node=${node.id} key=${node.id}>
        <title>${[node.name, node.description, summary].filter(Boolean).join('\n')}</title>
        <rect x=${x} y=${y} width=${w} height=${h} rx="8" />
        <text x=${x + 10} y=${y + 21} class="node-name">${shortName(node.name)}</text>
        <text x=${x + 10} y=${y + 41} class="node-stats">${
          stats
            ? `${stats.count} · p95 ${ms(stats.p95Ms)}${stats.errors ? ` · ${stats.errors} err` : ''}`
            : node.kind
        }</text>
      </g>`
    })}
  </svg>`
}
