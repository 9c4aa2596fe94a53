import type { Exchange } from '../exchange.ts'
import type { Guard } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import { checkInteger, checkOptionsObject, invalidOption } from './guard-options.ts'

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** How long the handler (and the guards inside this one) may take, in milliseconds. */
  ms: number
}

/**
 * Gives the handler `ms` milliseconds. When they pass, `ctx.signal` is aborted (its `reason` is
 * the `KEEL_TIMEOUT` error) and, unless the response has started, the client gets a 504 problem
 * at once; whatever the handler returns or throws later is dropped. A handler that already
 * streams is not cut off: it sees the aborted signal and should end the response itself.
 *
 * Handlers stop abandoned work by passing `ctx.signal` on (`fetch(url, { signal: ctx.signal })`).
 * Per request it costs one timer.
 *
 * @example
 * ```ts
 * app.guard(timeout({ ms: 5_000 }))
 * app.get('/report', async (ctx) => (await fetch(reportUrl, { signal: ctx.signal })).json())
 * ```
 */
export function timeout(options: TimeoutOptions): Guard {
  checkOptionsObject('timeout', options)
  if (options.ms === undefined) throw invalidOption('timeout', 'ms', 'is required')
  // setTimeout's own ceiling (about 24.8 days); beyond it Node fires at once.
  checkInteger('timeout', 'ms', options.ms, 1, 2_147_483_647)
  const { ms } = options
  const message = `the handler did not answer within ${ms} ms`
  return {
    name: 'timeout',
    options: { ms },
    handle(ctx, next) {
      const answer = next()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const error = new HttpError(504, 'KEEL_TIMEOUT', message, { timeoutMs: ms })
          ;(ctx as Exchange).abort(error)
          if (!ctx.res.headersSent) reject(error)
        }, ms)
        Promise.resolve(answer).then(
          (body) => {
            clearTimeout(timer)
            resolve(body)
          },
          (error: unknown) => {
            clearTimeout(timer)
            reject(error)
          },
        )
      })
    },
  }
}
