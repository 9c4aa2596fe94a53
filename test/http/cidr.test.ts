import { BlockList, isIP } from 'node:net'
import { isKeelError } from 'keel/errors'
import { CidrList, cidrProblems, isIp } from 'keel/http'
import { describe, expect, it } from 'vitest'

describe('IP addresses', () => {
  it.each([
    '0.0.0.0',
    '255.255.255.255',
    '10.1.2.3',
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    '2001:DB8:0:0:0:0:0:1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '::ffff:1.2.3.4',
    '::FFFF:10.0.0.1',
    '64:ff9b::192.0.2.33',
    '1:2:3:4:5:6:1.2.3.4',
    'fe80::1%eth0',
  ])('accepts %s', (text) => {
    expect(isIp(text)).toBe(true)
  })

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.-4',
    '1..2.3',
    ':',
    ':::',
    '1:::2',
    '1::2::3',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::1',
    'g::1',
    '::ffff:1.2.3',
    '::ffff:1.2.3.4.5',
    '1:2:3:4:5:6:7:1.2.3.4',
    '1.2.3.4::',
    '[::1]',
    'fe80::1%',
    'unknown',
    '1.2.3.4%eth0',
  ])('refuses %j', (text) => {
    expect(isIp(text)).toBe(false)
  })

  it('agrees with node:net isIP on 20 000 near-miss candidates', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return Math.floor((seed / 2 ** 31) * n)
    }
    const pick = (items: readonly string[]) => items[random(items.length)]!
    const octets = [
      '0',
      '1',
      '9',
      '10',
      '99',
      '255',
      '172',
      '192',
      '0',
      '1',
      '255',
      '256',
      '01',
      '',
      '1000',
      'a',
    ]
    const hextets = ['0', '1', 'ff', 'db8', 'ffff', 'FfFf', '0000', 'abcd', '0', '1', 'ffff']
    const oddHextets = ['12345', '', 'g', '1.2.3.4', '255.0.0.1', '1.2.3']
    const candidate = () => {
      if (random(2) === 0) return Array.from({ length: 3 + random(3) }, () => pick(octets)).join('.')
      const length = random(3) === 0 ? 8 : 1 + random(9)
      const parts = Array.from({ length }, () => pick(random(4) === 0 ? oddHextets : hextets))
      return parts.map((part, i) => (i === 0 ? '' : random(8) === 0 ? '::' : ':') + part).join('')
    }
    let valid = 0
    for (let n = 0; n < 20_000; n++) {
      const text = candidate()
      if (isIP(text) !== 0) valid++
      expect(isIp(text), text).toBe(isIP(text) !== 0)
    }
    expect(valid).toBeGreaterThan(500)
  })
})

