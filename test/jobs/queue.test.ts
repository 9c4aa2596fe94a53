import { Type } from '@sinclair/typebox'
import { database } from 'keel/data'
import { isKeelError } from 'keel/errors'
import { jobs, queue } from 'keel/jobs'
import { describe, expect, it } from 'vitest'
import { transactionBody } from '../../src/jobs/boss-db.ts'

const Data = Type.Object({ id: Type.String() })
const handler = () => {}

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (error) {
    if (isKeelError(error)) return error
    throw error
  }
  throw new Error('expected a throw')
}

describe('queue()', () => {
  it('rejects bad names and options, naming the queue and the option', () => {
    expect(thrown(() => queue('bad name', { data: Data, handler })).message).toContain('"bad name"')
    expect(thrown(() => queue('__pgboss__x', { data: Data, handler })).code).toBe('KEEL_JOB_INVALID_QUEUE')
    const retry = thrown(() => queue('q', { data: Data, handler, retryLimit: -1 }))
    expect(retry).toMatchObject({ code: 'KEEL_JOB_INVALID_QUEUE' })
    expect(retry.message).toBe('queue "q": retryLimit: expected an integer 0-1000, got -1')
    expect(thrown(() => queue('q', { data: Data, handler, expireInSeconds: 86_400 })).message).toContain(
      'expireInSeconds',
    )
    expect(thrown(() => queue('q', { data: Type.String() as never, handler })).message).toContain(
      'job data is a JSON object',
    )
    expect(thrown(() => queue('q', { data: Data, handler: 'no' as never })).message).toContain('handler')
    expect(thrown(() => queue('q', { data: Data, handler, deadLetter: 'q' })).message).toContain('its own')
    expect(
      thrown(() => queue('q', { data: Data, handler, cron: { expression: 'every day', data: { id: 'x' } } }))
        .message,
    ).toContain('cron.expression')
  })

  it('is frozen and keeps its options', () => {
    const q = queue('mail.send', { data: Data, handler, retryLimit: 4 })
    expect(q.name).toBe('mail.send')
    expect(q.options.retryLimit).toBe(4)
    expect(Object.isFrozen(q)).toBe(true)
  })
})

describe('jobs()', () => {
  it('rejects two queues with one name and a dead-letter queue it does not define', () => {
    const data = database()
    const a = queue('a', { data: Data, handler })
    expect(thrown(() => jobs({ database: data, queues: [a, a] })).message).toContain(
      'two queues are named "a"',
    )
    const b = queue('b', { data: Data, handler, deadLetter: 'missing' })
    expect(thrown(() => jobs({ database: data, queues: [b] })).message).toBe(
      'queue "b": deadLetter "missing" is not a queue of module "jobs"',
    )
  })

  it('refuses to send before the app started', async () => {
    const a = queue('a', { data: Data, handler })
    const module = jobs({ database: database(), queues: [a] })
    await expect(module.send(a, { id: 'x' })).rejects.toMatchObject({ code: 'KEEL_APP_STATE' })
  })
})

describe('the pg-boss adapter', () => {
  it('unwraps BEGIN; … COMMIT; scripts and leaves single statements alone', () => {
    expect(transactionBody('\n  BEGIN;\n  SET LOCAL x = 1;\n  select 1;\n  COMMIT;\n  ')).toBe(
      '\n  SET LOCAL x = 1;\n  select 1',
    )
    expect(transactionBody('select * from pgboss.schedule')).toBeUndefined()
  })
})
