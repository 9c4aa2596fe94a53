import { MemoryResponseCache } from 'keel/resources'
import { describe, expect, it } from 'vitest'

describe('MemoryResponseCache', () => {
  it('answers a stored body until its TTL runs out', async () => {
    let now = 1_000
    const cache = new MemoryResponseCache({ now: () => now })
    const miss = await cache.get('todos', 'scope', '/v1/todos/1')
    expect(miss.body).toBeUndefined()
    await cache.set(miss.key, '{"id":1}', 30)
    expect((await cache.get('todos', 'scope', '/v1/todos/1')).body).toBe('{"id":1}')
    expect((await cache.get('todos', 'other scope', '/v1/todos/1')).body).toBeUndefined()
    now += 30_000
    expect((await cache.get('todos', 'scope', '/v1/todos/1')).body).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('drops every answer of a resource on invalidate, and only of that resource', async () => {
    const cache = new MemoryResponseCache()
    for (const [resource, target] of [
      ['todos', '/v1/todos'],
      ['todos', '/v1/todos/1'],
      ['notes', '/v2/notes'],
    ] as const) {
      await cache.set((await cache.get(resource, '', target)).key, `"${target}"`, 30)
    }
    await cache.invalidate('todos')
    expect((await cache.get('todos', '', '/v1/todos')).body).toBeUndefined()
    expect((await cache.get('todos', '', '/v1/todos/1')).body).toBeUndefined()
    expect((await cache.get('notes', '', '/v2/notes')).body).toBe('"/v2/notes"')
  })

  it('never serves an answer loaded before a write that committed while it loaded', async () => {
    const cache = new MemoryResponseCache()
    const before = await cache.get('todos', '', '/v1/todos/1')
    await cache.invalidate('todos') // the write commits while the read's query runs
    await cache.set(before.key, '{"title":"old"}', 30)
    expect((await cache.get('todos', '', '/v1/todos/1')).body).toBeUndefined()
  })

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new MemoryResponseCache({ maxEntries: 2 })
    for (const target of ['/a', '/b', '/c']) await cache.set((await cache.get('r', '', target)).key, '1', 30)
    expect(cache.size).toBe(2)
    expect((await cache.get('r', '', '/a')).body).toBeUndefined()
    expect((await cache.get('r', '', '/c')).body).toBe('1')
  })

  it('refuses a maxEntries that is not a positive integer', () => {
    expect(() => new MemoryResponseCache({ maxEntries: 0 })).toThrow(
      'MemoryResponseCache: maxEntries must be a positive integer, got 0',
    )
  })
})
