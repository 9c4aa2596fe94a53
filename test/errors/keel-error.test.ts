import { isKeelError, KeelError } from 'keel/errors'
import { describe, expect, it } from 'vitest'

describe('KeelError', () => {
  it('carries a stable code, a status and the cause', () => {
    const cause = new Error('EADDRINUSE')
    const error = new KeelError('KEEL_PORT_IN_USE', 'port 3000 is in use', { status: 503, cause })
    expect(error).toMatchObject({
      code: 'KEEL_PORT_IN_USE',
      status: 503,
      message: 'port 3000 is in use',
      cause,
    })
    expect(new KeelError('KEEL_INTERNAL', 'x').status).toBe(500)
  })

  it('is recognised across copies of the package by its brand, not its class', () => {
    const foreign = Object.assign(new Error('from another copy'), {
      isKeelError: true,
      code: 'KEEL_INTERNAL',
    })
    expect(isKeelError(foreign)).toBe(true)
    expect(isKeelError(new Error('plain'))).toBe(false)
    expect(isKeelError(null)).toBe(false)
    expect(isKeelError('KEEL_INTERNAL')).toBe(false)
  })
})
