import type { FieldDefinition, ResourceDefinition } from './definition.ts'
import { article, IssueCollector, nameHint } from './issue-collector.ts'
import type { ParsedResourceFile } from './parse-resource.ts'
import type { ResourceIssue } from './resource-issue.ts'

/**
 * The checks that need every resource: no two files declare one resource, every `ref` points at
 * a unique field of a known resource with the same column type, and relations name resources and
 * keys that exist and agree with the refs. Files with issues of their own are only checked for
 * their name: what they declare is not known well enough to judge others by.
 */
export function checkReferences(files: readonly ParsedResourceFile[]): Map<string, ResourceIssue[]> {
  const found = new Map<string, ResourceIssue[]>()
  const collectorOf = new Map<ParsedResourceFile, IssueCollector>()
  const issuesOf = (file: ParsedResourceFile): IssueCollector | undefined => {
    if (!file.source) return undefined
    let collector = collectorOf.get(file)
    if (!collector) {
      collector = new IssueCollector(file.source)
      collectorOf.set(file, collector)
    }
    return collector
  }

  const firstByName = new Map<string, ParsedResourceFile>()
  for (const file of files) {
    if (file.name === undefined) continue
    const first = firstByName.get(file.name)
    if (!first) {
      firstByName.set(file.name, file)
      continue
    }
    const line = first.source?.positionOf(['resource']).line ?? 1
    issuesOf(file)?.add(
      ['resource'],
      `resource ${file.name} is declared twice`,
      `also declared in ${first.file}:${line}; each resource has one file`,
    )
  }

  const names = [...firstByName.keys()]
  const valid = new Map<string, ResourceDefinition>()
  for (const [name, file] of firstByName) if (file.definition) valid.set(name, file.definition)
  /** The target resource, or `undefined` after reporting it (or when its file is invalid). */
  const target = (issues: IssueCollector, resource: string, path: (string | number)[]) => {
    if (valid.has(resource)) return valid.get(resource)
    if (!firstByName.has(resource))
      issues.add(path, `unknown resource "${resource}"`, nameHint(resource, names, 'resources'))
    return undefined
  }

  for (const file of files) {
    const resource = file.definition
    const issues = issuesOf(file)
    if (!resource || !issues) continue
    for (const field of resource.fields) {
      if (!field.ref) continue
      const path = ['fields', field.name, 'ref']
      const other = target(issues, field.ref.resource, path)
      if (!other) continue
      const referenced = other.fields.find((candidate) => candidate.name === field.ref?.field)
      if (!referenced) {
        issues.add(
          path,
          `resource ${other.name} has no field "${field.ref.field}"`,
          nameHint(
            field.ref.field,
            other.fields.map((f) => f.name),
            `fields of ${other.name}`,
          ),
        )
      } else if (!referenced.primary && !referenced.unique) {
        issues.add(
          path,
          `${other.name}.${referenced.name} is neither the primary key nor unique`,
          `reference ${other.name}.${other.primaryKey}, or mark ${referenced.name} unique: true`,
        )
      } else if (columnKind(referenced) !== columnKind(field)) {
        issues.add(
          [...path.slice(0, 2), 'type'],
          `${field.name} is ${article(field.type)} but ${other.name}.${referenced.name} is ${article(referenced.type)}`,
          `make ${field.name} ${article(referenced.type)}`,
        )
      }
    }
    for (const relation of resource.relations) {
      const path = ['relations', relation.name]
      const other = target(issues, relation.resource, [...path, 'resource'])
      if (!other) continue
      if (relation.type === 'belongs_to') {
        const ref = resource.fields.find((field) => field.name === relation.key)?.ref
        if (ref && ref.resource !== other.name) {
          issues.add(
            [...path, 'key'],
            `${relation.key} references ${ref.resource}, not ${other.name}`,
            `use the field that references ${other.name}`,
          )
        }
        continue
      }
      const key = other.fields.find((field) => field.name === relation.key)
      if (!key) {
        issues.add(
          [...path, 'key'],
          `resource ${other.name} has no field "${relation.key}"`,
          `for ${relation.type} the key is the field of ${other.name} holding this resource's id; ${nameHint(
            relation.key,
            other.fields.map((f) => f.name),
            `fields of ${other.name}`,
          )}`,
        )
      } else if (key.ref && key.ref.resource !== resource.name) {
        issues.add(
          [...path, 'key'],
          `${other.name}.${key.name} references ${key.ref.resource}, not ${resource.name}`,
          `use the field of ${other.name} that references ${resource.name}`,
        )
      }
    }
  }
  for (const [file, collector] of collectorOf)
    if (collector.issues.length > 0) found.set(file.file, collector.issues)
  return found
}

/** Fields whose columns can reference each other: text with text, others with their own type. */
const columnKind = (field: FieldDefinition): string => (field.type === 'string' ? 'text' : field.type)
