import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/** The header a relayed request carries its ticket in. */
export const relayHeader = 'x-keel-inspector-relay'

/**
 * One-time tickets for the requests the relay sends. A request that carries an open ticket in
 * {@link relayHeader} is admitted whatever the per-second trace budget, so the trace the
 * operator asked for is kept under load too, and the relay learns its trace id to link to it.
 * A ticket is a random UUID that lives only while its relay runs: a client cannot guess one to
 * get its own requests kept.
 */
export class RelayTickets {
  /** Open tickets, and the trace id of the request that used one. */
  readonly #open = new Map<string, string | undefined>()
  /** The ticket `admits` just accepted, until the request it admitted is `started`. */
  #admitted: string | undefined

  /** Opens a ticket for one relayed request. */
  issue(): string {
    const ticket = randomUUID()
    this.#open.set(ticket, undefined)
    return ticket
  }

  /** Whether a request with these headers holds an open, unused ticket. Cheap while none is open. */
  admits(headers: IncomingHttpHeaders): boolean {
    if (this.#open.size === 0) return false
    const ticket = headers[relayHeader]
    if (typeof ticket !== 'string' || !this.#open.has(ticket) || this.#open.get(ticket) !== undefined)
      return false
    this.#admitted = ticket
    return true
  }

  /** The request `admits` just accepted has started (the same call of the tracer): its trace id goes with the ticket. */
  started(request: { readonly traceId: string }): void {
    if (this.#admitted === undefined) return
    this.#open.set(this.#admitted, request.traceId)
    this.#admitted = undefined
  }

  /** Closes `ticket`: the trace id of the request that used it, if one did. */
  redeem(ticket: string): string | undefined {
    const traceId = this.#open.get(ticket)
    this.#open.delete(ticket)
    return traceId
  }
}
