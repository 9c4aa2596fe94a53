import { Ajv2020 } from 'ajv/dist/2020.js'
import { openApiDocument, Type } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { SchemaComponents } from '../../../src/http/openapi/schema-components.ts'
import { testApp } from '../../support/test-app.ts'

const convert = (schema: unknown, options = {}) => new SchemaComponents({}).convert(schema, 'test', options)
const ajv = () => new Ajv2020({ strict: false, validateFormats: false })

describe('TypeBox schemas as JSON Schema 2020-12', () => {
  it("drops TypeBox's symbol keys", () => {
    const schema = Type.Object({ a: Type.Optional(Type.String()), b: Type.Readonly(Type.Number()) })
    const converted = convert(schema) as Record<string | symbol, unknown>
    expect(Object.getOwnPropertySymbols(converted)).toEqual([])
    const a = (converted.properties as Record<string, object>).a!
    expect(Object.getOwnPropertySymbols(a)).toEqual([])
    expect(converted).toEqual({
      type: 'object',
      required: ['b'],
      properties: { a: { type: 'string' }, b: { type: 'number' } },
    })
  })

  it('writes tuples with prefixItems, which 2020-12 requires', () => {
    const converted = convert(Type.Tuple([Type.String(), Type.Number()]))
    expect(converted).toEqual({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'number' }],
      minItems: 2,
      maxItems: 2,
      items: false,
    })
    const validate = ajv().compile(converted as object)
    expect(validate(['a', 1])).toBe(true)
    expect(validate(['a', 'b'])).toBe(false)
    expect(ajv().validateSchema(converted as object)).toBe(true)
  })

  it('maps TypeBox-only types to what travels in JSON', () => {
    expect(convert(Type.Date({ description: 'when' }))).toEqual({
      type: 'string',
      format: 'date-time',
      description: 'when',
    })
    expect(convert(Type.Uint8Array())).toEqual({ type: 'string', contentEncoding: 'base64' })
    expect(convert(Type.BigInt())).toEqual({ type: 'integer' })
    expect(convert(Type.RegExp(/^a+$/))).toEqual({ type: 'string', pattern: '^a+$' })
    expect(convert(Type.Undefined())).toEqual({ not: {} })
    expect(convert(Type.Object({ gone: Type.Optional(Type.Undefined()) }))).toEqual({
      type: 'object',
      properties: { gone: { not: {} } },
    })
  })

  it('writes a record over any key as additionalProperties', () => {
    expect(convert(Type.Record(Type.String(), Type.Integer()))).toEqual({
      type: 'object',
      additionalProperties: { type: 'integer' },
    })
    // A record over number keys keeps its pattern.
    expect(convert(Type.Record(Type.Number(), Type.String()))).toHaveProperty('patternProperties')
  })

  it('keeps JSON Schema as it is: unions, literals, enums, nullable values, formats', () => {
    const schema = Type.Object({
      kind: Type.Union([Type.Literal('a'), Type.Literal('b')]),
      note: Type.Union([Type.String(), Type.Null()]),
      email: Type.String({ format: 'email' }),
      tags: Type.Array(Type.String(), { uniqueItems: true }),
    })
    expect(convert(schema)).toEqual(JSON.parse(JSON.stringify(schema)))
  })

  it('treats a property named __proto__ as a name', () => {
    const converted = convert(Type.Object({ ['__proto__']: Type.String() }, { additionalProperties: false }))
    expect(Object.getPrototypeOf((converted as { properties: object }).properties)).toBe(Object.prototype)
    expect(JSON.stringify(converted)).toContain('"__proto__":{"type":"string"}')
  })
})

describe('shared schemas', () => {
  const User = Type.Object({ id: Type.Integer(), name: Type.String() }, { $id: 'User' })

  it('hoists a schema with an $id into components and refers to it', () => {
    const { app } = testApp()
    app.get('/users', { response: { 200: Type.Array(User) } }, () => [])
    app.post('/users', { body: Type.Object({ name: Type.String() }), response: { 201: User } }, () => ({
      id: 1,
      name: 'a',
    }))
    const { components, paths } = openApiDocument(app.describe())
    expect(components.schemas.User).toEqual({
      type: 'object',
      required: ['id', 'name'],
      properties: { id: { type: 'integer' }, name: { type: 'string' } },
    })
    expect(paths['/users']!.post!.responses['201']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } },
    })
  })

  it('resolves Type.Ref and recursive schemas to components', () => {
    const Node = Type.Recursive((This) => Type.Object({ name: Type.String(), children: Type.Array(This) }), {
      $id: 'TreeNode',
    })
    const { app } = testApp()
    app.get('/tree', { response: { 200: Type.Object({ root: Node, again: Type.Ref(Node) }) } }, () => ({
      root: { name: 'r', children: [] },
      again: { name: 'r', children: [] },
    }))
    const { components, paths } = openApiDocument(app.describe())
    expect(components.schemas.TreeNode).toEqual({
      type: 'object',
      required: ['name', 'children'],
      properties: {
        name: { type: 'string' },
        children: { type: 'array', items: { $ref: '#/components/schemas/TreeNode' } },
      },
    })
    const schema = (paths['/tree']!.get!.responses['200'] as { content: Record<string, { schema: unknown }> })
      .content['application/json']!.schema
    expect(schema).toMatchObject({
      properties: {
        root: { $ref: '#/components/schemas/TreeNode' },
        again: { $ref: '#/components/schemas/TreeNode' },
      },
    })
  })

  it('names components after URL $ids without their origin', () => {
    const Money = Type.Object({ cents: Type.Integer() }, { $id: 'https://schemas.example.com/money.json' })
    const { app } = testApp()
    app.get('/price', { response: { 200: Money } }, () => ({ cents: 1 }))
    expect(Object.keys(openApiDocument(app.describe()).components.schemas)).toContain('money')
  })

  it('refuses two different schemas with one $id, naming both places', () => {
    const { app } = testApp()
    app.get('/a', { response: { 200: User } }, () => ({ id: 1, name: 'a' }))
    app.get('/b', { response: { 200: Type.Object({ id: Type.String() }, { $id: 'User' }) } }, () => ({
      id: 'x',
    }))
    expect(() => openApiDocument(app.describe())).toThrow(
      'openapi: two different schemas have $id "User" (GET /a response 200; GET /b response 200)',
    )
  })

  it("refuses an $id that takes the name of Keel's own ProblemDetails", () => {
    const { app } = testApp()
    app.get('/p', { response: { 200: Type.Object({}, { $id: 'ProblemDetails' }) } }, () => ({}))
    expect(() => openApiDocument(app.describe())).toThrow(/"ProblemDetails", which Keel reserves/)
  })
})
