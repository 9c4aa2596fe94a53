import { isLoopbackHost } from 'keel/loadtest'
import { describe, expect, it } from 'vitest'

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.9.8.7',
    'localhost',
    'api.localhost',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true))
  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '192.168.1.2',
    'example.com',
    '::ffff:10.0.0.1',
    '128.0.0.1',
    'localhost.example.com',
  ])('%s is not', (host) => expect(isLoopbackHost(host)).toBe(false))
})
