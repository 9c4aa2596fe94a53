import { KeelError } from '../errors/index.ts'
import type { CallOutcome } from './metrics.ts'
import { neverAborted, type Policy, type PolicyOptions } from './policy.ts'
import {
  checkInteger,
  checkOptionsObject,
  invalidOption,
  policyOptionKeys,
  resolvePolicyOptions,
} from './policy-options.ts'
import { addSpanEvent } from './span-event.ts'

/** Options of {@link bulkhead}. */
export interface BulkheadOptions extends PolicyOptions {
  /** Calls that may run at once; an integer >= 1. */
  concurrency: number
  /** Calls that may wait for a slot, first come first served. Default 0: refuse at once when full. */
  queue?: number
}

/** A bulkhead {@link Policy} with its current load. */
export interface BulkheadPolicy extends Policy {
  /** Calls running now. */
  readonly active: number
  /** Calls waiting for a slot now. */
  readonly queued: number
}

const knownKeys = ['concurrency', 'queue', ...policyOptionKeys]

/**
 * Limits how many calls run at once, so one slow dependency cannot take every connection,
 * socket or worker. Up to `concurrency` calls run; up to `queue` more wait in order; any further
 * call is refused at once with `KeelError` `KEEL_BULKHEAD_FULL` (status 503). A finishing call
 * hands its slot straight to the first waiter. A waiter whose signal aborts leaves the queue at
 * once and rejects with the signal's reason.
 *
 * Metrics (with a registry): `keel_bulkhead_active`, `keel_bulkhead_queued`,
 * `keel_bulkhead_rejected_total`, `keel_resilience_calls_total`. Span event: `keel.bulkhead.rejected`.
 *
 * @example
 * ```ts
 * const reports = bulkhead({ name: 'reports', concurrency: 4, queue: 20 })
 * const pdf = await reports.execute(({ signal }) => renderReport(id, { signal }), ctx.signal)
 * ```
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  checkOptionsObject('bulkhead', options, knownKeys)
  if (options.concurrency === undefined) throw invalidOption('bulkhead.concurrency', 'is required', undefined)
  checkInteger('bulkhead.concurrency', options.concurrency, 1)
  checkInteger('bulkhead.queue', options.queue, 0)
  const { name, metrics } = resolvePolicyOptions('bulkhead', options, 'bulkhead')
  const { concurrency, queue = 0 } = options
  const labels = { policy: name }
  const waiters: Array<() => void> = []
  let active = 0
  const count = (outcome: CallOutcome) => metrics?.calls.inc({ policy: name, outcome })
  metrics?.bulkheadActive.set(labels, 0)
  metrics?.bulkheadQueued.set(labels, 0)
  metrics?.bulkheadRejected.inc(labels, 0)

  const waitForSlot = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const admit = () => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const index = waiters.indexOf(admit)
        if (index < 0) return
        waiters.splice(index, 1)
        metrics?.bulkheadQueued.dec(labels)
        reject(signal.reason)
      }
      waiters.push(admit)
      metrics?.bulkheadQueued.inc(labels)
      signal.addEventListener('abort', onAbort, { once: true })
    })

  const release = () => {
    const next = waiters.shift()
    if (next) {
      // The slot passes to the waiter without ever looking free, so no newcomer can take it.
      metrics?.bulkheadQueued.dec(labels)
      next()
    } else {
      active--
      metrics?.bulkheadActive.dec(labels)
    }
  }

  return {
    name,
    get active() {
      return active
    },
    get queued() {
      return waiters.length
    },
    async execute(fn, signal = neverAborted) {
      if (signal.aborted) {
        count('aborted')
        throw signal.reason
      }
      if (active < concurrency) {
        active++
        metrics?.bulkheadActive.inc(labels)
      } else if (waiters.length < queue) {
        try {
          await waitForSlot(signal)
        } catch (reason) {
          count('aborted')
          throw reason
        }
      } else {
        count('rejected')
        metrics?.bulkheadRejected.inc(labels)
        addSpanEvent('keel.bulkhead.rejected', {
          'keel.policy': name,
          'keel.bulkhead.concurrency': concurrency,
          'keel.bulkhead.queue': queue,
        })
        throw new KeelError(
          'KEEL_BULKHEAD_FULL',
          `bulkhead "${name}" is full: ${concurrency} calls running and ${queue} waiting`,
          { status: 503 },
        )
      }
      try {
        const value = await fn({ attempt: 1, signal })
        count('success')
        return value
      } catch (error) {
        count(signal.aborted ? 'aborted' : 'failure')
        throw error
      } finally {
        release()
      }
    },
  }
}
