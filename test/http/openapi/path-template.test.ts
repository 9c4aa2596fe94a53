import { describe, expect, it } from 'vitest'
import { operationIdFor } from '../../../src/http/openapi/operation-id.ts'
import { openApiPaths } from '../../../src/http/openapi/path-template.ts'

const paths = (template: string) => openApiPaths(template).map((p) => p.path)

describe('route templates as OpenAPI paths', () => {
  it.each([
    ['/', '/'],
    ['/users', '/users'],
    ['/users/:id', '/users/{id}'],
    ['/users/:userId/posts/:postId', '/users/{userId}/posts/{postId}'],
    ['/files/*', '/files/{wildcard}'],
    ['/range/:from-:to', '/range/{from}-{to}'],
    ['/image/:name.:ext', '/image/{name}.{ext}'],
    ['/name::verb', '/name:verb'],
    ['/orders/:id(^\\d+)', '/orders/{id}'],
    ['/orders/:id(^\\d+).json', '/orders/{id}.json'],
    ['/api/', '/api'],
  ])('%s → %s', (template, expected) => {
    expect(paths(template)).toEqual([expected])
  })

  it('lists the parameters in template order, with the pattern of a regex parameter', () => {
    expect(openApiPaths('/a/:x/b/:y(^[a-z]{2}$)/*')[0]!.params).toEqual([
      { name: 'x', openApiName: 'x' },
      { name: 'y', openApiName: 'y', pattern: '^(?:[a-z]{2})$' },
      { name: '*', openApiName: 'wildcard' },
    ])
  })

  it('gives an optional last parameter two paths', () => {
    expect(paths('/pages/:page?')).toEqual(['/pages/{page}', '/pages'])
    expect(paths('/:lang?')).toEqual(['/{lang}', '/'])
  })
})

describe('derived operationIds', () => {
  it.each([
    ['GET', '/', 'getRoot'],
    ['GET', '/users', 'getUsers'],
    ['POST', '/users', 'postUsers'],
    ['GET', '/users/{id}', 'getUsersById'],
    ['DELETE', '/users/{userId}/posts/{postId}', 'deleteUsersByUserIdPostsByPostId'],
    ['GET', '/files/{wildcard}', 'getFilesByWildcard'],
    ['PUT', '/api/v1/order-items', 'putApiV1OrderItems'],
    ['PATCH', '/range/{from}-{to}', 'patchRangeByFromByTo'],
  ])('%s %s → %s', (method, path, id) => {
    expect(operationIdFor(method, path)).toBe(id)
  })
})
