import type { KeelModule } from 'keel/app'
import { describe, expect, it } from 'vitest'
import { startOrder } from '../../src/app/module-order.ts'

const m = (name: string, dependsOn: string[] = []): KeelModule => ({ name, dependsOn })

describe('startOrder', () => {
  it('puts dependencies first and keeps registration order otherwise', () => {
    const order = startOrder([m('api', ['db', 'cache']), m('metrics'), m('db'), m('cache', ['db'])])
    expect(order.map((x) => x.name)).toEqual(['db', 'cache', 'api', 'metrics'])
  })

  it('names the cycle', () => {
    expect(() => startOrder([m('a', ['b']), m('b', ['c']), m('c', ['a'])])).toThrow(
      'module dependency cycle: a -> b -> c -> a',
    )
  })

  it('names a missing dependency and the module that wants it', () => {
    expect(() => startOrder([m('jobs', ['database'])])).toThrow(
      'module "jobs" depends on "database", which is not registered',
    )
  })

  it('rejects duplicate and unnamed modules', () => {
    expect(() => startOrder([m('a'), m('a')])).toThrow('module "a" is registered twice')
    expect(() => startOrder([m('')])).toThrow('every module needs a non-empty string name')
  })
})
