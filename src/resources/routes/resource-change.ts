import type { App } from '../../app/index.ts'
import type { DatabaseModule, Queryable } from '../../data/index.ts'
import type { ResourceDefinition } from '../definition.ts'

/** A write through a resource endpoint, as the hooks that follow it see it. */
export interface ResourceChange {
  readonly resource: string
  readonly type: 'created' | 'updated' | 'deleted'
  /** The primary key of the row. */
  readonly id: unknown
  /** The row as the endpoint answered it (sensitive fields left out). */
  readonly row: Readonly<Record<string, unknown>>
  /** For `updated`: the fields the request set. */
  readonly changed?: readonly string[]
  /** The JWT subject of the caller, if any. */
  readonly actor?: string
  /** The tenant of the row, for tenant-scoped resources. */
  readonly tenant?: string
  /** True when the resource lists this change in its `events`: hooks that publish events check it. */
  readonly isDeclaredEvent: boolean
}

/**
 * Runs after a write inside its transaction: what it writes with `tx` (an audit entry, a job that
 * delivers a webhook) commits with the row or not at all. A throw rolls the write back (500).
 */
export type ResourceChangeHook = (change: ResourceChange, tx: Queryable) => unknown

/**
 * The key of {@link ResourceChangeSubscriber}'s method. `Symbol.for`, so that a module built
 * against another copy of Keel in the process is still recognised.
 */
export const changeHookFor: unique symbol = Symbol.for('keel.resources.changeHookFor')

/** A resource being served, as {@link serveResources} shows it to a {@link ResourceChangeSubscriber}. */
export interface ServedResource {
  /** The app the routes are added to (the subscriber is one of its modules). */
  readonly app: App
  readonly resource: ResourceDefinition
  /** The database module the resource's rows, and so the change hooks' `tx`, belong to. */
  readonly database: DatabaseModule
  /** The hooks the caller passed as `onChange`, so a subscriber can see its own hook is there already. */
  readonly onChange: readonly ResourceChangeHook[]
}

/**
 * A module that adds its own change hook to resources served on its app, without the app passing
 * it in `onChange`: `serveResources` asks every module of `app.modules` that has this method, once
 * per resource, before the routes exist. The audit module is one (`audit.resources`). Defined here
 * rather than by the subscribers so that `keel/resources` depends on none of them.
 *
 * @example
 * ```ts
 * const stamping: KeelModule & ResourceChangeSubscriber = {
 *   name: 'stamping',
 *   [changeHookFor]: ({ resource }) =>
 *     resource.name === 'todos' ? (change, tx) => tx.query('select pg_notify($1, $2)', ['todos', String(change.id)]) : undefined,
 * }
 * ```
 */
export interface ResourceChangeSubscriber {
  /**
   * The hook for `served`, or undefined to leave the resource alone. A throw fails
   * `serveResources` (a configuration that cannot work).
   */
  [changeHookFor](served: ServedResource): ResourceChangeHook | undefined
}

/** Whether `value` (a module of `app.modules`) is a {@link ResourceChangeSubscriber}. */
export const isResourceChangeSubscriber = <T>(value: T): value is T & ResourceChangeSubscriber =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Partial<ResourceChangeSubscriber>)[changeHookFor] === 'function'

/** The resources each app serves, in the order `serveResources` served them. */
const servedOn = new WeakMap<App, string[]>()

/** Records that `serveResources` served `names` on `app`: subscribers added later missed them. */
export function recordServed(app: App, names: readonly string[]): void {
  const served = servedOn.get(app)
  if (served) served.push(...names)
  else servedOn.set(app, [...names])
}

/**
 * The names of the resources `serveResources` has served on `app` so far. A subscriber checks it
 * when it joins the app: a resource served before then was never shown to it, and its writes go
 * without the subscriber's hook.
 */
export const resourcesServedOn = (app: App): readonly string[] => servedOn.get(app) ?? []
