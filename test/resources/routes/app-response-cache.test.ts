import { database } from 'keel/data'
import {
  checkResourceFiles,
  MemoryResponseCache,
  type ResourceDefinition,
  serveResources,
} from 'keel/resources'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

function definitions(): ResourceDefinition[] {
  const set = checkResourceFiles([
    {
      file: 'resources/notes.yaml',
      text: `
resource: notes
version: 1
fields:
  id:   { type: integer, primary: true, generated: true }
  body: { type: text, required: true }
endpoints:
  get: { auth: [public], cache: { ttl: 5 } }
`,
    },
  ])
  expect(set.issues).toEqual([])
  return [...set.definitions]
}

function served(options: Parameters<typeof serveResources>[1]['cache'], env: Record<string, string> = {}) {
  const data = database({ migrations: false })
  const { app } = testApp({ modules: [data], env })
  return serveResources(app, {
    database: data,
    resources: definitions(),
    ...(options ? { cache: options } : {}),
  })
}

describe('the answer cache serveResources picks', () => {
  it('is in memory without redis.url', () => {
    expect(served(undefined).cache.kind).toBe('memory')
  })

  it('is the instance passed in', () => {
    const cache = new MemoryResponseCache({ maxEntries: 5 })
    expect(served(cache).cache).toBe(cache)
  })

  it('refuses store: redis without redis.url, naming the setting', () => {
    expect(() => served({ store: 'redis' })).toThrow(
      'serveResources: cache.store "redis" needs redis.url (REDIS_URL, or redis.url in keel.yaml), which is not set',
    )
  })

  it('refuses an unknown store', () => {
    expect(() => served({ store: 'disk' as 'memory' }, { REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(
      'serveResources: cache.store must be "memory" or "redis", got "disk"',
    )
  })
})
