import { closeSync, openSync } from 'node:fs'
import pino, { type DestinationStream, type Logger } from 'pino'
import pretty from 'pino-pretty'
import { KeelError } from '../errors/index.ts'
import { currentContext, currentSpanIds } from './context.ts'
import { type LevelSpec, parseLevelSpec } from './level-spec.ts'
import { REDACTED, redactDeep } from './redact.ts'

export type { Logger } from 'pino'

/** Options of {@link createLogger}; the `log` config section has the same shape. */
export interface LoggerOptions {
  /**
   * `info` or `info,keel:http=debug`. A module takes its own level, else that of the nearest
   * namespace before a `:` (`keel=debug` covers `keel:http`), else the first (root) level.
   */
  level: string
  format: 'auto' | 'json' | 'pretty'
  /** `stdout`, `stderr` or a file path. */
  destination: string
  /** Extra pino redact paths (`req.body.card`), on top of the well-known secret keys. */
  redact?: readonly string[]
  /** Fields on every line (`service`, `version`). */
  base?: Record<string, unknown>
  /** Whether `auto` may choose pretty output (false in the prod profile). */
  allowPretty?: boolean
  /** Write to this stream instead of `destination` (tests). */
  stream?: DestinationStream
}

/** A logger with per-module children and a flush for shutdown. */
export interface KeelLogger {
  readonly root: Logger
  /** A child logger for `name` (`keel:http`) at the level the spec gives that module. */
  module(name: string): Logger
  /** Writes out buffered lines; called on shutdown. */
  flush(): Promise<void>
}

/**
 * Creates the app's pino logger: JSON lines (or pretty output on a terminal in development),
 * the request context (`request_id`, `trace_id`) on every line written inside a request, and
 * well-known secrets redacted at any depth.
 *
 * @throws KeelError `KEEL_LOG_DESTINATION` when a file destination cannot be opened.
 */
export function createLogger(options: LoggerOptions): KeelLogger {
  const spec = parseLevelSpec(options.level)
  const stream = options.stream ?? openDestination(options)
  const root = pino(
    {
      level: lowest(spec.level, [...spec.modules.values()]),
      base: options.base ?? {},
      timestamp: isoTime,
      messageKey: 'msg',
      redact: options.redact?.length ? { paths: [...options.redact], censor: REDACTED } : undefined,
      formatters: {
        level: (label) => ({ level: label }),
        log: redactLogObject,
        bindings: (bindings) => redactDeep(bindings) as Record<string, unknown>,
      },
      mixin: contextFields,
      serializers: { err: (error) => redactDeep(pino.stdSerializers.err(error)) },
    },
    stream,
  )
  // pino runs formatters.bindings for the root only; children's bindings are redacted here.
  // Children inherit this `child` from the root, so grandchildren are covered too.
  const child = root.child
  root.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactDeep(bindings) as typeof bindings, childOptions)
  } as typeof root.child
  // The root carries the lowest level any module needs; the app-level logger uses the spec's level.
  const app = root.child({}, { level: spec.level })
  const modules = new Map<string, Logger>()
  return {
    root: app,
    module(name) {
      let logger = modules.get(name)
      if (!logger) {
        logger = root.child({ module: name }, { level: moduleLevel(spec, name) })
        modules.set(name, logger)
      }
      return logger
    },
    flush() {
      return settle(stream)
    },
  }
}

/** What {@link settle} reads of a sonic-boom destination. */
interface SonicBoomLike {
  _writing?: boolean
  _len?: number
  minLength?: number
  flush?: (cb: (error?: Error) => void) => void
  once(event: 'drain', listener: () => void): unknown
}

/**
 * Resolves once every line handed to the stream is written, in order. sonic-boom's
 * `flush(cb)` returns at once when `minLength` is 0 (the stdout case) even while a write is in
 * flight, and `flushSync` (pino's exit hook) would then write queued lines ahead of that write;
 * so a write in flight is awaited through its 'drain' event. sonic-boom has no public "is
 * writing" flag, hence the read of `_writing`. Bounded at 2 s.
 */
function settle(destination: unknown): Promise<void> {
  const stream = destination as SonicBoomLike
  if (typeof stream.flush !== 'function') return Promise.resolve()
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    try {
      if (stream._writing) stream.once('drain', done)
      else if ((stream.minLength ?? 0) > 0 && (stream._len ?? 0) > 0) stream.flush?.((_error) => done())
      else done()
    } catch {
      // A stream that is not ready yet (or already closed) has nothing to flush.
      done()
    }
  })
}

/**
 * Redacts a log call's object. `err` stays an Error here so pino's serializer still sees it
 * (that serializer redacts what the error carries); every other field is redacted now.
 */
function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  if (!(object.err instanceof Error)) return redactDeep(object) as Record<string, unknown>
  const { err, ...rest } = object
  const redacted = redactDeep(rest)
  return redacted === rest ? object : { ...(redacted as Record<string, unknown>), err }
}

/** The level for a module: its own, else the nearest namespace's (`keel` for `keel:http`), else the root. */
function moduleLevel(spec: LevelSpec, name: string): string {
  let candidate = name.toLowerCase()
  for (;;) {
    const level = spec.modules.get(candidate)
    if (level) return level
    const colon = candidate.lastIndexOf(':')
    if (colon === -1) return spec.level
    candidate = candidate.slice(0, colon)
  }
}

let lastTimeMs = 0
let lastTime = ''
/**
 * pino's `isoTime`, formatted once per millisecond: under load many lines share one, and
 * `toISOString()` was the largest cost of writing an access-log line.
 */
function isoTime(): string {
  const now = Date.now()
  if (now !== lastTimeMs) {
    lastTimeMs = now
    lastTime = `,"time":"${new Date(now).toISOString()}"`
  }
  return lastTime
}

function contextFields(): Record<string, unknown> {
  const context = currentContext()
  if (!context) {
    const span = currentSpanIds()
    return span ? { trace_id: span.traceId, span_id: span.spanId } : {}
  }
  return context.traceId
    ? { request_id: context.requestId, trace_id: context.traceId, span_id: context.spanId }
    : { request_id: context.requestId }
}

const order = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
const lowest = (level: string, others: string[]) =>
  others.reduce((low, l) => (order.indexOf(l) < order.indexOf(low) ? l : low), level)

function openDestination(options: LoggerOptions): DestinationStream {
  const { destination } = options
  const usePretty =
    options.format === 'pretty' ||
    (options.format === 'auto' &&
      options.allowPretty !== false &&
      destination === 'stdout' &&
      process.stdout.isTTY)
  if (destination === 'stdout' || destination === 'stderr') {
    const fd = destination === 'stdout' ? 1 : 2
    if (usePretty) return pretty({ destination: fd, sync: true, colorize: process.stdout.isTTY })
    return pino.destination({ fd, sync: false, minLength: 0 })
  }
  let fd: number
  try {
    fd = openSync(destination, 'a')
  } catch (error) {
    throw new KeelError(
      'KEEL_LOG_DESTINATION',
      `log.destination: cannot open "${destination}" for writing: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    )
  }
  if (usePretty) {
    closeSync(fd)
    return pretty({ destination, sync: true, colorize: false })
  }
  // Synchronous, as fastify's logger.file: a line is one write(2) to the page cache. Buffered
  // asynchronous writes (sonic-boom's sync: false) went through the thread pool with the line
  // buffer growing between writes, and the POST bench's p99 rose from 25 to 147 ms with fewer
  // requests served (bench/README.md). A file on a disk that blocks would block the loop: log to
  // stdout (asynchronous) there.
  return pino.destination({ fd, sync: true })
}
