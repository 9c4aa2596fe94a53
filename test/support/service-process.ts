import { type ChildProcess, spawn } from 'node:child_process'
import { type Agent, request } from 'node:http'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { pathToFileURL } from 'node:url'

/** The tsx loader as a file URL, so `--import` works whatever the child's working directory. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** Variables that would change a service's config; a child starts without any of them. */
const configVariable =
  /^(KEEL_.*|PORT|LOG_LEVEL|DATABASE_URL|REDIS_URL|NATS_URL|OTEL_.*|NODE_OPTIONS|NODE_ENV)$/

/** How a child process ended. */
export interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
  /** `Date.now()` when it exited. */
  at: number
}

/** A JSON log line the child wrote on stdout. */
export type LogRecord = Record<string, unknown> & { msg?: string; level?: string; time?: string }

/** A service running as a child process, with its output collected for assertions. */
export class ServiceProcess {
  readonly child: ChildProcess
  /** Every stdout line. */
  readonly lines: string[] = []
  /** The stdout lines that parse as JSON objects (the log). */
  readonly records: LogRecord[] = []
  #stderr = ''
  #stdoutRest = ''
  #exit: ExitStatus | undefined
  readonly exited: Promise<ExitStatus>
  readonly #waiters = new Set<() => void>()

  constructor(child: ChildProcess) {
    this.child = child
    child.stdout?.setEncoding('utf8')
    child.stderr?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => this.#onStdout(chunk))
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr += chunk
    })
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit') so that all output has been read when it resolves.
      child.once('close', (code, signal) => {
        if (this.#stdoutRest) this.#onStdout('\n')
        this.#exit = { code, signal, at: Date.now() }
        resolve(this.#exit)
        this.#notify()
      })
    })
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the child process did not start')
    return this.child.pid
  }

  get stderr(): string {
    return this.#stderr
  }

  /** Set once the process exited and its output was read. */
  get exit(): ExitStatus | undefined {
    return this.#exit
  }

  /** All of stdout and stderr, for failure messages. */
  get output(): string {
    return `--- stdout\n${this.lines.join('\n')}\n--- stderr\n${this.#stderr}`
  }

  /** Sends `signal` to this child (by its PID) if it is still running. */
  signal(signal: NodeJS.Signals): void {
    if (!this.#exit && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
  }

  /** The first log record matching `predicate`, waiting up to `timeoutMs` (rejects if the child exits first). */
  async waitForRecord(predicate: (record: LogRecord) => boolean, timeoutMs = 10_000): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.records.find(predicate)
      if (found) return found
      if (this.#exit) throw new Error(`the service exited (${this.#exit.code}) first\n${this.output}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching log line within ${timeoutMs} ms\n${this.output}`)
      await this.#changed(left)
    }
  }

  /** Waits for the exit, up to `timeoutMs`; rejects if the child is still running then. */
  async waitForExit(timeoutMs: number): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the service did not exit within ${timeoutMs} ms\n${this.output}`)),
        timeoutMs,
      )
    })
    try {
      return await Promise.race([this.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Kills the child (SIGKILL, by PID) unless it already exited, and waits for it. For cleanup. */
  async kill(): Promise<void> {
    if (this.#exit) return
    this.signal('SIGKILL')
    await this.waitForExit(5000)
  }

  #onStdout(chunk: string): void {
    const text = this.#stdoutRest + chunk
    const parts = text.split('\n')
    this.#stdoutRest = parts.pop() ?? ''
    for (const line of parts) {
      if (!line) continue
      this.lines.push(line)
      try {
        const record = JSON.parse(line) as unknown
        if (record && typeof record === 'object') this.records.push(record as LogRecord)
      } catch {
        // Not a log line (a stray console.log); kept in `lines` only.
      }
    }
    this.#notify()
  }

  #notify(): void {
    for (const wake of this.#waiters) wake()
    this.#waiters.clear()
  }

  #changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      const self = this
      function done() {
        clearTimeout(timer)
        self.#waiters.delete(done)
        resolve()
      }
      this.#waiters.add(done)
    })
  }
}

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /** Working directory of the child (the service root for apps that use `createApp()`). */
  cwd?: string
  /** Extra environment; the child gets the test's environment minus any config variables. */
  env?: Record<string, string>
}

/**
 * Runs `entry` (a TypeScript main file) as `node --conditions=source --import tsx entry`, the way
 * a user runs a Keel service, with stdout (JSON log lines) and stderr collected.
 */
export function startService(entry: string, options: StartServiceOptions = {}): ServiceProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', tsxLoader, entry], {
    cwd: options.cwd,
    env: { ...cleanEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new ServiceProcess(child)
}

/** The test's environment without variables that would change a child's config. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !configVariable.test(name)) env[name] = value
  }
  return env
}

/** A response read to its end. */
export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  /** Whether the request went out on a kept-alive socket that an earlier request used. */
  reusedSocket: boolean
}

/** Options of {@link httpGet}. */
export interface HttpGetOptions {
  /** A keep-alive agent; default: a fresh connection that closes after the response. */
  agent?: Agent
  headers?: Record<string, string>
  timeoutMs?: number
  /** Called with the socket the request goes out on. */
  onSocket?: (socket: Socket) => void
}

/** A failed request: the socket error, with whether it happened on a reused keep-alive socket. */
export type HttpError = NodeJS.ErrnoException & { reusedSocket?: boolean }

/** GET http://127.0.0.1:port/path, read to the end; rejects with the socket error (code kept). */
export function httpGet(port: number, path: string, options: HttpGetOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: options.agent ?? false,
        headers: options.agent ? options.headers : { connection: 'close', ...options.headers },
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => {
          if (!res.complete) return reject(new Error('response ended before it was complete'))
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reusedSocket: req.reusedSocket })
        })
        res.on('error', reject)
      },
    )
    if (options.onSocket) req.once('socket', options.onSocket)
    req.on('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs ?? 5000} ms`)))
    req.on('error', (error: HttpError) => {
      error.reusedSocket = req.reusedSocket
      reject(error)
    })
    req.end()
  })
}

/** Polls GET /ready until it answers 200; rejects when the service exits or `timeoutMs` passes. */
export async function waitForReady(service: ServiceProcess, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (service.exit)
      throw new Error(`the service exited (${service.exit.code}) before it was ready\n${service.output}`)
    try {
      const response = await httpGet(port, '/ready', { timeoutMs: 1000 })
      if (response.status === 200) return
      last = `${response.status} ${response.body}`
    } catch (error) {
      last = String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`/ready did not answer 200 within ${timeoutMs} ms (last: ${last})\n${service.output}`)
}

/** The stderr lines that look like stack frames (`    at fn (file:1:2)`). */
export const stackFrames = (text: string): string[] => text.split('\n').filter((line) => /^\s+at /.test(line))
