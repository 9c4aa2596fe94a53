const outcomeBrand = Symbol.for('keel.flow.outcome')

/** A business failure a step reports on purpose: not retried, it starts compensation. */
export interface Fault {
  /** Stable machine-readable code (`card_declined`). */
  readonly code: string
  readonly message: string
  /** JSON details for the caller; they are stored with the run. */
  readonly details?: unknown
}

/** The step succeeded: the flow goes on with `value`. */
export interface NextOutcome<T> {
  readonly [outcomeBrand]: true
  readonly kind: 'next'
  readonly value: T
}

/** The step chose the path `path` of the `branch` that follows it, with `value` as input. */
export interface BranchOutcome<T, P extends string = string> {
  readonly [outcomeBrand]: true
  readonly kind: 'branch'
  readonly path: P
  readonly value: T
}

/** The step emitted `event` (recorded on the timeline, delivered to listeners) and goes on with `value`. */
export interface EmitOutcome<T> {
  readonly [outcomeBrand]: true
  readonly kind: 'emit'
  readonly event: string
  readonly payload: unknown
  readonly value: T
}

/** The step failed with a typed fault. */
export interface FaultOutcome {
  readonly [outcomeBrand]: true
  readonly kind: 'fault'
  readonly fault: Fault
}

/** What a step returns: the next value, a branch choice, an emitted event, or a typed fault. */
export type Outcome<T, P extends string = string> =
  | NextOutcome<T>
  | BranchOutcome<T, P>
  | EmitOutcome<T>
  | FaultOutcome

/**
 * Constructors for step outcomes. A step may also return a plain value, which means `next`.
 *
 * @example
 * ```ts
 * const charge = step('charge', {
 *   async run(order: Order, ctx) {
 *     const result = await payments.charge(order, { idempotencyKey: ctx.idempotencyKey })
 *     if (result.declined) return Outcome.fault('card_declined', 'the card was declined')
 *     return Outcome.emit('order.charged', { id: order.id }, { ...order, chargeId: result.id })
 *   },
 * })
 * ```
 */
export const Outcome = {
  next: <T>(value: T): NextOutcome<T> => ({ [outcomeBrand]: true, kind: 'next', value }),
  branch: <P extends string, T>(path: P, value: T): BranchOutcome<T, P> => ({
    [outcomeBrand]: true,
    kind: 'branch',
    path,
    value,
  }),
  emit: <T>(event: string, payload: unknown, value: T): EmitOutcome<T> => ({
    [outcomeBrand]: true,
    kind: 'emit',
    event,
    payload,
    value,
  }),
  fault: (code: string, message = code, details?: unknown): FaultOutcome => ({
    [outcomeBrand]: true,
    kind: 'fault',
    fault: details === undefined ? { code, message } : { code, message, details },
  }),
}

/** True for values made by {@link Outcome}; anything else a step returns is a plain next value. */
export function isOutcome(value: unknown): value is Outcome<unknown> {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[outcomeBrand] === true
  )
}
