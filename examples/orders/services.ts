import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Db, type Migration, migrate, type Queryable } from 'keel/data'
import { Bus, busKey } from 'keel/flow'

/**
 * The outside world of the order saga: an inventory, a payment provider, a carrier and a mailer.
 * Real services sit behind an API; here they are simulated in the app's own database so the
 * example runs on a bare machine and tests can read exactly what happened.
 *
 * Each call behaves like a provider that honours an `Idempotency-Key` header: its effect is one
 * row of `orders_ledger`, written with `insert ... on conflict (idempotency_key) do nothing`, so
 * repeating a call (a retry, a step re-run after a crash) changes nothing the second time. Every
 * call, repeated or not, is also appended to `orders_calls`: comparing the two tables shows a
 * step that ran twice while its effect landed once.
 */

/** One line of an order. */
export interface OrderItem {
  readonly sku: string
  readonly qty: number
}

/** What every call takes besides its body. */
export interface CallOptions {
  /** The provider applies a key once; later calls with it return the first answer. */
  readonly idempotencyKey: string
  /** Aborts the wait for the answer (a step timeout, a lost lease). */
  readonly signal?: AbortSignal
}

export interface Inventory {
  /** Takes the items out of stock, all or none. */
  reserve(
    order: { orderId: string; items: readonly OrderItem[] },
    options: CallOptions,
  ): Promise<
    { ok: true; reservationId: string } | { ok: false; code: 'out_of_stock' | 'unknown_sku'; sku: string }
  >
  /** Puts a reservation's items back. */
  release(
    reservation: { reservationId: string; orderId: string; items: readonly OrderItem[] },
    options: CallOptions,
  ): Promise<void>
}

export interface Payments {
  /** Charges `amount` cents to the card token; tokens ending in 0000 and amounts over the limit are declined. */
  charge(
    payment: { orderId: string; amount: number; card: string },
    options: CallOptions,
  ): Promise<{ ok: true; chargeId: string } | { ok: false; code: 'card_declined'; reason: string }>
  refund(refund: { chargeId: string; orderId: string; amount: number }, options: CallOptions): Promise<void>
}

export interface Shipping {
  /** Books a parcel; the carrier does not deliver to some countries. */
  create(
    shipment: { orderId: string; country: string; items: readonly OrderItem[] },
    options: CallOptions,
  ): Promise<{ ok: true; shipmentId: string } | { ok: false; code: 'undeliverable'; country: string }>
  cancel(shipment: { shipmentId: string; orderId: string }, options: CallOptions): Promise<void>
}

export interface Notifications {
  send(
    message: { orderId: string; to: string; template: string },
    options: CallOptions,
  ): Promise<{ notificationId: string }>
}

/** Bus keys the saga's steps read the services from. */
export const InventoryKey = busKey<Inventory>('inventory')
export const PaymentsKey = busKey<Payments>('payments')
export const ShippingKey = busKey<Shipping>('shipping')
export const NotificationsKey = busKey<Notifications>('notifications')

/** Charges above this many cents are declined (the card's limit). */
export const chargeLimitCents = 500_000
/** Countries the carrier does not serve. */
export const unservedCountries: readonly string[] = ['AQ']

/** Stock every fresh database starts with; `unobtainium` is never in stock. */
export const initialStock: Readonly<Record<string, number>> = {
  widget: 1000,
  gadget: 1000,
  gizmo: 1000,
  unobtainium: 0,
}

/** The simulated services' tables, in the `orders_example` migration scope. */
export const servicesMigrations: readonly Migration[] = [
  {
    id: '0001_ledger_calls_stock',
    up: `
create table orders_ledger (
  idempotency_key text primary key,
  ref text not null,
  effect text not null,
  order_id text not null,
  amount integer,
  detail jsonb,
  at timestamptz not null default clock_timestamp()
);
create index orders_ledger_by_order on orders_ledger (order_id);
create table orders_calls (
  id bigserial primary key,
  call text not null,
  idempotency_key text not null,
  order_id text not null,
  result text not null,
  caller text,
  at timestamptz not null default clock_timestamp()
);
create index orders_calls_by_key on orders_calls (idempotency_key);
create table orders_stock (
  sku text primary key,
  stock integer not null check (stock >= 0)
);
insert into orders_stock (sku, stock) values ${Object.entries(initialStock)
      .map(([sku, stock]) => `('${sku}', ${stock})`)
      .join(', ')};
`,
    down: 'drop table orders_stock; drop table orders_calls; drop table orders_ledger;',
  },
]

