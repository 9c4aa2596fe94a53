import { type FlowSchematic, type SchematicEdge, type SchematicNode, START } from './schematic.ts'

/**
 * `breaking`: a run in flight when the new definition is deployed can fail or misbehave on
 * resume (a durable run replays the flow from the top, taking each step's recorded result by
 * step name). `compatible`: in-flight runs resume as before. See docs/flows-schematic.md.
 */
export type ChangeSeverity = 'breaking' | 'compatible'

/** The worst severity of a diff; `none` when the two schematics are the same. */
export type DiffSeverity = ChangeSeverity | 'none'

/** The fields of a node that the diff compares. */
export type NodeField = Exclude<keyof SchematicNode, 'id' | 'name'>

interface Judged {
  readonly severity: ChangeSeverity
  /** Why, in one line: what would happen to a run in flight. */
  readonly reason: string
}

/** One difference between two schematics. */
export type SchematicChange = Judged &
  (
    | { readonly type: 'flow-added' | 'flow-removed' }
    | {
        readonly type: 'flow-changed'
        readonly field: 'input' | 'description'
        readonly before: unknown
        readonly after: unknown
      }
    | {
        readonly type: 'node-added' | 'node-removed'
        readonly node: string
        readonly kind: SchematicNode['kind']
      }
    | {
        readonly type: 'node-changed'
        readonly node: string
        /** The node's kind in the new schematic. */
        readonly kind: SchematicNode['kind']
        readonly field: NodeField
        readonly before: unknown
        readonly after: unknown
      }
    | { readonly type: 'edge-added' | 'edge-removed'; readonly edge: SchematicEdge }
  )

/** What changed in one flow between two schematics, and how much it matters to runs in flight. */
export interface SchematicDiff {
  readonly flow: string
  /** The old version; null when the flow is new. */
  readonly before: string | null
  /** The new version; null when the flow was removed. */
  readonly after: string | null
  readonly severity: DiffSeverity
  /** Flow fields, then removed, added and changed nodes, then removed and added edges. */
  readonly changes: readonly SchematicChange[]
}

const NODE_FIELDS: readonly NodeField[] = [
  'kind',
  'input',
  'output',
  'compensates',
  'paths',
  'branches',
  'retry',
  'timeoutMs',
  'faults',
  'concurrency',
  'ms',
  'description',
]

/** Kinds a durable run records a checkpoint for, keyed by the node's name. */
const CHECKPOINTED = new Set<SchematicNode['kind']>(['step', 'branch', 'sleep'])

/**
 * Compares two schematics of one flow: added, removed and changed nodes (each changed field
 * on its own), added and removed edges, each judged `breaking` or `compatible` for runs in
 * flight. An added node is compatible only where no recorded run can be past it: nothing that
 * existed before follows it, or it lies only on a path that a deciding step gained.
 *
 * @example
 * ```ts
 * const diff = diffSchematics(JSON.parse(committed), order.describe())
 * if (diff.severity === 'breaking') {
 *   for (const change of diff.changes) console.log(change.severity, change.type, change.reason)
 * }
 * ```
 */
