import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isKeelError, type KeelError } from 'keel/errors'
import {
  createLogger,
  type LoggerOptions,
  levelSpecProblems,
  parseLevelSpec,
  REDACTED,
  runWithContext,
} from 'keel/log'
import { describe, expect, it } from 'vitest'
import { LogCapture } from '../support/log-capture.ts'

function capture(options: Partial<LoggerOptions> = {}) {
  const logs = new LogCapture()
  const logger = createLogger({
    level: 'info',
    format: 'json',
    destination: 'stdout',
    base: { service: 'orders', version: '1.4.2' },
    ...options,
    stream: logs,
  })
  return { logger, logs }
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'keel-log-'))

function destinationError(destination: string): KeelError {
  try {
    createLogger({ level: 'info', format: 'json', destination })
  } catch (error) {
    if (isKeelError(error)) return error
    throw error
  }
  throw new Error(`expected createLogger to refuse ${destination}`)
}

describe('createLogger output', () => {
  it('writes one JSON object per line with the level label, time, message and base fields', () => {
    const { logger, logs } = capture()
    logger.root.info({ orderId: 42 }, 'order placed')
    expect(logs.lines).toHaveLength(1)
    const [record] = logs.records
    expect(record).toMatchObject({
      level: 'info',
      msg: 'order placed',
      service: 'orders',
      version: '1.4.2',
      orderId: 42,
    })
    expect(new Date(record!.time as string).toISOString()).toBe(record!.time)
    expect(record).not.toHaveProperty('pid')
    expect(record).not.toHaveProperty('hostname')
  })

  it('drops lines below the configured level', () => {
    const { logger, logs } = capture({ level: 'warn' })
    logger.root.info('not shown')
    logger.root.warn('shown')
    logger.root.error('shown too')
    expect(logs.records.map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'shown'],
      ['error', 'shown too'],
    ])
  })

  it('serializes errors with type, message and stack', () => {
    const { logger, logs } = capture()
    logger.root.error({ err: new TypeError('bad input') }, 'failed')
    const err = logs.records[0]!.err as Record<string, unknown>
    expect(err).toMatchObject({ type: 'TypeError', message: 'bad input' })
    expect(err.stack).toContain('TypeError: bad input')
  })
})

describe('per-module levels', () => {
  it('shows debug lines of keel:http only when the spec says keel:http=debug', () => {
    const { logger, logs } = capture({ level: 'info,keel:http=debug' })
    logger.module('keel:http').debug('http detail')
    logger.module('keel:app').debug('app detail')
    logger.root.debug('root detail')
    logger.module('keel:app').info('app info')
    expect(logs.records.map((r) => [r.module, r.msg])).toEqual([
      ['keel:http', 'http detail'],
      ['keel:app', 'app info'],
    ])
  })

  it('quiets one module below the root level', () => {
    const { logger, logs } = capture({ level: 'debug,noisy=error' })
    logger.module('noisy').warn('hidden')
    logger.module('noisy').error('kept')
    logger.root.debug('root debug')
    expect(logs.records.map((r) => r.msg)).toEqual(['kept', 'root debug'])
  })

  it('matches module names without regard to case', () => {
    const { logger, logs } = capture({ level: 'info,Keel:HTTP=debug' })
    logger.module('keel:http').debug('seen')
    expect(logs.records.map((r) => r.msg)).toEqual(['seen'])
  })

  it('applies a level for a namespace to the modules under it', () => {
    const { logger, logs } = capture({ level: 'warn,keel=debug,keel:health=error' })
    logger.module('keel:http').debug('http')
    logger.module('keel').debug('keel itself')
    logger.module('keel:health').warn('health warn hidden')
    logger.module('keelhaul').info('other module at root level, hidden')
    expect(logs.records.map((r) => r.msg)).toEqual(['http', 'keel itself'])
  })

  it('returns the same logger for the same module', () => {
    const { logger } = capture()
    expect(logger.module('orders')).toBe(logger.module('orders'))
  })
})