/** Creates the services' tables (once per database). */
export function migrateServices(db: Db): Promise<unknown> {
  return migrate(db, 'orders_example', servicesMigrations)
}

/** Options of {@link OrderServices}. */
export interface OrderServicesOptions {
  /** The database the services keep their state in, or a function giving it (opened later). */
  readonly db: Db | (() => Db)
  /** Simulated network latency of an answer, in ms, after the provider applied the call. Default none. */
  readonly latencyMs?: () => number
  /** Recorded with each call in `orders_calls` (a worker's name). */
  readonly caller?: string
}

/** What a call did: its effect landed (`applied`), was already there (`duplicate`), or was refused. */
type CallResult = 'applied' | 'duplicate' | 'out_of_stock' | 'unknown_sku' | 'card_declined' | 'undeliverable'

/** Thrown inside a call's transaction to roll it back and answer with a refusal. */
class Refusal {
  constructor(
    readonly result: CallResult,
    readonly detail: string,
  ) {}
}

/**
 * The four simulated services over one database.
 *
 * @example
 * ```ts
 * const services = new OrderServices({ db })
 * await migrateServices(db)
 * const runner = new FlowRunner({ db, flows: [orderFlow], bus: services.bus() })
 * ```
 */
export class OrderServices {
  readonly #db: () => Db
  readonly #latencyMs: (() => number) | undefined
  readonly #caller: string | null

  constructor(options: OrderServicesOptions) {
    const db = options.db
    this.#db = typeof db === 'function' ? db : () => db
    this.#latencyMs = options.latencyMs
    this.#caller = options.caller ?? null
  }

  /** A bus holding the four services under their keys. */
  bus(base: Bus = Bus.empty): Bus {
    return base
      .with(InventoryKey, this.inventory)
      .with(PaymentsKey, this.payments)
      .with(ShippingKey, this.shipping)
      .with(NotificationsKey, this.notifications)
  }