describe('CidrList', () => {
  it('matches IPv4 ranges, bare addresses and the IPv4-mapped IPv6 form', () => {
    const list = new CidrList(['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12'])
    expect(list.has('10.255.0.1')).toBe(true)
    expect(list.has('::ffff:10.0.0.1')).toBe(true)
    expect(list.has('::ffff:a00:1')).toBe(true)
    expect(list.has('192.168.1.7')).toBe(true)
    expect(list.has('192.168.1.8')).toBe(false)
    expect(list.has('172.31.255.255')).toBe(true)
    expect(list.has('172.32.0.0')).toBe(false)
    expect(list.has('11.0.0.0')).toBe(false)
    // 10.0.0.1 as plain IPv6 (not mapped) is another address.
    expect(list.has('::a00:1')).toBe(false)
  })

  it('matches IPv6 ranges in compressed and full forms, ignoring a zone', () => {
    const list = new CidrList(['2001:db8::/32', 'fe80::/10', '::1'])
    expect(list.has('2001:db8:ffff::1')).toBe(true)
    expect(list.has('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe(true)
    expect(list.has('2001:db9::1')).toBe(false)
    expect(list.has('fe80::1%eth0')).toBe(true)
    expect(list.has('febf::1')).toBe(true)
    expect(list.has('fec0::1')).toBe(false)
    expect(list.has('::1')).toBe(true)
    expect(list.has('127.0.0.1')).toBe(false)
  })

  it('treats ::/0 as every address and 0.0.0.0/0 as every IPv4 address', () => {
    expect(new CidrList(['::/0']).has('1.2.3.4')).toBe(true)
    expect(new CidrList(['::/0']).has('2001:db8::1')).toBe(true)
    expect(new CidrList(['0.0.0.0/0']).has('1.2.3.4')).toBe(true)
    expect(new CidrList(['0.0.0.0/0']).has('::ffff:1.2.3.4')).toBe(true)
    expect(new CidrList(['0.0.0.0/0']).has('2001:db8::1')).toBe(false)
  })

  it('ignores host bits after the prefix', () => {
    expect(new CidrList(['10.1.2.3/8']).has('10.9.9.9')).toBe(true)
    expect(new CidrList(['2001:db8::1/32']).has('2001:db8:1::')).toBe(true)
  })

  it('answers false for anything that is not an address', () => {
    const list = new CidrList(['::/0'])
    for (const text of ['', 'unknown', '1.2.3.4:80', '[::1]', 'localhost']) expect(list.has(text)).toBe(false)
  })

  it('rejects an invalid entry at construction, naming its index and text', () => {
    const attempt = () => new CidrList(['10.0.0.0/8', '10.0.0.0/33'], { what: 'ipFilter: options.allow' })
    expect(attempt).toThrow(
      'ipFilter: options.allow[1] "10.0.0.0/33" is not an IP address or CIDR range: prefix /33 is longer than the 32 bits of an IPv4 address',
    )
    try {
      attempt()
    } catch (error) {
      expect(isKeelError(error) && error.code).toBe('KEEL_GUARD_OPTIONS')
    }
  })

  it('lists every invalid entry with its reason', () => {
    const problems = cidrProblems(['1.2.3.4', 'nope', '::/129', '10.0.0.0/x', 'fe80::%1/64', 42])
    expect(problems.map((p) => [p.index, p.reason])).toEqual([
      [1, 'not an IPv4 or IPv6 address'],
      [2, 'prefix /129 is longer than the 128 bits of an IPv6 address'],
      [3, 'prefix "x" is not a number of bits'],
      [4, 'a range cannot carry a %zone'],
      [5, 'not a string'],
    ])
  })

  it('agrees with node:net BlockList on random addresses and ranges', () => {
    let seed = 42
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return Math.floor((seed / 2 ** 31) * n)
    }
    const v4 = () => [random(4) === 0 ? 10 : random(256), random(4), random(256), random(256)].join('.')
    const v6 = () =>
      Array.from({ length: 8 }, (_, i) =>
        i < 2 ? ['2001', 'db8', 'fe80', '0'][random(4)] : random(3).toString(16),
      ).join(':')
    for (let round = 0; round < 200; round++) {
      const blockList = new BlockList()
      const entries: string[] = []
      for (let r = 0; r < 3; r++) {
        if (random(2) === 0) {
          const prefix = random(33)
          const base = v4()
          blockList.addSubnet(base, prefix, 'ipv4')
          entries.push(`${base}/${prefix}`)
        } else {
          const prefix = random(129)
          const base = v6()
          blockList.addSubnet(base, prefix, 'ipv6')
          entries.push(`${base}/${prefix}`)
        }
      }
      const list = new CidrList(entries)
      for (let a = 0; a < 50; a++) {
        const address = random(2) === 0 ? v4() : v6()
        const family = address.includes(':') ? 'ipv6' : 'ipv4'
        expect(list.has(address), `${address} in ${entries.join(', ')}`).toBe(
          blockList.check(address, family),
        )
        if (family === 'ipv4') expect(list.has(`::ffff:${address}`)).toBe(blockList.check(address, 'ipv4'))
      }
    }
  })
})
