import type { Order } from '../../../examples/orders/flows.ts'
import type { Effect } from '../../../examples/orders/services.ts'

/** How an order of the crash test must end, known from its input alone. */
export interface ExpectedEnd {
  readonly status: 'completed' | 'compensated'
  readonly fault?: 'out_of_stock' | 'card_declined' | 'undeliverable'
  /** The ledger's effects for the order, each exactly once, in the order they must land. */
  readonly effects: readonly Effect[]
}

const skus = ['widget', 'gadget', 'gizmo'] as const

/** The run id of order `i` (1-based): `order-0001`. */
export const orderId = (i: number) => `order-${String(i).padStart(4, '0')}`

/**
 * Order `i` of the crash test. The input alone decides the ending: every 10th from 3 has a
 * declined card, every 10th from 7 wants `unobtainium` (never in stock), every 20th from 9 ships
 * to a country the carrier does not serve, every 50th from 25 is over the card limit.
 */
export function crashOrder(i: number): Order {
  const count = 1 + (i % 3)
  const items: { sku: string; qty: number }[] = Array.from({ length: count }, (_, k) => ({
    sku: skus[(i + k) % skus.length]!,
    qty: 1 + ((i + k) % 3),
  }))
  if (i % 10 === 7) items.push({ sku: 'unobtainium', qty: 1 })
  return {
    orderId: orderId(i),
    customer: { name: `Customer ${i}`, email: `customer${i}@example.test` },
    items,
    amount: i % 50 === 25 ? 600_000 : 1_000 + i * 7,
    card: i % 10 === 3 ? 'tok_visa_0000' : 'tok_visa_4242',
    country: i % 20 === 9 ? 'AQ' : 'NL',
  }
}

export function expectedEnd(i: number): ExpectedEnd {
  if (i % 10 === 7) return { status: 'compensated', fault: 'out_of_stock', effects: [] }
  if (i % 10 === 3 || i % 50 === 25) {
    return { status: 'compensated', fault: 'card_declined', effects: ['reserve', 'release'] }
  }
  if (i % 20 === 9) {
    return {
      status: 'compensated',
      fault: 'undeliverable',
      effects: ['reserve', 'charge', 'refund', 'release'],
    }
  }
  return { status: 'completed', effects: ['reserve', 'charge', 'shipment', 'notification'] }
}
