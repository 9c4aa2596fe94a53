import { type TSchema, Type } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { validationError } from '../../http/http-error.ts'
import { type FieldDefinition, findField, type ListEndpoint, type ResourceDefinition } from '../definition.ts'
import { quoteIdentifier as q } from '../to-sql.ts'
import { valueSchema } from '../to-typebox.ts'
import type { RowScope } from './access.ts'
import { type CursorPosition, encodeCursor } from './cursor.ts'

/** A statement and its parameters. */
export interface Statement {
  readonly sql: string
  readonly params: unknown[]
}

/** A list request after validation: filters by field, and the paging and search options. */
export interface ListRequest {
  readonly filters: Readonly<Record<string, unknown>>
  readonly q?: string
  readonly sort?: string
  readonly limit: number
  readonly cursor?: CursorPosition
  readonly offset?: number
}

/**
 * Builds the SQL of a resource's endpoints. Every identifier comes from the validated definition
 * and is quoted; every value is a parameter. Each statement carries the request's scope (tenant,
 * owner) and hides soft-deleted rows, so no endpoint can reach outside it.
 */
export class ResourceStatements {
  readonly #resource: ResourceDefinition
  readonly #columns: string
  readonly #pk: string
  readonly #table: string
  /** Fields by name, and their quoted identifiers: read per request, so looked up rather than rebuilt. */
  readonly #fields: ReadonlyMap<string, FieldDefinition>
  readonly #quoted: ReadonlyMap<string, string>
  /** `select` by primary key, by scope shape (bit 1: tenant, bit 2: owner): the text never varies otherwise. */
  readonly #getText: readonly string[]
  readonly #cursorChecks = new Map<string, TypeCheck<TSchema>>()
  /** The comment that names each statement (`/* name: todos.list *\/ `), for the slow-query log and the server's views. */
  readonly #name: Readonly<Record<'list' | 'get' | 'getMany' | 'insert' | 'update' | 'delete', string>>

