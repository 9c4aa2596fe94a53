import { KeelError } from '../errors/index.ts'
import type { CallOutcome } from './metrics.ts'
import { neverAborted, type Policy, type PolicyContext, type PolicyOptions } from './policy.ts'
import { checkInteger, checkOptionsObject, policyOptionKeys, resolvePolicyOptions } from './policy-options.ts'
import { addSpanEvent } from './span-event.ts'

// setTimeout fires at once for anything longer (it holds a signed 32-bit int).
const maxTimerMs = 2 ** 31 - 1

/**
 * Bounds the time of a call. At the deadline the signal handed to `fn` aborts, with the
 * `KeelError` `KEEL_POLICY_TIMEOUT` (status 504) as its reason, and the call rejects with that
 * error at once, whether or not `fn` heeds the signal: a late result is dropped. When the
 * caller's signal aborts first, `fn`'s signal aborts with the caller's reason and the call
 * rejects with it at once too.
 *
 * The signal is not aborted when `fn` returns in time, so a returned stream stays readable.
 *
 * Metrics (with a registry): `keel_resilience_timeouts_total`, `keel_resilience_calls_total`.
 * Span event: `keel.timeout`.
 *
 * @example
 * ```ts
 * const twoSeconds = timeout(2_000, { name: 'inventory' })
 * const stock = await twoSeconds.execute(({ signal }) => fetch(`${inventory}/stock/42`, { signal }))
 * ```
 */
export function timeout(ms: number, options: PolicyOptions = {}): Policy {
  if (ms === undefined) throw new RangeError('timeout.ms is required (got undefined)')
  checkInteger('timeout.ms', ms, 1, maxTimerMs)
  checkOptionsObject('timeout', options, policyOptionKeys)
  const { name, clock, metrics } = resolvePolicyOptions('timeout', options, 'timeout')
  metrics?.timeouts.inc({ policy: name }, 0)
  const count = (outcome: CallOutcome) => metrics?.calls.inc({ policy: name, outcome })

  return {
    name,
    execute<T>(fn: (ctx: PolicyContext) => T | Promise<T>, signal = neverAborted): Promise<T> {
      if (signal.aborted) {
        count('aborted')
        return Promise.reject(signal.reason)
      }
      return new Promise<T>((resolve, reject) => {
        const controller = new AbortController()
        const deadline = new AbortController()
        let isSettled = false
        const settle = (outcome: CallOutcome) => {
          if (isSettled) return false
          isSettled = true
          count(outcome)
          deadline.abort()
          signal.removeEventListener('abort', onCallerAbort)
          return true
        }
        const onCallerAbort = () => {
          if (settle('aborted')) reject(signal.reason)
          controller.abort(signal.reason)
        }
        signal.addEventListener('abort', onCallerAbort, { once: true })
        clock.sleep(ms, deadline.signal).then(
          () => {
            if (isSettled) return
            const message = `timeout "${name}": no result within ${ms} ms`
            const error = new KeelError('KEEL_POLICY_TIMEOUT', message, { status: 504 })
            metrics?.timeouts.inc({ policy: name })
            addSpanEvent('keel.timeout', { 'keel.policy': name, 'keel.timeout.ms': ms })
            settle('timeout')
            reject(error)
            controller.abort(error)
          },
          () => {}, // the call settled first and cancelled the deadline
        )
        new Promise<T>((run) => run(fn({ attempt: 1, signal: controller.signal }))).then(
          (value) => {
            if (settle('success')) resolve(value)
          },
          (error: unknown) => {
            if (settle('failure')) reject(error)
          },
        )
      })
    },
  }
}
