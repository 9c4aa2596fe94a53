import { type FlowSchematic, SCHEMATIC_VERSION } from './schematic.ts'
import { type DiffSeverity, diffSchematics, type SchematicDiff, severityOf } from './schematic-diff.ts'

/** What `keel flows export` writes: every flow's schematic, sorted by name. */
export interface SchematicDocument {
  readonly schematicVersion: typeof SCHEMATIC_VERSION
  readonly flows: readonly FlowSchematic[]
}

/** The drift between two documents: one entry per flow in either, sorted by name. */
export interface SchematicDocumentDiff {
  readonly severity: DiffSeverity
  readonly flows: readonly SchematicDiff[]
}

/**
 * Puts schematics in one document, sorted by name. The same flow given twice is kept once; two
 * different flows with one name throw a `TypeError` naming it.
 *
 * @example
 * ```ts
 * writeFileSync('flows.json', `${JSON.stringify(schematicDocument([order.describe(), refund.describe()]), null, 2)}\n`)
 * ```
 */
export function schematicDocument(flows: Iterable<FlowSchematic>): SchematicDocument {
  const byName = new Map<string, FlowSchematic>()
  for (const flow of flows) {
    const known = byName.get(flow.name)
    if (known && known.version !== flow.version) {
      throw new TypeError(
        `two different flows are named "${flow.name}" (versions ${known.version} and ${flow.version})`,
      )
    }
    byName.set(flow.name, flow)
  }
  const sorted = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { schematicVersion: SCHEMATIC_VERSION, flows: sorted }
}

/**
 * Checks that parsed JSON is a schematic document, or one flow's schematic (what
 * `flow.describe()` returns), and gives the document. Throws a `TypeError` naming the first
 * thing wrong by its place (`flows[1].nodes[3].id: expected a string`).
 *
 * @example
 * ```ts
 * const committed = readSchematicDocument(JSON.parse(readFileSync('flows.json', 'utf8')))
 * ```
 */
export function readSchematicDocument(value: unknown): SchematicDocument {
  const root = record(value, '')
  if (root.schematicVersion !== SCHEMATIC_VERSION) {
    throw new TypeError(
      root.schematicVersion === undefined
        ? 'schematicVersion is missing'
        : `schematicVersion ${JSON.stringify(root.schematicVersion)} is not supported (this keel reads ${SCHEMATIC_VERSION})`,
    )
  }
  if (!('flows' in root)) return schematicDocument([readFlow(root, '')])
  if (!Array.isArray(root.flows)) throw new TypeError('flows: expected an array')
  const flows = root.flows.map((flow, i) => readFlow(flow, `flows[${i}]`))
  const names = new Set<string>()
  for (const flow of flows) {
    if (names.has(flow.name)) throw new TypeError(`flows: "${flow.name}" appears twice`)
    names.add(flow.name)
  }
  return schematicDocument(flows)
}

/**
 * Compares two documents flow by flow with {@link diffSchematics}. A flow only in `after` is a
 * compatible change (no run of it exists yet); a flow only in `before` is breaking (its runs in
 * flight cannot resume).
 *
 * @example
 * ```ts
 * const drift = diffSchematicDocuments(committed, schematicDocument(flows.map((f) => f.describe())))
 * if (drift.severity === 'breaking') process.exitCode = 1
 * ```
 */
export function diffSchematicDocuments(
  before: SchematicDocument,
  after: SchematicDocument,
): SchematicDocumentDiff {
  const old = new Map(before.flows.map((f) => [f.name, f]))
  const now = new Map(after.flows.map((f) => [f.name, f]))
  const names = [...new Set([...old.keys(), ...now.keys()])].sort()
  const flows = names.map((name): SchematicDiff => {
    const b = old.get(name)
    const a = now.get(name)
    if (b && a) return diffSchematics(b, a)
    if (a) {
      return {
        flow: name,
        before: null,
        after: a.version,
        severity: 'compatible',
        changes: [{ type: 'flow-added', severity: 'compatible', reason: 'no run of it can be in flight' }],
      }
    }
    return {
      flow: name,
      before: b!.version,
      after: null,
      severity: 'breaking',
      changes: [
        {
          type: 'flow-removed',
          severity: 'breaking',
          reason: 'its runs in flight cannot resume: the runner no longer knows the flow',
        },
      ],
    }
  })
  return { severity: severityOf(flows.flatMap((f) => f.changes)), flows }
}

function readFlow(value: unknown, where: string): FlowSchematic {
  const flow = record(value, where)
  const at = where ? `${where}.` : ''
  if (flow.schematicVersion !== undefined && flow.schematicVersion !== SCHEMATIC_VERSION) {
    throw new TypeError(`${at}schematicVersion: expected ${SCHEMATIC_VERSION}`)
  }
  text(flow.name, `${at}name`)
  text(flow.version, `${at}version`)
  list(flow.nodes, `${at}nodes`)
  list(flow.edges, `${at}edges`)
  const ids = new Set<string>()
  flow.nodes.forEach((n, i) => {
    const node = record(n, `${at}nodes[${i}]`)
    const id = text(node.id, `${at}nodes[${i}].id`)
    text(node.kind, `${at}nodes[${i}].kind`)
    if (ids.has(id)) throw new TypeError(`${at}nodes[${i}].id: "${id}" appears twice`)
    ids.add(id)
  })
  flow.edges.forEach((e, i) => {
    const edge = record(e, `${at}edges[${i}]`)
    for (const end of ['from', 'to'] as const) {
      const id = text(edge[end], `${at}edges[${i}].${end}`)
      if (!ids.has(id)) throw new TypeError(`${at}edges[${i}].${end}: no node has the id "${id}"`)
    }
    if (edge.label !== undefined) text(edge.label, `${at}edges[${i}].label`)
  })
  return { ...flow, schematicVersion: SCHEMATIC_VERSION } as unknown as FlowSchematic
}

function record(value: unknown, at: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>
  }
  throw new TypeError(`${at || 'the document'}: expected an object`)
}

function text(value: unknown, at: string): string {
  if (typeof value === 'string') return value
  throw new TypeError(`${at}: expected a string`)
}

function list(value: unknown, at: string): asserts value is unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${at}: expected an array`)
}
