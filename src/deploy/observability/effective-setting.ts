import { parse } from 'yaml'
import type { DeploymentPlan } from '../deployment-plan.ts'

/**
 * The value a deployment of `plan` runs with for config `key` (`data.poolSize`): what the deployed
 * keel.yaml sets, else the schema's default; `undefined` when the app has no such key. Values the
 * deployment's environment overrides (`KEEL_DATA__POOL_SIZE`) are unknown here, like any variable.
 */
export function effectiveSetting(plan: DeploymentPlan, key: string): unknown {
  const path = key.split('.')
  const deployed = valueAt(parse(plan.config.file) as unknown, path)
  if (deployed !== undefined) return deployed
  const schema = schemaAt(plan.description.configSchema, path)
  return schema?.default
}

/** Whether the app's configuration schema has `key` (`data.migrateOnStart`). */
export function hasSetting(plan: DeploymentPlan, key: string): boolean {
  return schemaAt(plan.description.configSchema, key.split('.')) !== undefined
}

interface SchemaNode {
  default?: unknown
  properties?: Record<string, SchemaNode>
}

function schemaAt(schema: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema
  for (const segment of path) node = node?.properties?.[segment]
  return node
}

function valueAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[segment]
  }
  return node
}
