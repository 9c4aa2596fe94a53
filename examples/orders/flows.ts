import { type Static, Type } from 'keel'
import { flow, Outcome, type StepContext, step } from 'keel/flow'
import type { RetryOptions } from 'keel/resilience'
import { InventoryKey, NotificationsKey, PaymentsKey, ShippingKey } from './services.ts'

/**
 * The order saga: reserve the items, charge the card, book the shipment, tell the customer.
 * A step that cannot go on returns a typed fault (`out_of_stock`, `card_declined`,
 * `undeliverable`); the runner then undoes the steps that completed, newest first: cancel the
 * shipment, refund the charge, release the stock. `notify` comes last and has nothing to undo.
 *
 * Every call to a service carries the step's idempotency key, so a step re-run after a crash
 * (it ran, the process died before its checkpoint) repeats the call without repeating the effect.
 */

/** An order as the API accepts it. Amounts are in cents. */
export const OrderInput = Type.Object(
  {
    orderId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', description: 'your order number' }),
    customer: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 200 }),
      email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 254 }),
    }),
    items: Type.Array(
      Type.Object({
        sku: Type.String({ minLength: 1, maxLength: 64 }),
        qty: Type.Integer({ minimum: 1, maximum: 100 }),
      }),
      { minItems: 1, maxItems: 50 },
    ),
    amount: Type.Integer({ minimum: 1, description: 'total to charge, in cents' }),
    card: Type.String({
      pattern: '^tok_[A-Za-z0-9_]{4,60}$',
      description: "the payment provider's card token (never a card number: run inputs are stored)",
    }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166 country to ship to' }),
  },
  { additionalProperties: false },
)
export type Order = Static<typeof OrderInput>

export interface Reserved extends Order {
  readonly reservationId: string
}
export interface Charged extends Reserved {
  readonly chargeId: string
}
export interface Shipped extends Charged {
  readonly shipmentId: string
}

/** What a completed order run returns: the providers' ids of its effects. */
export const OrderConfirmation = Type.Object({
  orderId: Type.String(),
  reservationId: Type.String(),
  chargeId: Type.String(),
  shipmentId: Type.String(),
  notificationId: Type.String(),
})
export type OrderConfirmation = Static<typeof OrderConfirmation>

// Service calls fail now and then (a timeout, a 503): try again, the idempotency key makes it safe.
const retry: RetryOptions = { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 2000 }
const timeoutMs = 10_000

const call = (ctx: StepContext) => ({ idempotencyKey: ctx.idempotencyKey, signal: ctx.signal })
// A compensation is a call of its own: same step key, its own idempotency key.
const undo = (ctx: StepContext) => ({ idempotencyKey: `${ctx.idempotencyKey}/undo`, signal: ctx.signal })

export const reserve = step<Order, Reserved, never>('reserve', {
  description: 'Take the items out of stock',
  faults: ['out_of_stock', 'unknown_sku'],
  retry,
  timeoutMs,
  async run(order, ctx) {
    const answer = await ctx
      .get(InventoryKey)
      .reserve({ orderId: order.orderId, items: order.items }, call(ctx))
    if (!answer.ok) {
      return Outcome.fault(answer.code, `cannot reserve ${answer.sku}: ${answer.code.replaceAll('_', ' ')}`, {
        sku: answer.sku,
      })
    }
    return { ...order, reservationId: answer.reservationId }
  },
  async compensate(order, reserved, ctx) {
    await ctx
      .get(InventoryKey)
      .release(
        { reservationId: reserved.reservationId, orderId: order.orderId, items: order.items },
        undo(ctx),
      )
  },
})

export const charge = step<Reserved, Charged, never>('charge', {
  description: 'Charge the card',
  faults: ['card_declined'],
  retry,
  timeoutMs,
  async run(order, ctx) {
    const answer = await ctx
      .get(PaymentsKey)
      .charge({ orderId: order.orderId, amount: order.amount, card: order.card }, call(ctx))
    if (!answer.ok) return Outcome.fault('card_declined', answer.reason)
    return { ...order, chargeId: answer.chargeId }
  },
  async compensate(order, charged, ctx) {
    await ctx
      .get(PaymentsKey)
      .refund({ chargeId: charged.chargeId, orderId: order.orderId, amount: order.amount }, undo(ctx))
  },
})

export const ship = step<Charged, Shipped, never>('ship', {
  description: 'Book the shipment with the carrier',
  faults: ['undeliverable'],
  retry,
  timeoutMs,
  async run(order, ctx) {
    const answer = await ctx
      .get(ShippingKey)
      .create({ orderId: order.orderId, country: order.country, items: order.items }, call(ctx))
    if (!answer.ok) return Outcome.fault('undeliverable', `the carrier does not deliver to ${answer.country}`)
    return { ...order, shipmentId: answer.shipmentId }
  },
  async compensate(order, shipped, ctx) {
    await ctx.get(ShippingKey).cancel({ shipmentId: shipped.shipmentId, orderId: order.orderId }, undo(ctx))
  },
})

export const notify = step<Shipped, OrderConfirmation, never>('notify', {
  description: 'Send the order confirmation',
  retry,
  timeoutMs,
  async run(order, ctx) {
    const { notificationId } = await ctx
      .get(NotificationsKey)
      .send({ orderId: order.orderId, to: order.customer.email, template: 'order_confirmed' }, call(ctx))
    return {
      orderId: order.orderId,
      reservationId: order.reservationId,
      chargeId: order.chargeId,
      shipmentId: order.shipmentId,
      notificationId,
    }
  },
})

/** The saga, in order; each step's compensation undoes it if a later one faults. */
export const orderFlow = flow('order', {
  input: OrderInput,
  description: 'Reserve stock, charge the card, ship, and confirm; undo on failure',
})
  .andThen(reserve)
  .andThen(charge)
  .andThen(ship)
  .andThen(notify)
  .build()