describe('redaction', () => {
  it('redacts well-known secret keys at any depth, in objects and arrays', () => {
    const { logger, logs } = capture()
    logger.root.info(
      {
        user: { name: 'ada', password: 'pw-1111', profile: { apiKey: 'ak-2222' } },
        sessions: [
          { id: 1, token: 'tk-3333' },
          { id: 2, refresh_token: 'rt-4444' },
        ],
        headers: {
          Authorization: 'Bearer bt-5555',
          'X-Api-Key': 'xk-6666',
          cookie: 'sid=ck-7777',
          accept: '*/*',
        },
        client_secret: 'cs-8888',
      },
      'login',
    )
    const text = logs.text
    for (const secret of [
      'pw-1111',
      'ak-2222',
      'tk-3333',
      'rt-4444',
      'bt-5555',
      'xk-6666',
      'ck-7777',
      'cs-8888',
    ]) {
      expect(text).not.toContain(secret)
    }
    const record = logs.records[0]!
    expect(record.user).toEqual({ name: 'ada', password: REDACTED, profile: { apiKey: REDACTED } })
    expect(record.sessions).toEqual([
      { id: 1, token: REDACTED },
      { id: 2, refresh_token: REDACTED },
    ])
    expect(record.headers).toEqual({
      Authorization: REDACTED,
      'X-Api-Key': REDACTED,
      cookie: REDACTED,
      accept: '*/*',
    })
    expect(record.client_secret).toBe(REDACTED)
  })

  it('redacts keys that end in a secret word, such as x-auth-token or dbPassword', () => {
    const { logger, logs } = capture()
    logger.root.info(
      { 'x-auth-token': 'at-1', dbPassword: 'dp-2', githubToken: 'gt-3', total_tokens: 12 },
      'x',
    )
    const record = logs.records[0]!
    expect(record).toMatchObject({ 'x-auth-token': REDACTED, dbPassword: REDACTED, githubToken: REDACTED })
    expect(record.total_tokens).toBe(12)
  })

  it('never changes the object the caller logged', () => {
    const { logger } = capture()
    const payload = { user: { password: 'pw' }, list: [{ token: 't' }], plain: 'ok' }
    const before = structuredClone(payload)
    const user = payload.user
    logger.root.info(payload, 'x')
    expect(payload).toEqual(before)
    expect(payload.user).toBe(user)
  })

  it('redacts secrets nested deeper than a dozen levels', () => {
    const { logger, logs } = capture()
    let deep: Record<string, unknown> = { password: 'deep-secret-999' }
    for (let i = 0; i < 12; i++) deep = { level: deep }
    logger.root.info({ deep }, 'deep')
    expect(logs.lines).toHaveLength(1)
    expect(logs.text).not.toContain('deep-secret-999')
  })

  it('survives a cyclic object without leaking its secrets', () => {
    const { logger, logs } = capture()
    const node: Record<string, unknown> = { name: 'a', secret: 'cyc-secret-1' }
    node.self = node
    logger.root.info({ node }, 'cycle')
    expect(logs.lines).toHaveLength(1)
    expect(logs.text).not.toContain('cyc-secret-1')
    expect((logs.records[0]!.node as Record<string, unknown>).name).toBe('a')
  })

  it('redacts secrets an error carries as properties', () => {
    const { logger, logs } = capture()
    const error = Object.assign(new Error('upstream refused'), {
      request: { headers: { authorization: 'Bearer err-secret-1' } },
      password: 'err-secret-2',
    })
    logger.root.error({ err: error }, 'call failed')
    expect(logs.text).not.toContain('err-secret-1')
    expect(logs.text).not.toContain('err-secret-2')
    const err = logs.records[0]!.err as Record<string, unknown>
    expect(err.message).toBe('upstream refused')
    expect(err.request).toEqual({ headers: { authorization: REDACTED } })
  })

  it('redacts secrets in the cause of an error', () => {
    const { logger, logs } = capture()
    const cause = Object.assign(new Error('db said no'), { connection: { password: 'cause-secret-1' } })
    logger.root.error({ err: new Error('query failed', { cause }) }, 'x')
    expect(logs.text).toContain('db said no')
    expect(logs.text).not.toContain('cause-secret-1')
  })

  it('redacts secrets in child logger bindings', () => {
    const { logger, logs } = capture()
    logger.root.child({ tenant: 'acme', apiKey: 'bind-secret-1' }).info('from child')
    expect(logs.text).not.toContain('bind-secret-1')
    expect(logs.records[0]).toMatchObject({ tenant: 'acme', apiKey: REDACTED })
  })

  it('redacts the configured pino paths too', () => {
    const { logger, logs } = capture({ redact: ['body.card', 'customer.*.iban'] })
    logger.root.info(
      {
        body: { card: '4111-1111-1111-1111', amount: 10 },
        customer: { main: { iban: 'DE89370400440532013000', name: 'x' } },
      },
      'charge',
    )
    expect(logs.text).not.toContain('4111-1111-1111-1111')
    expect(logs.text).not.toContain('DE89370400440532013000')
    const record = logs.records[0]!
    expect(record.body).toEqual({ card: REDACTED, amount: 10 })
    expect(record.customer).toEqual({ main: { iban: REDACTED, name: 'x' } })
  })
})