export function diffSchematics(before: FlowSchematic, after: FlowSchematic): SchematicDiff {
  const changes: SchematicChange[] = []
  if (!sameJson(before.input, after.input)) {
    changes.push({
      type: 'flow-changed',
      field: 'input',
      before: before.input,
      after: after.input,
      severity: 'breaking',
      reason: 'runs already started hold input of the old schema',
    })
  }
  if (before.description !== after.description) {
    changes.push({
      type: 'flow-changed',
      field: 'description',
      before: before.description,
      after: after.description,
      severity: 'compatible',
      reason: 'documentation only',
    })
  }

  const oldGraph = graphOf(before)
  const newGraph = graphOf(after)
  const isOld = (id: string) => oldGraph.nodes.has(id)
  const isNew = (id: string) => newGraph.nodes.has(id)

  for (const node of before.nodes) {
    if (isNew(node.id)) continue
    changes.push({
      type: 'node-removed',
      node: node.id,
      kind: node.kind,
      severity: 'breaking',
      reason: CHECKPOINTED.has(node.kind)
        ? 'runs that recorded it resume without it: the next step gets another value and its compensation never runs'
        : 'the steps it grouped run differently for runs that already entered it',
    })
  }

  const added = judgeAdded(oldGraph, newGraph)
  for (const node of after.nodes) {
    const verdict = added.get(node.id)
    if (verdict) changes.push({ type: 'node-added', node: node.id, kind: node.kind, ...verdict })
  }

  for (const node of after.nodes) {
    const old = oldGraph.nodes.get(node.id)
    if (!old) continue
    for (const field of NODE_FIELDS) {
      if (sameJson(old[field], node[field])) continue
      changes.push({
        type: 'node-changed',
        node: node.id,
        kind: node.kind,
        field,
        before: old[field],
        after: node[field],
        ...judgeField(field, old, node),
      })
    }
  }

  const oldEdges = new Set(before.edges.map(edgeKey))
  const newEdges = new Set(after.edges.map(edgeKey))
  for (const edge of before.edges) {
    if (newEdges.has(edgeKey(edge))) continue
    const gone = [edge.from, edge.to].filter((id) => !isNew(id))
    if (gone.length > 0) {
      changes.push({ type: 'edge-removed', edge, severity: 'breaking', reason: removalOf(gone) })
      continue
    }
    // Both ends remain: fine if only added nodes were put between them, as bad as the worst of those.
    const between = bridge(newGraph, edge, (id) => !isOld(id))
    changes.push(
      between.length > 0
        ? {
            type: 'edge-removed',
            edge,
            ...worst(
              between.map((id) => added.get(id)!),
              between,
            ),
          }
        : { type: 'edge-removed', edge, severity: 'breaking', reason: 'the order of existing steps changed' },
    )
  }
  for (const edge of after.edges) {
    if (oldEdges.has(edgeKey(edge))) continue
    const fresh = [edge.from, edge.to].filter((id) => !isOld(id))
    if (fresh.length > 0) {
      changes.push({
        type: 'edge-added',
        edge,
        ...worst(
          fresh.map((id) => added.get(id)!),
          fresh,
        ),
      })
      continue
    }
    const removed = bridge(oldGraph, edge, (id) => !isNew(id))
    changes.push({
      type: 'edge-added',
      edge,
      severity: 'breaking',
      reason: removed.length > 0 ? removalOf(removed) : 'the order of existing steps changed',
    })
  }

  return {
    flow: after.name,
    before: before.version,
    after: after.version,
    severity: severityOf(changes),
    changes,
  }
}

/** The worst severity of a list of changes. */
export const severityOf = (changes: readonly Judged[]): DiffSeverity =>
  changes.length === 0 ? 'none' : changes.some((c) => c.severity === 'breaking') ? 'breaking' : 'compatible'

interface Graph {
  readonly nodes: ReadonlyMap<string, SchematicNode>
  readonly out: ReadonlyMap<string, readonly SchematicEdge[]>
}

function graphOf(schematic: FlowSchematic): Graph {
  const out = new Map<string, SchematicEdge[]>()
  for (const edge of schematic.edges) {
    const list = out.get(edge.from)
    if (list) list.push(edge)
    else out.set(edge.from, [edge])
  }
  return { nodes: new Map(schematic.nodes.map((n) => [n.id, n])), out }
}

/**
 * Judges each added node. Safe only where no recorded run can be past it: a run replays from
 * the top, so a node put before anything it already recorded would run late, after the steps
 * that should have followed it.
 */
function judgeAdded(oldGraph: Graph, newGraph: Graph): Map<string, Judged> {
  const verdicts = new Map<string, Judged>()
  // Edges into a path a deciding step gained: a run that recorded the decision took an old path.
  const isNewPath = (edge: SchematicEdge) => {
    const decider = oldGraph.nodes.get(edge.from)
    return decider?.kind === 'branch' && edge.label !== undefined && !decider.paths?.includes(edge.label)
  }
  const onOldPaths = reachable(newGraph, [START], (edge) => !isNewPath(edge))
  for (const node of newGraph.nodes.values()) {
    if (oldGraph.nodes.has(node.id)) continue
    if (!onOldPaths.has(node.id)) {
      verdicts.set(node.id, {
        severity: 'compatible',
        reason: 'it lies only on a new path: no recorded run chose that path',
      })
      continue
    }
    const follower = [...reachable(newGraph, [node.id], () => true)].find((id) => {
      const old = oldGraph.nodes.get(id)
      return old !== undefined && CHECKPOINTED.has(old.kind)
    })
    verdicts.set(
      node.id,
      follower
        ? {
            severity: 'breaking',
            reason: `existing "${follower}" follows it: a run that recorded "${follower}" runs it late on resume`,
          }
        : { severity: 'compatible', reason: 'no existing step follows it: runs in flight reach it in order' },
    )
  }
  return verdicts
}