  constructor(resource: ResourceDefinition) {
    this.#resource = resource
    // Resource names are snake_case identifiers, so they cannot close the comment.
    const name = (operation: string) => `/* name: ${resource.name}.${operation} */ `
    this.#name = {
      list: name('list'),
      get: name('get'),
      getMany: name('getMany'),
      insert: name('insert'),
      update: name('update'),
      delete: name('delete'),
    }
    this.#pk = q(resource.primaryKey)
    this.#table = q(resource.name)
    this.#fields = new Map(resource.fields.map((f) => [f.name, f]))
    this.#quoted = new Map(resource.fields.map((f) => [f.name, q(f.name)]))
    // Dates go out as their text (YYYY-MM-DD): a Date object would shift with the time zone.
    this.#columns = resource.fields
      .filter((f) => !f.sensitive)
      .map((f) => (f.type === 'date' ? `${q(f.name)}::text as ${q(f.name)}` : q(f.name)))
      .join(', ')
    this.#getText = [0, 1, 2, 3].map((shape) => {
      const where = [`${this.#pk} = $1`, ...this.#scopeConditions(shapeScope(resource, shape), [null])]
      return `${this.#name.get}select ${this.#columns} from ${this.#table}${clause(where)}`
    })
  }

  /** A page of rows, one more than `limit` so the caller knows whether another page follows. */
  list(endpoint: ListEndpoint, request: ListRequest, scope: RowScope): Statement {
    const params: unknown[] = []
    const where = this.#scopeConditions(scope, params)
    for (const name in request.filters) {
      const value = request.filters[name]
      where.push(`${this.#q(name)} = ${this.#param(this.#field(name), value, params)}`)
    }
    if (request.q !== undefined && endpoint.search.length > 0) {
      params.push(`%${request.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      where.push(
        `(${endpoint.search.map((name) => `${this.#q(name)} ilike $${params.length}`).join(' or ')})`,
      )
    }
    const [column, descending] = sortOf(request.sort, this.#resource.primaryKey)
    if (request.cursor) where.push(this.#after(column, descending, request.cursor, params))
    // A cursor needs the sort value at full precision: timestamptz keeps microseconds, a Date keeps
    // milliseconds, and a rounded cursor would repeat or skip rows at a page boundary.
    const precise =
      this.#fields.get(column)?.type === 'timestamp'
        ? `, to_char(${this.#q(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "${cursorValue}"`
        : ''
    const direction = descending ? 'desc' : 'asc'
    const order =
      column === this.#resource.primaryKey
        ? `${this.#pk} ${direction}`
        : `${this.#q(column)} ${direction} nulls last, ${this.#pk} ${direction}`
    params.push(request.limit + 1)
    let sql = `${this.#name.list}select ${this.#columns}${precise} from ${this.#table}${clause(where)} order by ${order} limit $${params.length}`
    if (request.offset) {
      params.push(request.offset)
      sql += ` offset $${params.length}`
    }
    return { sql, params }
  }

  /** The cursor that continues after `row` under `sort`. */
  cursorAfter(row: Record<string, unknown>, sort: string | undefined): string {
    const [column] = sortOf(sort, this.#resource.primaryKey)
    return encodeCursor({
      sort: sort ?? this.#resource.primaryKey,
      value: cursorValue in row ? row[cursorValue] : row[column],
      key: row[this.#resource.primaryKey],
    })
  }

  /**
   * Checks that a decoded cursor's values have the types of the sort field and the primary key,
   * so a forged cursor is a 400, not a database error.
   */
  checkCursor(position: CursorPosition): CursorPosition {
    const [column] = sortOf(position.sort, this.#resource.primaryKey)
    const check = (name: string, nullable: boolean) => {
      let compiled = this.#cursorChecks.get(`${name}:${nullable}`)
      if (!compiled) {
        const schema = valueSchema(this.#field(name))
        compiled = TypeCompiler.Compile(nullable ? Type.Union([schema, Type.Null()]) : schema)
        this.#cursorChecks.set(`${name}:${nullable}`, compiled)
      }
      return compiled
    }
    if (
      !check(column, true).Check(position.value) ||
      !check(this.#resource.primaryKey, false).Check(position.key)
    ) {
      throw validationError([
        { pointer: '/query/cursor', message: 'invalid cursor: it is not a cursor this API made' },
      ])
    }
    return position
  }

  get(id: unknown, scope: RowScope): Statement {
    const { tenant, owner } = scope
    if (
      (tenant && tenant.field !== this.#resource.tenant?.field) ||
      (owner && owner.field !== this.#resource.owner)
    ) {
      // Not a scope scopeFor makes for this resource: built as given, never from the prepared texts.
      const params: unknown[] = [id]
      const where = [`${this.#pk} = $1`, ...this.#scopeConditions(scope, params)]
      return { sql: `${this.#name.get}select ${this.#columns} from ${this.#table}${clause(where)}`, params }
    }
    // The scope's values in the order #scopeConditions numbers them: tenant, then owner.
    const params: unknown[] = [id]
    if (tenant) params.push(tenant.value)
    if (owner) params.push(owner.value)
    return { sql: this.#getText[(tenant ? 1 : 0) | (owner ? 2 : 0)]!, params }
  }

  /** The rows in scope whose primary key is one of `ids` (related rows for `?include=`). */
  getMany(ids: readonly unknown[], scope: RowScope): Statement {
    const params: unknown[] = [ids]
    const where = [`${this.#pk} = any($1)`, ...this.#scopeConditions(scope, params)]
    return {
      sql: `${this.#name.getMany}select ${this.#columns} from ${q(this.#resource.name)}${clause(where)}`,
      params,
    }
  }

  /** Inserts `values`; the tenant field comes from the scope and the owner field is the caller, never the body. */
  insert(values: Readonly<Record<string, unknown>>, scope: RowScope): Statement {
    const row: Record<string, unknown> = { ...values }
    if (scope.tenant) row[scope.tenant.field] = scope.tenant.value
    if (this.#resource.owner && scope.actor !== undefined) row[this.#resource.owner] = scope.actor
    const params: unknown[] = []
    const names = Object.keys(row)
    const placeholders = names.map((name) => this.#param(findField(this.#resource, name)!, row[name], params))
    const sql =
      names.length === 0
        ? `${this.#name.insert}insert into ${q(this.#resource.name)} default values returning ${this.#columns}`
        : `${this.#name.insert}insert into ${q(this.#resource.name)} (${names.map(q).join(', ')}) values (${placeholders.join(', ')}) returning ${this.#columns}`
    return { sql, params }
  }

  /** Updates the given fields, and the fields generated on update (`updated_at`), of one row in scope. */
  update(id: unknown, values: Readonly<Record<string, unknown>>, scope: RowScope): Statement {
    const params: unknown[] = [id]
    const sets = Object.entries(values).map(
      ([name, value]) => `${q(name)} = ${this.#param(findField(this.#resource, name)!, value, params)}`,
    )
    for (const field of this.#resource.fields) {
      if (field.generated === 'update') sets.push(`${q(field.name)} = now()`)
    }
    const where = [`${this.#pk} = $1`, ...this.#scopeConditions(scope, params)]
    return {
      sql: `${this.#name.update}update ${q(this.#resource.name)} set ${sets.join(', ')}${clause(where)} returning ${this.#columns}`,
      params,
    }
  }

  /** Deletes one row in scope, or marks it deleted when the resource soft-deletes. */
  delete(id: unknown, scope: RowScope): Statement {
    const params: unknown[] = [id]
    const where = [`${this.#pk} = $1`, ...this.#scopeConditions(scope, params)]
    const table = q(this.#resource.name)
    const sql = this.#resource.softDelete
      ? `${this.#name.delete}update ${table} set deleted_at = now()${clause(where)} returning ${this.#columns}`
      : `${this.#name.delete}delete from ${table}${clause(where)} returning ${this.#columns}`
    return { sql, params }
  }

  #scopeConditions(scope: RowScope, params: unknown[]): string[] {
    const where: string[] = []
    if (scope.tenant) {
      params.push(scope.tenant.value)
      where.push(`${q(scope.tenant.field)} = $${params.length}`)
    }
    if (scope.owner) {
      params.push(scope.owner.value)
      where.push(`${q(scope.owner.field)} = $${params.length}`)
    }
    if (this.#resource.softDelete) where.push('deleted_at is null')
    return where
  }

  /** Rows after a cursor position, null sort values last, the primary key breaking ties. */
  #after(column: string, descending: boolean, position: CursorPosition, params: unknown[]): string {
    const field = this.#field(column)
    const pk = this.#field(this.#resource.primaryKey)
    const key = this.#param(pk, position.key, params)
    const beyond = descending ? '<' : '>'
    if (column === this.#resource.primaryKey) return `${this.#pk} ${beyond} ${key}`
    const col = this.#q(column)
    if (position.value === null) return `(${col} is null and ${this.#pk} ${beyond} ${key})`
    const value = this.#param(field, position.value, params)
    return `(${col} ${beyond} ${value} or (${col} = ${value} and ${this.#pk} ${beyond} ${key}) or ${col} is null)`
  }

  /** A declared field (names reaching here were validated against the definition). */
  #field(name: string): FieldDefinition {
    return this.#fields.get(name)!
  }

  /** A declared field's quoted identifier. */
  #q(name: string): string {
    return this.#quoted.get(name) ?? q(name)
  }

  /** A placeholder for a field's value; json goes wrapped, since postgres.js would send a bare array as a Postgres array. */
  #param(field: FieldDefinition, value: unknown, params: unknown[]): string {
    if (field.type === 'json' && value !== null) {
      params.push({ v: value })
      return `($${params.length}::jsonb->'v')`
    }
    params.push(value)
    return `$${params.length}`
  }
}

/** The extra column a cursor page selects: the sort value as exact text. */
const cursorValue = 'keel_cursor_value'

const clause = (where: readonly string[]) => (where.length === 0 ? '' : ` where ${where.join(' and ')}`)

/** A scope of the given shape (bit 1: tenant, bit 2: owner), its values left out: for building texts. */
function shapeScope(resource: ResourceDefinition, shape: number): RowScope {
  return {
    ...(shape & 1 && resource.tenant ? { tenant: { field: resource.tenant.field, value: '' } } : {}),
    ...(shape & 2 && resource.owner ? { owner: { field: resource.owner, value: '' } } : {}),
  }
}

/** The sort column and direction; the primary key, ascending, without a sort. */
function sortOf(sort: string | undefined, primaryKey: string): [string, boolean] {
  if (!sort) return [primaryKey, false]
  return sort.startsWith('-') ? [sort.slice(1), true] : [sort, false]
}