describe('log destination', () => {
  it('writes JSON lines to a file destination, all of them by the time flush resolves', async () => {
    const file = join(tempDir(), 'app.log')
    const logger = createLogger({ level: 'info', format: 'json', destination: file, base: { service: 'f' } })
    logger.root.info({ n: 1 }, 'to file')
    for (let n = 2; n <= 200; n++) logger.root.info({ n }, 'more')
    await logger.flush()
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'to file', service: 'f', n: 1 })
    expect(lines.map((line) => (JSON.parse(line) as { n: number }).n)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    )
  })

  it('refuses a path under a directory that does not exist, naming the path', () => {
    const path = join(tempDir(), 'missing', 'app.log')
    const error = destinationError(path)
    expect(error.code).toBe('KEEL_LOG_DESTINATION')
    expect(error.message).toContain(`log.destination: cannot open "${path}" for writing`)
    expect(error.message).toContain('ENOENT')
  })

  it('refuses a directory, naming it', () => {
    const dir = tempDir()
    const error = destinationError(dir)
    expect(error.code).toBe('KEEL_LOG_DESTINATION')
    expect(error.message).toContain(`"${dir}"`)
    expect(error.message).toContain('EISDIR')
  })
})

describe('request context', () => {
  it('adds request_id, trace_id and span_id to every line inside the context', async () => {
    const { logger, logs } = capture()
    await runWithContext(
      { requestId: 'req-7', traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) },
      async () => {
        logger.root.info('before await')
        await new Promise((resolve) => setTimeout(resolve, 5))
        logger.module('orders').info('after await')
      },
    )
    logger.root.info('outside')
    const [before, after, outside] = logs.records
    for (const record of [before, after]) {
      expect(record).toMatchObject({ request_id: 'req-7', trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) })
    }
    expect(outside).toMatchObject({ msg: 'outside' })
    expect(outside).not.toHaveProperty('request_id')
    expect(outside).not.toHaveProperty('trace_id')
  })

  it('keeps concurrent requests apart', async () => {
    const { logger, logs } = capture()
    const request = (id: string, waitMs: number) =>
      runWithContext({ requestId: id, traceId: id.padEnd(32, '0') }, async () => {
        await new Promise((resolve) => setTimeout(resolve, waitMs))
        logger.root.info({ id }, 'done')
      })
    await Promise.all([request('r1', 15), request('r2', 1), request('r3', 8)])
    expect(logs.records).toHaveLength(3)
    for (const record of logs.records) {
      expect(record.request_id).toBe(record.id)
      expect(record.trace_id).toBe((record.id as string).padEnd(32, '0'))
    }
  })

  it('carries request_id alone when no trace is known', () => {
    const { logger, logs } = capture()
    runWithContext({ requestId: 'req-8' }, () => logger.root.info('x'))
    expect(logs.records[0]).toMatchObject({ request_id: 'req-8' })
    expect(logs.records[0]).not.toHaveProperty('trace_id')
  })
})

describe('parseLevelSpec', () => {
  it('reads the root level and per-module levels', () => {
    const spec = parseLevelSpec('warn, keel:http=debug ,orders=TRACE')
    expect(spec.level).toBe('warn')
    expect([...spec.modules]).toEqual([
      ['keel:http', 'debug'],
      ['orders', 'trace'],
    ])
  })

  it('defaults the root level to info', () => {
    expect(parseLevelSpec('keel:http=debug').level).toBe('info')
    expect(parseLevelSpec('').level).toBe('info')
  })
})

describe('levelSpecProblems', () => {
  it('accepts valid specs', () => {
    expect(levelSpecProblems('info')).toEqual([])
    expect(levelSpecProblems('silent,keel:http=debug,orders=fatal')).toEqual([])
  })

  it('names an unknown level and its module', () => {
    const problems = levelSpecProblems('info,keel:http=verbose')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('unknown level "verbose" for module keel:http')
  })

  it('names an unknown root level', () => {
    expect(levelSpecProblems('loud')[0]).toContain('unknown level "loud"')
  })

  it('names a missing module name', () => {
    expect(levelSpecProblems('info,=debug')[0]).toContain('"=debug" has no module name')
  })

  it('lists every problem at once', () => {
    expect(levelSpecProblems('loud,a=b,=c')).toHaveLength(3)
  })
})
