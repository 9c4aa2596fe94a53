import { describe, expect, it } from 'vitest'
import { RelayTickets, relayHeader } from '../../src/inspector/relay-tickets.ts'

describe('RelayTickets', () => {
  it('admits the one request carrying an open ticket, pairs it with its trace, and closes on redeem', () => {
    const tickets = new RelayTickets()
    expect(tickets.admits({ [relayHeader]: '1' })).toBe(false)
    const ticket = tickets.issue()
    expect(ticket).toMatch(/^[0-9a-f-]{36}$/)
    expect(tickets.admits({})).toBe(false)
    expect(tickets.admits({ [relayHeader]: 'another' })).toBe(false)
    expect(tickets.admits({ [relayHeader]: ticket })).toBe(true)
    tickets.started({ traceId: 'a'.repeat(32) })
    // Used once: a second request with the same ticket (a replay while the relay runs) is not admitted.
    expect(tickets.admits({ [relayHeader]: ticket })).toBe(false)
    // A request started without a ticket does not take the pairing.
    tickets.started({ traceId: 'b'.repeat(32) })
    expect(tickets.redeem(ticket)).toBe('a'.repeat(32))
    expect(tickets.admits({ [relayHeader]: ticket })).toBe(false)
    expect(tickets.redeem(ticket)).toBeUndefined()
  })

  it('closes a ticket no request used: redeem answers nothing and it admits nothing after', () => {
    const tickets = new RelayTickets()
    const ticket = tickets.issue()
    expect(tickets.redeem(ticket)).toBeUndefined()
    expect(tickets.admits({ [relayHeader]: ticket })).toBe(false)
  })
})