  readonly inventory: Inventory = {
    reserve: async ({ orderId, items }, options) => {
      const outcome = await this.#call('inventory.reserve', orderId, options, async (tx, key) => {
        const applied = await this.#effect(tx, key, 'reserve', orderId, null, { items })
        if (applied) {
          // Sorted and summed per SKU: concurrent reservations lock stock rows in the same order.
          for (const [sku, qty] of perSku(items)) {
            const rows = await tx.query<{ stock: number }>(
              'update orders_stock set stock = stock - $2 where sku = $1 and stock >= $2 returning stock',
              [sku, qty],
            )
            if (rows.length > 0) continue
            const known = await tx.query('select 1 from orders_stock where sku = $1', [sku])
            throw new Refusal(known.length > 0 ? 'out_of_stock' : 'unknown_sku', sku)
          }
        }
        return applied
      })
      if (outcome instanceof Refusal) {
        return { ok: false, code: outcome.result as 'out_of_stock' | 'unknown_sku', sku: outcome.detail }
      }
      return { ok: true, reservationId: reference('reserve', options.idempotencyKey) }
    },

    release: async ({ reservationId, orderId, items }, options) => {
      await this.#call('inventory.release', orderId, options, async (tx, key) => {
        const applied = await this.#effect(tx, key, 'release', orderId, null, { reservationId, items })
        if (applied) {
          for (const [sku, qty] of perSku(items)) {
            await tx.query('update orders_stock set stock = stock + $2 where sku = $1', [sku, qty])
          }
        }
        return applied
      })
    },
  }

  readonly payments: Payments = {
    charge: async ({ orderId, amount, card }, options) => {
      const outcome = await this.#call('payments.charge', orderId, options, async (tx, key) => {
        if (card.endsWith('0000')) throw new Refusal('card_declined', 'the issuer declined the card')
        if (amount > chargeLimitCents) throw new Refusal('card_declined', 'the amount exceeds the card limit')
        return this.#effect(tx, key, 'charge', orderId, amount, { card: card.slice(-4) })
      })
      if (outcome instanceof Refusal) return { ok: false, code: 'card_declined', reason: outcome.detail }
      return { ok: true, chargeId: reference('charge', options.idempotencyKey) }
    },

    refund: async ({ chargeId, orderId, amount }, options) => {
      await this.#call('payments.refund', orderId, options, (tx, key) =>
        this.#effect(tx, key, 'refund', orderId, amount, { chargeId }),
      )
    },
  }

  readonly shipping: Shipping = {
    create: async ({ orderId, country, items }, options) => {
      const outcome = await this.#call('shipping.create', orderId, options, async (tx, key) => {
        if (unservedCountries.includes(country)) throw new Refusal('undeliverable', country)
        return this.#effect(tx, key, 'shipment', orderId, null, { country, parcels: items.length })
      })
      if (outcome instanceof Refusal) return { ok: false, code: 'undeliverable', country }
      return { ok: true, shipmentId: reference('shipment', options.idempotencyKey) }
    },

    cancel: async ({ shipmentId, orderId }, options) => {
      await this.#call('shipping.cancel', orderId, options, (tx, key) =>
        this.#effect(tx, key, 'shipment_cancel', orderId, null, { shipmentId }),
      )
    },
  }

  readonly notifications: Notifications = {
    send: async ({ orderId, to, template }, options) => {
      await this.#call('notifications.send', orderId, options, (tx, key) =>
        this.#effect(tx, key, 'notification', orderId, null, { to, template }),
      )
      return { notificationId: reference('notification', options.idempotencyKey) }
    },
  }

  /** The effects that landed for an order, oldest first (what the outside world saw). */
  async effects(
    orderId: string,
  ): Promise<{ effect: Effect; ref: string; amount: number | null; at: Date }[]> {
    return this.#db().query(
      'select effect, ref, amount, at from orders_ledger where order_id = $1 order by at, idempotency_key',
      [orderId],
    )
  }

  /** Stock per SKU. */
  async stock(): Promise<Record<string, number>> {
    const rows = await this.#db().query<{ sku: string; stock: number }>(
      'select sku, stock from orders_stock order by sku',
    )
    return Object.fromEntries(rows.map((r) => [r.sku, r.stock]))
  }

  /**
   * One call: its work and its line in `orders_calls` commit together; a refusal rolls the work
   * back and is logged on its own. Then the answer "travels back" for the simulated latency.
   */
  async #call(
    call: string,
    orderId: string,
    options: CallOptions,
    work: (tx: Queryable, key: string) => Promise<boolean>,
  ): Promise<Refusal | undefined> {
    const key = options.idempotencyKey
    const log = (tx: Queryable, result: CallResult) =>
      tx.query(
        'insert into orders_calls (call, idempotency_key, order_id, result, caller) values ($1, $2, $3, $4, $5)',
        [call, key, orderId, result, this.#caller],
      )
    let refusal: Refusal | undefined
    try {
      await this.#db().transaction(async (tx) => {
        const applied = await work(tx, key)
        await log(tx, applied ? 'applied' : 'duplicate')
      })
    } catch (error) {
      if (!(error instanceof Refusal)) throw error
      refusal = error
      await log(this.#db(), error.result)
    }
    const latency = this.#latencyMs?.() ?? 0
    if (latency > 0) await sleep(latency, undefined, options.signal ? { signal: options.signal } : {})
    return refusal
  }

  /** Writes an effect once per idempotency key; true when this call wrote it. */
  async #effect(
    tx: Queryable,
    key: string,
    effect: Effect,
    orderId: string,
    amount: number | null,
    detail: unknown,
  ): Promise<boolean> {
    const rows = await tx.query(
      `insert into orders_ledger (idempotency_key, ref, effect, order_id, amount, detail)
       values ($1, $2, $3, $4, $5, $6) on conflict (idempotency_key) do nothing returning ref`,
      [key, reference(effect, key), effect, orderId, amount, detail],
    )
    return rows.length === 1
  }
}

/** The kinds of effect in the ledger, with the prefix of the provider's ids for them. */
const prefixes = {
  reserve: 'rsv',
  release: 'rel',
  charge: 'ch',
  refund: 're',
  shipment: 'shp',
  shipment_cancel: 'shc',
  notification: 'msg',
} as const

/** The kind of an effect in `orders_ledger.effect`. */
export type Effect = keyof typeof prefixes

/** A provider's id for the effect of `key`: the same for every repeat of the call. */
function reference(effect: Effect, key: string): string {
  return `${prefixes[effect]}_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`
}

/** Quantities per SKU, in SKU order. */
function perSku(items: readonly OrderItem[]): [string, number][] {
  const totals = new Map<string, number>()
  for (const { sku, qty } of items) totals.set(sku, (totals.get(sku) ?? 0) + qty)
  return [...totals].sort(([a], [b]) => a.localeCompare(b))
}
