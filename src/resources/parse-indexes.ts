import { constraintName } from './constraint-name.ts'
import type { FieldDefinition, IndexDefinition } from './definition.ts'
import { entryPath, type IssueCollector, nameHint } from './issue-collector.ts'
import { snakeCase } from './vocabulary.ts'

/** Checks `indexes`: each names existing fields, at most once, under a name no other index has. */
export function parseIndexes(
  raw: unknown,
  resource: string,
  fields: readonly FieldDefinition[],
  declared: readonly string[],
  issues: IssueCollector,
): readonly IndexDefinition[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) {
    issues.add(['indexes'], 'expected a list of indexes', 'write it as - { fields: [org_id, done] }')
    return []
  }
  const indexes: IndexDefinition[] = []
  const names = new Map<string, number>()
  raw.forEach((value, position) => {
    const path = ['indexes', position]
    const spec = issues.mapping(value, path, '{ fields: [org_id, done], unique: false }')
    if (!spec) return
    const before = issues.issues.length
    issues.knownKeys(spec, path, ['fields', 'unique', 'name'])
    const entries = issues.stringList(spec.fields ?? [], [...path, 'fields'], '[org_id, done]') ?? []
    if (entries.length === 0 && issues.issues.length === before) {
      issues.add(
        [...path, 'fields'],
        'an index needs at least one field',
        'for example fields: [org_id, done]',
      )
    }
    for (const { value: name, index } of entries) {
      if (!declared.includes(name)) {
        issues.add(
          entryPath([...path, 'fields'], index),
          `unknown field "${name}"`,
          nameHint(name, declared, 'fields'),
        )
      }
    }
    const unique = issues.boolean(spec.unique, [...path, 'unique'])
    let name = constraintName(
      resource,
      entries.map((entry) => entry.value),
      'idx',
    )
    if (spec.name !== undefined) {
      const given = issues.string(spec.name, [...path, 'name'], 'a lowercase snake_case index name')
      if (given !== undefined && !snakeCase.test(given)) {
        issues.add(
          [...path, 'name'],
          `"${given}" is not lowercase snake_case`,
          'use lowercase letters, digits and _ (at most 63)',
        )
      } else if (given !== undefined) name = given
    }
    const other = names.get(name)
    if (other !== undefined) {
      issues.add(
        path,
        `index ${name} is declared twice (also indexes[${other}])`,
        'remove one, or give it a name of its own',
      )
    }
    names.set(name, position)
    // An index on a field that is declared but invalid is not kept; the field's issue says why.
    const valid = entries.every((entry) => fields.some((field) => field.name === entry.value))
    if (issues.issues.length === before && valid)
      indexes.push({ name, fields: entries.map((entry) => entry.value), unique })
  })
  return indexes
}