function judgeField(field: NodeField, old: SchematicNode, now: SchematicNode): Judged {
  const lost = (key: 'paths' | 'branches') => (old[key] ?? []).filter((p) => !(now[key] ?? []).includes(p))
  switch (field) {
    case 'kind':
      return {
        severity: 'breaking',
        reason: `a run that recorded the ${old.kind} replays it as a ${now.kind}`,
      }
    case 'input':
      return {
        severity: 'breaking',
        reason: 'a resumed run hands it a value recorded under the old definition',
      }
    case 'output':
      return {
        severity: 'breaking',
        reason: 'its recorded outputs, of the old schema, replay into the steps after it',
      }
    case 'compensates':
      return old.compensates && !now.compensates
        ? {
            severity: 'breaking',
            reason: 'runs that completed it expect it undone on a fault; it no longer is',
          }
        : { severity: 'compatible', reason: 'runs that completed it now also undo it on a fault' }
    case 'paths': {
      const gone = lost('paths')
      return gone.length > 0
        ? {
            severity: 'breaking',
            reason: `a run that recorded the choice of ${quoted(gone)} cannot go on: the path is gone`,
          }
        : { severity: 'compatible', reason: 'no recorded run chose the new path' }
    }
    case 'branches': {
      const gone = lost('branches')
      return gone.length > 0
        ? { severity: 'breaking', reason: `the output loses ${quoted(gone)}, which the steps after it read` }
        : { severity: 'compatible', reason: 'the steps of the new branch are judged on their own' }
    }
    case 'ms':
      return { severity: 'compatible', reason: 'a sleep already started keeps its recorded wake-up time' }
    case 'description':
      return { severity: 'compatible', reason: 'documentation only' }
    default:
      // retry, timeoutMs, faults, concurrency: how attempts run, not what a run has recorded.
      return {
        severity: 'compatible',
        reason: 'applies to attempts from now on; recorded results stay valid',
      }
  }
}

/** Ids reachable from `from` (themselves included) along edges `follow` accepts. */
function reachable(graph: Graph, from: readonly string[], follow: (edge: SchematicEdge) => boolean) {
  const seen = new Set<string>(from)
  const queue = [...from]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const edge of graph.out.get(id) ?? []) {
      if (!seen.has(edge.to) && follow(edge)) {
        seen.add(edge.to)
        queue.push(edge.to)
      }
    }
  }
  return seen
}

/**
 * The nodes that `graph` puts between `edge.from` and `edge.to`, on routes leaving `from` with
 * the edge's label and passing only nodes `between` accepts; empty when there is no such route.
 */
function bridge(graph: Graph, edge: SchematicEdge, between: (id: string) => boolean): string[] {
  const found = new Set<string>()
  // Depth-first over routes; the graph is acyclic and small.
  const walk = (id: string, route: readonly string[]) => {
    for (const next of graph.out.get(id) ?? []) {
      if (route.length === 0 && next.label !== edge.label) continue
      if (next.to === edge.to) {
        for (const r of route) found.add(r)
      } else if (between(next.to) && !route.includes(next.to)) {
        walk(next.to, [...route, next.to])
      }
    }
  }
  walk(edge.from, [])
  return [...found]
}

function worst(verdicts: readonly Judged[], nodes: readonly string[]): Judged {
  const breaking = verdicts.some((v) => v.severity === 'breaking')
  return {
    severity: breaking ? 'breaking' : 'compatible',
    reason: `follows from the addition of ${quoted(nodes)}`,
  }
}

const removalOf = (nodes: readonly string[]) => `follows from the removal of ${quoted(nodes)}`
const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ')
const edgeKey = (edge: SchematicEdge) => JSON.stringify([edge.from, edge.to, edge.label ?? null])

/** Equality of JSON values; key order does not matter. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  )
}
