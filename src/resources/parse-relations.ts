import type { FieldDefinition, RelationDefinition } from './definition.ts'
import { describe, type IssueCollector, nameHint } from './issue-collector.ts'
import { relationTypes, snakeCase } from './vocabulary.ts'

/**
 * Checks `relations` within the file: names, types, and that a `belongs_to` key is a field here.
 * The other resource and a `has_*` key are checked across files by {@link loadResources}.
 */
export function parseRelations(
  raw: unknown,
  fields: readonly FieldDefinition[],
  declared: readonly string[],
  issues: IssueCollector,
): readonly RelationDefinition[] {
  if (raw === undefined) return []
  const spec = issues.mapping(
    raw,
    ['relations'],
    '{ owner: { resource: users, type: belongs_to, key: owner_id } }',
  )
  if (!spec) return []
  const relations: RelationDefinition[] = []
  for (const [name, value] of Object.entries(spec)) {
    const path = ['relations', name]
    const before = issues.issues.length
    if (!snakeCase.test(name)) {
      issues.add(
        path,
        `relation name "${name}" is not lowercase snake_case`,
        'use lowercase letters, digits and _',
        'key',
      )
    }
    if (declared.includes(name)) {
      issues.add(
        path,
        `relation ${name} has the name of a field`,
        'a relation and a field share one namespace in responses; rename one',
        'key',
      )
    }
    const relation = issues.mapping(value, path, '{ resource: users, type: belongs_to, key: owner_id }')
    if (!relation) continue
    issues.knownKeys(relation, path, ['resource', 'type', 'key'])
    const resource = issues.string(
      relation.resource,
      [...path, 'resource'],
      'the name of the related resource',
    )
    if (resource !== undefined && !snakeCase.test(resource)) {
      issues.add(
        [...path, 'resource'],
        `"${resource}" is not a resource name`,
        'resource names are lowercase snake_case',
      )
    }
    const type = relation.type
    if (!(relationTypes as readonly unknown[]).includes(type)) {
      const hint =
        typeof type === 'string'
          ? nameHint(type, relationTypes, 'types')
          : `types: ${relationTypes.join(', ')}`
      issues.add(
        [...path, 'type'],
        type === undefined ? 'a relation needs a type' : `unknown relation type ${describe(type)}`,
        hint,
      )
    }
    const key = issues.string(
      relation.key,
      [...path, 'key'],
      'belongs_to: the field here holding the id; has_many/has_one: the field there',
    )
    if (type === 'belongs_to' && key !== undefined && !declared.includes(key)) {
      issues.add([...path, 'key'], `unknown field "${key}"`, nameHint(key, declared, 'fields'))
    }
    const valid = fields.some((field) => field.name === key)
    if (issues.issues.length === before && (type !== 'belongs_to' || valid)) {
      relations.push({ name, resource: resource!, type: type as RelationDefinition['type'], key: key! })
    }
  }
  return relations
}
