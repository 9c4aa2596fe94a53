import { describe, expect, it } from 'vitest'
import { cpuMillicores, memoryBytes } from '../../src/deploy/check/index.ts'

describe('Kubernetes quantities', () => {
  it('reads CPU in cores and millicores', () => {
    expect(cpuMillicores('250m')).toBe(250)
    expect(cpuMillicores('1')).toBe(1000)
    expect(cpuMillicores('0.5')).toBe(500)
    expect(cpuMillicores('1.5m')).toBe(1.5)
  })

  it('reads memory with binary and decimal suffixes', () => {
    expect(memoryBytes('512')).toBe(512)
    expect(memoryBytes('256Mi')).toBe(256 * 1024 * 1024)
    expect(memoryBytes('1Gi')).toBe(1024 ** 3)
    expect(memoryBytes('1G')).toBe(1e9)
    expect(memoryBytes('2k')).toBe(2000)
    expect(memoryBytes('1Gi')! > memoryBytes('1G')!).toBe(true)
  })

  it('refuses text that is not a quantity', () => {
    for (const text of ['', 'm', '1.5Gi', '-1', '1 Gi', '250M m', 'abc']) {
      expect(memoryBytes(text)).toBeUndefined()
    }
    for (const text of ['', 'm', '-1', '1Gi', '1.m']) expect(cpuMillicores(text)).toBeUndefined()
  })
})
