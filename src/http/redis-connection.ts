import type { Redis } from 'ioredis'
import { redactUrl } from '../log/index.ts'

/** Options of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  readonly url: string
  /** How long a command may take; the first connection may take max(timeoutMs, 1000) ms. */
  readonly timeoutMs: number
  /** Names the owner in errors: `the Redis rate limit store is closed`. */
  readonly what: string
  /** The owning class, named by the error for a bad URL. */
  readonly owner: string
  /** Lua scripts to define as commands, by name, each taking one key. */
  readonly scripts: Readonly<Record<string, string>>
}

/** A function, so that TypeScript re-reads `status` after an await. */
const isReady = (client: Redis): boolean => client.status === 'ready'

/**
 * One lazily opened ioredis client that fails fast: while Redis is unreachable, commands fail at
 * once instead of queueing (a request must never wait on a store that may be down), and the client
 * reconnects in the background. `ioredis` is imported on first use, so apps that never touch Redis
 * never load it. The rate-limit store and the resource answer cache share it.
 */
export class RedisConnection<C extends Redis = Redis> {
  readonly url: string
  readonly #options: RedisConnectionOptions
  #client: Promise<C> | undefined
  /** Settles when the first connection attempt ends, either way. */
  #firstAttempt: Promise<void> | undefined
  #isClosed = false
  /** The last connection error, for the message of a failed command. */
  #lastError: string | undefined

  constructor(options: RedisConnectionOptions) {
    if (typeof options?.url !== 'string' || !/^rediss?:\/\//.test(options.url))
      throw new TypeError(
        `${options?.owner}: url must be a redis:// or rediss:// URL, got ${JSON.stringify(options?.url)}`,
      )
    this.url = options.url
    this.#options = options
  }

  /** The connected client; throws at once when closed or not connected (after the first attempt). */
  async ready(): Promise<C> {
    if (this.#isClosed) throw new Error(`the ${this.#options.what} is closed`)
    this.#client ??= this.#connect()
    const client = await this.#client
    if (!isReady(client)) {
      await this.#firstAttempt
      if (!isReady(client))
        throw new Error(
          `Redis at ${redactUrl(this.url)} is not connected (${client.status}${this.#lastError ? `, last error ${this.#lastError}` : ''})`,
        )
    }
    return client
  }

  /** Opens the connection now and says whether it is up; never throws. */
  async connect(): Promise<boolean> {
    if (this.#isClosed) return false
    this.#client ??= this.#connect()
    const client = await this.#client
    await this.#firstAttempt
    return isReady(client)
  }

  async close(): Promise<void> {
    this.#isClosed = true
    const pending = this.#client
    this.#client = undefined
    if (!pending) return
    const client = await pending.catch(() => undefined)
    if (!client) return
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
    else client.disconnect()
  }

  async #connect(): Promise<C> {
    const { Redis } = await import('ioredis')
    const timeoutMs = this.#options.timeoutMs
    const client = new Redis(this.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      lazyConnect: false,
    }) as C
    for (const [name, lua] of Object.entries(this.#options.scripts)) {
      client.defineCommand(name, { numberOfKeys: 1, lua })
    }
    // Errors surface on the commands that meet them; an 'error' event without a listener would crash.
    client.on('error', (error: NodeJS.ErrnoException) => {
      this.#lastError = error.code ?? error.message
    })
    this.#firstAttempt = new Promise<void>((resolve) => {
      const done = () => {
        client.off('ready', done)
        client.off('close', done)
        resolve()
      }
      client.once('ready', done)
      client.once('close', done)
    })
    return client
  }
}
