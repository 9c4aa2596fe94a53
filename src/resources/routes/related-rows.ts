import { type TObject, type TSchema, Type } from '@sinclair/typebox'
import type { Queryable } from '../../data/index.ts'
import { HttpError } from '../../http/http-error.ts'
import type { Principal } from '../../http/principal.ts'
import type { ResourceDefinition } from '../definition.ts'
import { resourceSchemas } from '../to-typebox.ts'
import { scopeFor } from './access.ts'
import { withExactBigints } from './exact-bigint.ts'
import { ResourceStatements } from './statements.ts'

/**
 * A `belongs_to` relation a request may include (`?include=project`): its resource is served by
 * the same `serveResources` call and has a `get` endpoint, whose access rules decide which
 * related rows the caller sees. `has_many`/`has_one` are not included: a list inside each row
 * would need its own paging.
 */
export interface IncludableRelation {
  readonly name: string
  /** The field of this resource holding the related row's primary key. */
  readonly key: string
  readonly target: ResourceDefinition
  /** The related row as answered: the target's row schema, or null. */
  readonly schema: TSchema
  readonly statements: ResourceStatements
}

/** The relations of `resource` that requests may include, given every resource being served. */
export function includableRelations(
  resource: ResourceDefinition,
  served: readonly ResourceDefinition[],
): IncludableRelation[] {
  const relations: IncludableRelation[] = []
  for (const relation of resource.relations) {
    const target = served.find((r) => r.name === relation.resource)
    if (relation.type !== 'belongs_to' || !target?.endpoints.get) continue
    relations.push({
      name: relation.name,
      key: relation.key,
      target,
      schema: Type.Optional(Type.Union([resourceSchemas(target).row, Type.Null()])),
      statements: new ResourceStatements(target),
    })
  }
  return relations
}

/** The `include` query parameter of a resource with includable relations. */
export const includeParameter = (relations: readonly IncludableRelation[]): TSchema =>
  Type.Optional(
    Type.String({
      pattern: '^[a-z0-9_]+(,[a-z0-9_]+)*$',
      description: `Related rows to include, comma-separated: ${relations.map((r) => r.name).join(', ')}`,
    }),
  )

/** `row` schema plus one optional property per includable relation. */
export function withRelations(row: TObject, relations: readonly IncludableRelation[]): TObject {
  if (relations.length === 0) return row
  const properties = { ...row.properties }
  for (const relation of relations) properties[relation.name] = relation.schema
  return Type.Object(properties, { additionalProperties: false })
}

/** The relations an `include` value names; 422 naming any the resource cannot include. */
export function chosenRelations(
  include: unknown,
  relations: readonly IncludableRelation[],
  resource: string,
): IncludableRelation[] {
  if (typeof include !== 'string') return []
  const names = [...new Set(include.split(','))]
  const unknown = names.filter((name) => !relations.some((r) => r.name === name))
  if (unknown.length > 0) {
    throw new HttpError(
      422,
      'KEEL_UNPROCESSABLE',
      `${resource}: cannot include ${unknown.map((n) => `"${n}"`).join(', ')}; includable: ${relations.map((r) => r.name).join(', ') || '(none)'}`,
      { errors: [{ pointer: '/query/include', message: 'not an includable relation' }] },
    )
  }
  return relations.filter((r) => names.includes(r.name))
}

/**
 * Adds each chosen relation's row to `rows` under the relation's name: one statement per relation
 * for all rows, scoped by the related resource's `get` rules for `principal` (its tenant, its
 * owner rule, soft delete). A related row outside that scope is `null`, as is a missing one; a
 * caller the related `get` refuses altogether gets that refusal (401/403).
 */
export async function includeRelated(
  db: Queryable,
  rows: readonly Record<string, unknown>[],
  chosen: readonly IncludableRelation[],
  principal: Principal | undefined,
): Promise<Record<string, unknown>[]> {
  const result = rows.map((row) => ({ ...row }))
  for (const relation of chosen) {
    const scope = scopeFor(relation.target, relation.target.endpoints.get!.auth, principal)
    const keys = [
      ...new Set(rows.map((row) => row[relation.key]).filter((key) => key !== null && key !== undefined)),
    ]
    const related = new Map<string, Record<string, unknown>>()
    if (keys.length > 0) {
      const statement = relation.statements.getMany(keys, scope)
      for (const row of await db.query(statement.sql, statement.params)) {
        related.set(String(row[relation.target.primaryKey]), withExactBigints(row))
      }
    }
    for (const row of result) {
      const key = row[relation.key]
      row[relation.name] = key === null || key === undefined ? null : (related.get(String(key)) ?? null)
    }
  }
  return result
}
