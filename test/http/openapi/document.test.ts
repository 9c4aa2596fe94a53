import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { App } from 'keel/app'
import { apiKeyAuth, authorize, jwtAuth, type OpenApiDocument, openApiDocument, Type } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { guards, shopApi } from './fixtures/shop-api.ts'

const shop = () => shopApi(testApp({ yaml: 'service:\n  name: shop\n  version: 1.2.3\n' }).app)
const bare = (): App => testApp().app

/** Every JSON Schema in the document: components, parameters, bodies, responses, headers. */
function schemasIn(document: OpenApiDocument): unknown[] {
  const found: unknown[] = Object.values(document.components.schemas)
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item)
      return
    }
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema') found.push(value)
      else walk(value)
    }
  }
  walk(document.paths)
  walk(document.components.responses)
  return found
}

describe('openApiDocument()', () => {
  it('passes a real OpenAPI 3.1 validator for an app with typed routes, groups and auth guards', async () => {
    const document = openApiDocument(shop().describe())
    const validator = new Validator()
    const result = await validator.validate(structuredClone(document) as never)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('writes every schema as valid JSON Schema 2020-12, the dialect of OpenAPI 3.1', () => {
    const document = openApiDocument(shop().describe())
    const ajv = new Ajv2020({ strict: false, validateFormats: false })
    ajv.addSchema({ $id: 'https://keel.test/doc', components: document.components })
    for (const schema of schemasIn(document)) {
      // Refs point into the document: resolve them against it.
      const rebased = JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/', '"https://keel.test/doc#/components/'),
      )
      expect(ajv.validateSchema(rebased), JSON.stringify(ajv.errors)).toBe(true)
      expect(() => ajv.compile(rebased)).not.toThrow()
    }
  })

  it('takes the title and version from the service, or from the options', () => {
    expect(openApiDocument(shop().describe()).info).toEqual({ title: 'shop', version: '1.2.3' })
    const info = openApiDocument(shop().describe(), {
      title: 'Shop API',
      version: '2.0.0',
      description: 'Sells anchors.',
      servers: [{ url: 'https://shop.example.com', description: 'production' }],
    })
    expect(info.info).toEqual({ title: 'Shop API', version: '2.0.0', description: 'Sells anchors.' })
    expect(info.servers).toEqual([{ url: 'https://shop.example.com', description: 'production' }])
  })

  it('converts route templates to OpenAPI paths and declares every path parameter', () => {
    const { paths } = openApiDocument(shop().describe())
    expect(Object.keys(paths)).toEqual([
      '/api/v1/products',
      '/api/v1/products/{id}',
      '/files/{wildcard}',
      '/partners/orders/{orderId}/items/{itemId}',
      '/ping',
    ])
    expect(paths['/api/v1/products/{id}']!.get!.parameters![0]).toEqual({
      name: 'id',
      in: 'path',
      description: 'product number',
      required: true,
      schema: { type: 'integer', minimum: 1, description: 'product number' },
    })
    // No params schema: the parameter is still declared, as a string.
    expect(paths['/files/{wildcard}']!.get!.parameters).toEqual([
      { name: 'wildcard', in: 'path', required: true, schema: { type: 'string' } },
    ])
    expect(paths['/partners/orders/{orderId}/items/{itemId}']!.put!.parameters!.map((p) => p.name)).toEqual([
      'orderId',
      'itemId',
    ])
  })

  it('describes query parameters with their required flags and arrays as exploded form values', () => {
    const { paths } = openApiDocument(shop().describe())
    expect(paths['/api/v1/products']!.get!.parameters).toEqual([
      {
        name: 'limit',
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      },
      {
        name: 'tag',
        in: 'query',
        required: false,
        schema: { type: 'array', items: { type: 'string' } },
        style: 'form',
        explode: true,
      },
    ])
  })

  it('describes header parameters and leaves out the ones OpenAPI reserves', () => {
    const app = bare()
    app.get(
      '/h',
      {
        headers: Type.Object({
          'x-tenant': Type.String(),
          'x-trace': Type.Optional(Type.Array(Type.String())),
          authorization: Type.String(),
        }),
      },
      () => undefined,
    )
    expect(openApiDocument(app.describe()).paths['/h']!.get!.parameters).toEqual([
      { name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } },
      {
        name: 'x-trace',
        in: 'header',
        required: false,
        schema: { type: 'array', items: { type: 'string' } },
        style: 'simple',
        explode: false,
      },
    ])
  })

  it('describes a JSON request body, closed to undeclared fields unless the route allows them', () => {
    const app = bare()
    const Body = Type.Object({ name: Type.String(), meta: Type.Object({ note: Type.String() }) })
    app.post('/closed', { body: Body }, () => undefined)
    app.post('/open', { body: Body, allowUnknown: { body: true } }, () => undefined)
    const { paths } = openApiDocument(app.describe())
    expect(paths['/closed']!.post!.requestBody).toEqual({
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['name', 'meta'],
            properties: {
              name: { type: 'string' },
              meta: {
                type: 'object',
                required: ['note'],
                properties: { note: { type: 'string' } },
                additionalProperties: false,
              },
            },
            additionalProperties: false,
          },
        },
      },
    })
    const open = paths['/open']!.post!.requestBody!.content['application/json']!.schema
    expect(JSON.stringify(open)).not.toContain('additionalProperties')
  })

  it('describes declared responses by status, as JSON, as text, or without content', () => {
    const app = bare()
    app.get('/text', { response: { 200: Type.String() } }, () => 'hi')
    const { paths } = openApiDocument(shopApi(app).describe())
    expect(paths['/api/v1/products']!.get!.responses['200']).toEqual({
      description: 'OK',
      content: {
        'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Product' } } },
      },
    })
    expect(paths['/api/v1/products']!.post!.responses['201']).toEqual({
      description: 'Created',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Product' } } },
    })
    expect(paths['/api/v1/products/{id}']!.delete!.responses['204']).toEqual({ description: 'No Content' })
    expect(paths['/text']!.get!.responses['200']).toEqual({
      description: 'OK',
      content: { 'text/plain': { schema: { type: 'string' } } },
    })
    expect(paths['/ping']!.get!.responses['200']).toEqual({
      description: 'OK (the route declares no response schema)',
    })
  })

  it('adds the problem-details error responses that apply to each operation', () => {
    const { paths } = openApiDocument(shop().describe())
    const refs = (operation: { responses: Record<string, unknown> }) =>
      Object.fromEntries(
        Object.entries(operation.responses)
          .filter(([, r]) => '$ref' in (r as object))
          .map(([status, r]) => [
            status,
            (r as { $ref: string }).$ref.replace('#/components/responses/', ''),
          ]),
      )
    // Untyped: no validation, so no 400; the app-wide rate limit gives 429.
    expect(refs(paths['/ping']!.get!)).toEqual({
      '429': 'TooManyRequests',
      '500': 'InternalError',
      '503': 'ServiceUnavailable',
    })
    expect(refs(paths['/api/v1/products/{id}']!.get!)).toEqual({
      '400': 'ValidationFailed',
      '401': 'Unauthorized',
      '404': 'NotFound',
      '429': 'TooManyRequests',
      '500': 'InternalError',
      '503': 'ServiceUnavailable',
    })
    // A body adds malformed JSON (400), too large (413) and not JSON (415); authorize adds 403.
    expect(refs(paths['/api/v1/products']!.post!)).toEqual({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '413': 'ContentTooLarge',
      '415': 'UnsupportedMediaType',
      '429': 'TooManyRequests',
      '500': 'InternalError',
      '503': 'ServiceUnavailable',
    })
    // Responses come out sorted by status.
    expect(Object.keys(paths['/api/v1/products']!.post!.responses)).toEqual([
      '201',
      '400',
      '401',
      '403',
      '413',
      '415',
      '429',
      '500',
      '503',
    ])
  })

  it('shares ProblemDetails and ValidationProblem schemas, served as application/problem+json', () => {
    const { components } = openApiDocument(shop().describe())
    expect(Object.keys(components.schemas)).toEqual(['ProblemDetails', 'ValidationProblem', 'Product'])
    expect(components.schemas.ProblemDetails).toMatchObject({
      type: 'object',
      required: ['type', 'title', 'status', 'code'],
    })
    expect(JSON.stringify(components.schemas.ValidationProblem)).toContain('"errors"')
    expect(JSON.stringify(components.schemas.ValidationProblem)).toContain('"pointer"')
    for (const [name, response] of Object.entries(components.responses)) {
      expect(Object.keys(response.content ?? {}), name).toEqual(['application/problem+json'])
    }
    expect(components.responses.ValidationFailed!.content!['application/problem+json']!.schema).toEqual({
      $ref: '#/components/schemas/ValidationProblem',
    })
    expect(components.responses.MethodNotAllowed!.headers).toHaveProperty('Allow')
    expect(components.responses.TooManyRequests!.headers).toHaveProperty('Retry-After')
  })

  it('the problem schemas describe the problems the app really sends', async () => {
    const app = shop()
    const { components } = openApiDocument(app.describe())
    const ajv = new Ajv2020({ strict: false, validateFormats: false })
    ajv.addSchema({ $id: 'https://keel.test/doc', components })
    const validation = ajv.getSchema('https://keel.test/doc#/components/schemas/ValidationProblem')!
    const details = ajv.getSchema('https://keel.test/doc#/components/schemas/ProblemDetails')!
    const invalid = await app.inject({ url: '/api/v1/products?limit=0&nope=1' })
    expect(invalid.statusCode).toBe(400)
    expect(validation(invalid.json()), JSON.stringify(validation.errors)).toBe(true)
    const missing = await app.inject({ url: '/nothing' })
    expect(missing.statusCode).toBe(404)
    expect(details(missing.json()), JSON.stringify(details.errors)).toBe(true)
  })

  it('declares security schemes from auth guards and the scopes each operation needs', () => {
    const { paths, components } = openApiDocument(shop().describe())
    expect(components.securitySchemes).toEqual({
      apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    })
    expect(paths['/api/v1/products']!.get!.security).toEqual([{ bearerAuth: [] }])
    expect(paths['/api/v1/products']!.post!.security).toEqual([{ bearerAuth: ['products:write'] }])
    expect(paths['/api/v1/products/{id}']!.delete!.security).toEqual([{ bearerAuth: ['admin'] }])
    expect(paths['/partners/orders/{orderId}/items/{itemId}']!.put!.security).toEqual([{ apiKeyAuth: [] }])
    expect(paths['/ping']!.get!.security).toBeUndefined()
  })

  it('reads the real auth guards the same way', () => {
    const app = bare()
    const jwt = jwtAuth({ secret: 'a-shared-secret-of-at-least-32-bytes!!', securityScheme: 'staffJwt' })
    const key = apiKeyAuth({ keys: [], header: 'x-partner-key' })
    app.get('/staff', { guards: [jwt, authorize({ roles: ['staff'], scopes: ['read'] })] }, () => undefined)
    app.get('/partner', { guards: [key] }, () => undefined)
    const { paths, components } = openApiDocument(app.describe())
    expect(components.securitySchemes).toEqual({
      apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-partner-key' },
      staffJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    })
    expect(paths['/staff']!.get!.security).toEqual([{ staffJwt: ['read', 'staff'] }])
    expect(paths['/partner']!.get!.security).toEqual([{ apiKeyAuth: [] }])
    expect(JSON.stringify(components)).not.toContain('a-shared-secret')
  })

  it('applies app-wide auth guards to every operation and ignores guards it does not know', () => {
    const app = bare()
    app.guard(guards.custom, guards.jwt)
    app.get('/a', () => 'a')
    const document = openApiDocument(app.describe())
    expect(document.paths['/a']!.get!.security).toEqual([{ bearerAuth: [] }])
    expect(JSON.stringify(document)).not.toContain('acme')
    const plain = bare()
    plain.get('/b', { guards: [guards.custom] }, () => undefined)
    const { paths, components } = openApiDocument(plain.describe())
    expect(paths['/b']!.get!.security).toBeUndefined()
    expect(components.securitySchemes).toBeUndefined()
  })

  it('turns optional credentials and "any" authorization into alternatives', () => {
    const app = bare()
    const optionalJwt = { ...guards.jwt, options: { ...guards.jwt.options, required: false } }
    const optionalKey = { ...guards.apiKey, options: { ...guards.apiKey.options, required: false } }
    app.get('/maybe', { guards: [optionalJwt] }, () => undefined)
    app.get(
      '/either',
      { guards: [optionalJwt, optionalKey, guards.authorize({ roles: ['staff'] })] },
      () => undefined,
    )
    app.get(
      '/any',
      { guards: [guards.jwt, guards.authorize({ scopes: ['a', 'b'], roles: ['admin'], match: 'any' })] },
      () => undefined,
    )
    const { paths } = openApiDocument(app.describe())
    expect(paths['/maybe']!.get!.security).toEqual([{ bearerAuth: [] }, {}])
    expect(paths['/either']!.get!.security).toEqual([{ bearerAuth: ['staff'] }, { apiKeyAuth: ['staff'] }])
    expect(paths['/any']!.get!.security).toEqual([
      { bearerAuth: ['a', 'admin'] },
      { bearerAuth: ['b', 'admin'] },
    ])
  })

  it('names two different schemes that ask for one name apart', () => {
    const app = bare()
    const otherKey = { ...guards.apiKey, options: { ...guards.apiKey.options, header: 'x-partner-key' } }
    app.get('/a', { guards: [guards.apiKey] }, () => undefined)
    app.get('/b', { guards: [otherKey] }, () => undefined)
    const { components, paths } = openApiDocument(app.describe())
    expect(components.securitySchemes).toEqual({
      apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      apiKeyAuth_2: { type: 'apiKey', in: 'header', name: 'x-partner-key' },
    })
    expect(paths['/b']!.get!.security).toEqual([{ apiKeyAuth_2: [] }])
  })

  it('leaves out internal routes (probes, metrics, the document, the docs) unless asked', () => {
    const app = shop()
    const paths = Object.keys(openApiDocument(app.describe()).paths)
    for (const internal of ['/live', '/ready', '/health', '/startup', '/metrics', '/openapi.json', '/docs'])
      expect(paths).not.toContain(internal)
    const all = openApiDocument(app.describe(), { includeInternal: true })
    expect(Object.keys(all.paths)).toEqual(
      expect.arrayContaining(['/live', '/metrics', '/openapi.json', '/docs']),
    )
    // Internal routes skip app-wide guards: no rate limit and no 503-while-starting on a probe.
    expect(Object.keys(all.paths['/live']!.get!.responses)).toEqual(['200', '500'])
  })

  it('uses summary, description, tags and deprecated, and lists the tags at the top', () => {
    const document = openApiDocument(shop().describe())
    expect(document.tags).toEqual([{ name: 'partners' }, { name: 'products' }])
    const list = document.paths['/api/v1/products']!.get!
    expect(list).toMatchObject({
      tags: ['products'],
      summary: 'List products',
      operationId: 'getApiV1Products',
    })
    const one = document.paths['/api/v1/products/{id}']!
    expect(one.get).toMatchObject({ description: 'One product by its number.', operationId: 'getProduct' })
    expect(one.delete!.deprecated).toBe(true)
    expect(one.get!.deprecated).toBeUndefined()
  })

  it('derives unique operationIds and refuses two routes with the same explicit one', () => {
    const app = bare()
    app.get('/users-list', () => undefined)
    app.get('/users/list', () => undefined)
    app.get('/', () => undefined)
    const { paths } = openApiDocument(app.describe())
    expect(paths['/']!.get!.operationId).toBe('getRoot')
    expect(paths['/users-list']!.get!.operationId).toBe('getUsersList')
    expect(paths['/users/list']!.get!.operationId).toBe('getUsersList_2')
    const clash = bare()
    clash.get('/a', { operationId: 'fetch' }, () => undefined)
    clash.get('/b', { operationId: 'fetch' }, () => undefined)
    expect(() => openApiDocument(clash.describe())).toThrow(
      /routes GET \/a and GET \/b have the same operationId "fetch"/,
    )
  })

  it('gives an optional last parameter two paths, as the router does', () => {
    const app = bare()
    app.get('/pages/:page?', () => undefined)
    const { paths } = openApiDocument(app.describe())
    expect(paths['/pages']!.get!.parameters).toBeUndefined()
    expect(paths['/pages/{page}']!.get!.parameters).toEqual([
      { name: 'page', in: 'path', required: true, schema: { type: 'string' } },
    ])
    expect(paths['/pages']!.get!.operationId).not.toBe(paths['/pages/{page}']!.get!.operationId)
  })
})
