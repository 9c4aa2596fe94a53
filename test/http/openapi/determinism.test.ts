import type { App } from 'keel/app'
import { openApiDocument, Type } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { guards, Product } from './fixtures/shop-api.ts'

const yaml = 'service:\n  name: shop\n  version: 1.2.3\n'

/** Each step adds one route; the document must not care in which order they run. */
const steps: Array<(app: App) => void> = [
  (app) => app.get('/products', { tags: ['products'], response: { 200: Type.Array(Product) } }, () => []),
  (app) =>
    app.get(
      '/products/:id',
      { tags: ['products'], params: Type.Object({ id: Type.Integer() }), response: { 200: Product } },
      () => ({ id: 1, name: 'a', price: 1, tags: [] }),
    ),
  (app) =>
    app.post(
      '/products',
      {
        tags: ['admin'],
        guards: [guards.jwt, guards.authorize({ scopes: ['write'] })],
        body: Type.Object({ name: Type.String() }),
      },
      () => undefined,
    ),
  (app) => app.put('/partners/:id', { guards: [guards.apiKey], tags: ['partners'] }, () => undefined),
  (app) => app.delete('/products/:id', { guards: [guards.jwt] }, () => undefined),
  (app) => app.get('/users-list', () => 'x'),
  (app) => app.get('/users/list', () => 'y'),
  (app) => app.get('/', () => 'root'),
]

function build(order: readonly number[]): string {
  const { app } = testApp({ yaml })
  for (const index of order) steps[index]!(app)
  return JSON.stringify(openApiDocument(app.describe()), null, 2)
}

describe('deterministic output', () => {
  it('gives byte-identical JSON for the same app built twice', () => {
    const order = steps.map((_, i) => i)
    expect(build(order)).toBe(build(order))
  })

  it('gives byte-identical JSON whatever order the routes were added in', () => {
    const forward = steps.map((_, i) => i)
    const expected = build(forward)
    expect(build([...forward].reverse())).toBe(expected)
    expect(build([3, 0, 6, 2, 7, 5, 1, 4])).toBe(expected)
  })

  it('sorts paths, puts methods in OpenAPI order, and carries no timestamps', () => {
    const document = JSON.parse(build([7, 6, 5, 4, 3, 2, 1, 0]))
    const paths = Object.keys(document.paths)
    expect(paths).toEqual([...paths].sort())
    expect(Object.keys(document.paths['/products/{id}'])).toEqual(['get', 'delete'])
    expect(Object.keys(document.paths['/products'])).toEqual(['get', 'post'])
    expect(document.tags).toEqual([{ name: 'admin' }, { name: 'partners' }, { name: 'products' }])
    expect(JSON.stringify(document)).not.toMatch(/20\d\d-\d\d-\d\dT/)
  })
})
