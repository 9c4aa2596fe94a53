import { describe, expect, it } from 'vitest'
import type { ResourceChange } from '../../src/resources/index.ts'
import { type WebhooksModule, webhookChanges } from '../../src/webhooks/index.ts'

/**
 * Records what the hook publishes. Served resources delivering through a real module, on PGlite and
 * PostgreSQL, are tested in webhooks-module-contract.ts.
 */
function recording() {
  const published: Array<{ event: string; data: unknown; options: unknown }> = []
  const module = {
    publish: async (event: string, data: unknown, options: unknown) => {
      published.push({ event, data, options })
      return []
    },
  } as unknown as WebhooksModule
  return { module, published }
}

const change = (extra: Partial<ResourceChange>): ResourceChange => ({
  resource: 'todos',
  type: 'created',
  id: 'r1',
  row: { id: 'r1', title: 'Milk' },
  changed: ['title'],
  isDeclaredEvent: true,
  ...extra,
})

describe('webhookChanges', () => {
  it('publishes a declared change for its tenant, in the write’s transaction', async () => {
    const { module, published } = recording()
    const tx = { query: async () => [] } as never
    await webhookChanges(module)(change({ tenant: 'org-a' }), tx)
    expect(published).toEqual([
      {
        event: 'todos.created',
        data: { id: 'r1', title: 'Milk', tenant: 'org-a' },
        options: { tx, tenant: 'org-a' },
      },
    ])
  })

  it('publishes without a tenant on other resources and skips undeclared events', async () => {
    const { module, published } = recording()
    const tx = { query: async () => [] } as never
    await webhookChanges(module)(change({ type: 'deleted' }), tx)
    await webhookChanges(module)(change({ isDeclaredEvent: false }), tx)
    expect(published).toEqual([
      { event: 'todos.deleted', data: { id: 'r1', title: 'Milk' }, options: { tx } },
    ])
  })
})
